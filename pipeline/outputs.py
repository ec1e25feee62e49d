"""After the pipeline: check the accounting, then put the outputs in place and write summary.json.

The graph writes into a staging folder inside the output directory; only a run whose counts add
up replaces the previous outputs, so a failed or killed run never leaves files that look complete
and a rerun never mixes with an older one. Works on every filesystem Beam supports.
"""

from __future__ import annotations

import posixpath
from typing import Any

import orjson
from apache_beam.io.filesystems import FileSystems

from transforms.summary import nest
from transforms.write import COUNTERS, RECORDS, REJECTED_FILES

OUTPUT_PREFIXES = (RECORDS, REJECTED_FILES)
SUMMARY = "summary.json"


class AccountingError(RuntimeError):
    """Documents read did not equal records plus rejected entries: something was lost."""


def _join(directory: str, name: str) -> str:
    return FileSystems.join(directory, name) if "://" in directory else posixpath.join(directory, name)


def _files(directory: str, prefix: str) -> list[str]:
    pattern = _join(directory, f"{prefix}-*.jsonl")
    return sorted(meta.path for match in FileSystems.match([pattern]) for meta in match.metadata_list)


def _lines(path: str) -> list[bytes]:
    with FileSystems.open(path) as handle:
        return [line for line in handle.read().split(b"\n") if line]


def _count_lines(path: str, chunk: int = 1 << 20) -> int:
    """Non-empty lines of a file written by the sink (every line ends in a newline, none is empty),
    read a chunk at a time: a run's records files are as large as the run."""
    count, last = 0, b"\n"
    with FileSystems.open(path) as handle:
        while data := handle.read(chunk):
            count += data.count(b"\n")
            last = data[-1:]
    return count + (last != b"\n")


def _write_atomic(path: str, data: bytes) -> None:
    temporary = path + ".tmp"
    with FileSystems.create(temporary) as handle:
        handle.write(data)
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([temporary], [path])


def finalize(staging: str, output: str, header: dict[str, Any]) -> dict[str, Any]:
    """Check the staged run's accounting, move its files into ``output`` and write the summary."""
    counters: dict[str, int] = {}
    for path in _files(staging, COUNTERS):
        for line in _lines(path):
            counters.update(orjson.loads(line))
    counted = {prefix: sum(map(_count_lines, _files(staging, prefix))) for prefix in OUTPUT_PREFIXES}
    summary = {**header, **nest(counters)}
    summary["accounting"] = {
        "documents_in": summary["documents_in"],
        "records_written": counted[RECORDS],
        "rejected_written": counted[REJECTED_FILES],
        "balanced": summary["documents_in"] == counted[RECORDS] + counted[REJECTED_FILES]
        and summary["records"] == counted[RECORDS] and summary["rejected"] == counted[REJECTED_FILES],
    }
    if not summary["accounting"]["balanced"]:
        raise AccountingError(
            f"documents in {summary['documents_in']} != records {counted[RECORDS]} + rejected "
            f"{counted[REJECTED_FILES]} (counted in the pipeline: {summary['records']} records, "
            f"{summary['rejected']} rejected); outputs left in {staging}")
    old = [path for prefix in OUTPUT_PREFIXES for path in _files(output, prefix)]
    if old:
        FileSystems.delete(old)
    staged = [path for prefix in OUTPUT_PREFIXES for path in _files(staging, prefix)]
    FileSystems.rename(staged, [_join(output, posixpath.basename(path)) for path in staged])
    _write_atomic(_join(output, SUMMARY), orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    FileSystems.delete([staging])
    return summary


def format_table(summary: dict[str, Any]) -> str:
    """A short human summary of a run for the end of a local run."""
    rows = [("documents in", summary["documents_in"]), ("records", summary["records"]),
            ("rejected", summary["rejected"])]
    for stage, reasons in sorted(summary.get("rejected_by", {}).items()):
        rows.extend((f"  {stage}: {reason}", count) for reason, count in sorted(reasons.items()))
    for section in ("removed", "repairs", "entities", "languages"):
        values = summary.get(section, {})
        total = sum(_total(value) for value in values.values())
        if values:
            rows.append((section, total))
    for relation, clusters in sorted(summary.get("clusters", {}).items()):
        rows.append((f"{relation} clusters", clusters["clusters"]))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)


def _total(value: Any) -> int:
    return sum(_total(item) for item in value.values()) if isinstance(value, dict) else int(value)
