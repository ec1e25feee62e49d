"""The manifest of processed inputs: which files (path, size, content hash) are already in the output.

``manifest.json`` lives in the output location. Incremental runs (``newsbeam run --incremental`` and
every batch of ``newsbeam watch``) process only the files that are new or changed since it was
written, each batch into its own ``batch-NNNNNN/`` folder; the manifest is rewritten only after a
batch's outputs are final, so it never names outputs that do not exist. A batch folder that the
manifest does not name was left by an interrupted run and is removed before the next batch, which
makes rerunning the same partition idempotent.

Works on every Beam filesystem (local, ``gs://``, ...). One writer per output location at a time:
local runs take a lock (``.newsbeam.lock``); on object stores the scheduler must not overlap runs.
"""

from __future__ import annotations

import dataclasses
import datetime
import fcntl
import hashlib
import posixpath
import re
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import orjson
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipeline.outputs import _join, _write_atomic

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
BATCH_PREFIX = "batch-"
_BATCH_NAME = re.compile(r"^batch-(\d{6})$")
_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True, order=True)
class InputFile:
    """One input file as the manifest knows it."""

    path: str
    size: int
    sha256: str
    mtime: float


class LockedError(RuntimeError):
    """Another newsbeam process is writing to the same output directory."""


def content_hash(path: str) -> str:
    """SHA-256 of the file's bytes as stored (a .gz file is hashed compressed)."""
    digest = hashlib.sha256()
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def load(output: str) -> dict[str, Any]:
    """The manifest in ``output`` (an empty one when there is none yet)."""
    path = _join(output, MANIFEST)
    if not FileSystems.exists(path):
        return {"version": MANIFEST_VERSION, "files": {}}
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        manifest = orjson.loads(handle.read())
    if manifest.get("version") != MANIFEST_VERSION:
        raise ValueError(f"{path}: manifest version {manifest.get('version')!r}, expected {MANIFEST_VERSION}")
    return manifest


def scan(pattern: str, known: dict[str, Any] | None = None) -> list[InputFile]:
    """Every file matching ``pattern``, sorted by path, with its content hash.

    A file whose path, size and modification time equal its manifest entry keeps the recorded hash
    (rsync's quick check), so polling a large landing folder does not re-read every file.
    """
    known = known or {}
    files = []
    for meta in sorted(FileSystems.match([pattern])[0].metadata_list, key=lambda m: m.path):
        mtime = float(meta.last_updated_in_seconds or 0.0)
        entry = known.get(meta.path)
        if entry and entry["size"] == meta.size_in_bytes and entry["mtime"] == mtime:
            digest = entry["sha256"]
        else:
            digest = content_hash(meta.path)
        files.append(InputFile(meta.path, meta.size_in_bytes, digest, mtime))
    return files


def pending(files: list[InputFile], manifest: dict[str, Any], config_hash: str) -> list[InputFile]:
    """The files that are new, changed, or were processed under a different configuration."""
    recorded = manifest["files"]
    return [f for f in files
            if (entry := recorded.get(f.path)) is None
            or (entry["size"], entry["sha256"], entry["config_hash"]) != (f.size, f.sha256, config_hash)]


def next_batch(manifest: dict[str, Any]) -> str:
    """The folder name of the next batch: one more than the highest batch the manifest names."""
    numbers = [int(match.group(1)) for entry in manifest["files"].values()
               if (match := _BATCH_NAME.match(entry["batch"]))]
    return f"{BATCH_PREFIX}{max(numbers, default=0) + 1:06d}"


def remove_orphans(output: str, manifest: dict[str, Any]) -> list[str]:
    """Delete batch folders the manifest does not name (left by a run killed after finalizing)."""
    named = {entry["batch"] for entry in manifest["files"].values()}
    found = {posixpath.basename(posixpath.dirname(meta.path))
             for meta in FileSystems.match([_join(output, f"{BATCH_PREFIX}*/*")])[0].metadata_list}
    orphans = sorted(name for name in found if _BATCH_NAME.match(name) and name not in named)
    for name in orphans:
        # Object stores delete a "folder" as the prefix ending in "/"; local paths as the directory.
        FileSystems.delete([_join(output, name) + ("/" if "://" in output else "")])
    return orphans


def record(output: str, manifest: dict[str, Any], files: list[InputFile], config_hash: str, batch: str) -> None:
    """Add ``files`` (processed into ``batch``) to the manifest and write it atomically, sorted by path."""
    for item in files:
        manifest["files"][item.path] = {"size": item.size, "sha256": item.sha256, "mtime": item.mtime,
                                        "config_hash": config_hash, "batch": batch}
    manifest["files"] = dict(sorted(manifest["files"].items()))
    _write_atomic(_join(output, MANIFEST), orjson.dumps(manifest, option=orjson.OPT_INDENT_2))


@contextmanager
def output_lock(output: str) -> Iterator[None]:
    """Hold an exclusive lock on a local output directory; a second writer fails at once."""
    if "://" in output:
        yield  # object stores have no locks: the scheduler must not overlap runs (see docs/runners.md)
        return
    with open(posixpath.join(output, ".newsbeam.lock"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(f"{output} is being written by another newsbeam process") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_PLACEHOLDER = re.compile(r"\{(date|year|month|day)\}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def partition_paths(pattern: str, output: str, date: str | None) -> tuple[str, str]:
    """``--input`` and ``--output`` for the partition ``date`` (YYYY-MM-DD), placeholders filled in.

    ``{date}``, ``{year}``, ``{month}`` and ``{day}`` are replaced in both paths; an output without a
    placeholder gets the usual ``date=YYYY-MM-DD`` partition folder.
    """
    output = output.rstrip("/") or "/"
    if date is None:
        for path in (pattern, output):
            if _PLACEHOLDER.search(path):
                raise ValueError(f"{path!r} has a {{date}}-style placeholder but no --date was given")
        return pattern, output
    try:
        if not _ISO_DATE.match(date):
            raise ValueError
        day = datetime.date.fromisoformat(date)
    except ValueError:
        raise ValueError(f"--date {date!r} is not a date in the form YYYY-MM-DD") from None
    values = {"date": day.isoformat(), "year": f"{day.year:04d}", "month": f"{day.month:02d}",
              "day": f"{day.day:02d}"}

    def fill(path: str) -> str:
        return _PLACEHOLDER.sub(lambda match: values[match.group(1)], path)

    partition = fill(output) if _PLACEHOLDER.search(output) else _join(output, f"date={values['date']}")
    return fill(pattern), partition


def exact_patterns(files: list[InputFile]) -> list[str]:
    """Match patterns that each match exactly one of ``files`` (glob characters in names escaped)."""
    return [re.sub(r"([*?\[])", r"[\1]", item.path) for item in files]


Execute = Callable[[list[str], str, str], dict[str, Any]]


def run_incremental(pattern: str, output: str, config_hash: str, max_files: int | None,
                    execute: Execute) -> tuple[str, dict[str, Any]] | None:
    """Run one batch over the files new or changed since the manifest; None when there are none.

    Returns the batch folder and its summary. ``execute(patterns, output, label)`` is one ordinary
    batch run of the pipeline (``pipeline.cli.execute``).
    """
    state = load(output)
    remove_orphans(output, state)
    todo = pending(scan(pattern, state["files"]), state, config_hash)[:max_files]
    if not todo:
        return None
    batch = next_batch(state)
    batch_dir = _join(output, batch)
    summary = execute(exact_patterns(todo), batch_dir, pattern)
    record(output, state, todo, config_hash, batch)
    return batch_dir, summary
