"""The manifest of processed inputs: hashing, skipping unchanged files, batches, idempotent reruns."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
import pytest
from apache_beam.io.filesystems import FileSystems

from pipeline import manifest
from tests.conftest import SEEDS, run_cli

SEED_FILES = sorted(SEEDS.glob("*.txt"))
FAST = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]


@pytest.mark.parametrize("pattern, output, date, expected", [
    ("/land/{date}/*.txt", "/out", "2026-11-22", ("/land/2026-11-22/*.txt", "/out/date=2026-11-22")),
    ("/land/{year}/{month}/{day}/*", "/out/{year}/{month}/{day}/", "2026-01-05",
     ("/land/2026/01/05/*", "/out/2026/01/05")),
    ("gs://b/land/dt={date}/*", "gs://b/out/dt={date}", "2024-02-29", ("gs://b/land/dt=2024-02-29/*", "gs://b/out/dt=2024-02-29")),
    ("/land/*.txt", "/out/", None, ("/land/*.txt", "/out")),
])
def test_manifest_partition_paths_fill_placeholders(pattern, output, date, expected):
    assert manifest.partition_paths(pattern, output, date) == expected


@pytest.mark.parametrize("pattern, output, date, message", [
    ("/land/{date}/*", "/out", None, "no --date"),
    ("/land/*", "/out/{date}", None, "no --date"),
    ("/land/{date}/*", "/out", "2026-02-30", "YYYY-MM-DD"),
    ("/land/{date}/*", "/out", "22/11/2026", "YYYY-MM-DD"),
    ("/land/{date}/*", "/out", "2026-11-2", "YYYY-MM-DD"),
])
def test_manifest_partition_paths_refuse_bad_dates(pattern, output, date, message):
    with pytest.raises(ValueError, match=message):
        manifest.partition_paths(pattern, output, date)


def test_manifest_pending_finds_new_changed_and_reconfigured_files(tmp_path):
    land = tmp_path / "land"
    land.mkdir()
    for seed in SEED_FILES[:3]:
        shutil.copy(seed, land / seed.name)
    files = manifest.scan(str(land / "*.txt"))
    assert [Path(f.path).name for f in files] == [seed.name for seed in SEED_FILES[:3]]
    assert all(len(f.sha256) == 64 and f.size == (land / Path(f.path).name).stat().st_size for f in files)
    state = {"version": manifest.MANIFEST_VERSION, "files": {}}
    assert manifest.pending(files, state, "cfg") == files
    out = tmp_path / "out"
    out.mkdir()
    manifest.record(str(out), state, files, "cfg", "batch-000001")
    assert manifest.pending(manifest.scan(str(land / "*.txt"), state["files"]), state, "cfg") == []

    # Same size, different bytes (a corrected typo): found by the content hash.
    changed = land / SEED_FILES[0].name
    data = bytearray(changed.read_bytes())
    data[10:11] = b"Z" if data[10:11] != b"Z" else b"Y"
    changed.write_bytes(bytes(data))
    os.utime(changed, (1, 1))
    shutil.copy(SEED_FILES[3], land / SEED_FILES[3].name)
    todo = manifest.pending(manifest.scan(str(land / "*.txt"), load := manifest.load(str(out))["files"]),
                            {"files": load}, "cfg")
    assert [Path(f.path).name for f in todo] == [SEED_FILES[0].name, SEED_FILES[3].name]
    # Another configuration makes every file pending again: its records would differ.
    rescanned = manifest.scan(str(land / "*.txt"))
    assert len(manifest.pending(rescanned, {"files": load}, "other-cfg")) == 4


def test_manifest_written_sorted_and_batches_numbered(tmp_path):
    state = {"version": manifest.MANIFEST_VERSION, "files": {}}
    assert manifest.next_batch(state) == "batch-000001"
    files = [manifest.InputFile("/l/b.txt", 3, "0" * 64, 1.0), manifest.InputFile("/l/a.txt", 2, "1" * 64, 1.0)]
    manifest.record(str(tmp_path), state, files, "cfg", "batch-000007")
    written = orjson.loads((tmp_path / manifest.MANIFEST).read_bytes())
    assert list(written["files"]) == ["/l/a.txt", "/l/b.txt"]
    assert written["files"]["/l/a.txt"] == {"size": 2, "sha256": "1" * 64, "mtime": 1.0, "config_hash": "cfg",
                                            "batch": "batch-000007"}
    assert manifest.next_batch(manifest.load(str(tmp_path))) == "batch-000008"


def test_manifest_exact_patterns_match_only_their_file(tmp_path):
    for name in ("a[1].txt", "a1.txt", "b*.txt", "bx.txt", "c?.txt", "cc.txt"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    files = [manifest.InputFile(str(tmp_path / name), 1, "", 0.0) for name in ("a[1].txt", "b*.txt", "c?.txt")]
    for item, pattern in zip(files, manifest.exact_patterns(files)):
        assert [m.path for m in FileSystems.match([pattern])[0].metadata_list] == [item.path]


def test_manifest_remove_orphans_keeps_named_batches(tmp_path):
    for name in ("batch-000001", "batch-000002", "batch-000003"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "records-00000-of-00001.jsonl").write_text("{}\n", encoding="utf-8")
    state = {"files": {"/l/a.txt": {"batch": "batch-000001"}, "/l/b.txt": {"batch": "batch-000002"}}}
    assert manifest.remove_orphans(str(tmp_path), state) == ["batch-000003"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch-000001", "batch-000002"]


def test_manifest_lock_refuses_a_second_writer(tmp_path):
    with manifest.output_lock(str(tmp_path)):
        with pytest.raises(manifest.LockedError):
            with manifest.output_lock(str(tmp_path)):
                pass


def _tree(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*"))
            if p.is_file() and p.name != ".newsbeam.lock"}


def _records(directory: Path) -> list[dict]:
    return [orjson.loads(line) for path in sorted(directory.glob("records-*.jsonl"))
            for line in path.read_bytes().splitlines() if line]


def test_manifest_incremental_partition_skips_unchanged_and_reruns_idempotently(tmp_path, capsys, frozen_config):
    land = tmp_path / "landing" / "2026-11-22"
    land.mkdir(parents=True)
    for seed in SEED_FILES[:2]:
        shutil.copy(seed, land / seed.name)
    pattern = str(tmp_path / "landing" / "{date}" / "*.txt")
    out = tmp_path / "out"
    partition = out / "date=2026-11-22"

    assert run_cli(pattern, out, "--date", "2026-11-22", "--incremental", *FAST) == 0
    first = _records(partition / "batch-000001")
    assert sorted(Path(r["source"]).name for r in first) == [s.name for s in SEED_FILES[:2]]
    state = manifest.load(str(partition))
    assert {Path(p).name: e["batch"] for p, e in state["files"].items()} == {
        SEED_FILES[0].name: "batch-000001", SEED_FILES[1].name: "batch-000001"}
    before = _tree(out)

    # A rerun of the same partition with nothing new: no pipeline run, outputs untouched.
    capsys.readouterr()
    assert run_cli(pattern, out, "--date", "2026-11-22", "--incremental", *FAST) == 0
    assert "up to date" in capsys.readouterr().out
    assert _tree(out) == before

    # A new file in the growing folder: only it is processed, into the next batch.
    shutil.copy(SEED_FILES[2], land / SEED_FILES[2].name)
    (partition / "batch-000002").mkdir()  # left by a run killed after finalizing: not in the manifest
    (partition / "batch-000002" / "records-00000-of-00001.jsonl").write_text("{}\n", encoding="utf-8")
    assert run_cli(pattern, out, "--date", "2026-11-22", "--incremental", *FAST) == 0
    second = _records(partition / "batch-000002")
    assert [Path(r["source"]).name for r in second] == [SEED_FILES[2].name]
    assert _tree(partition / "batch-000001") == {k.removeprefix("date=2026-11-22/batch-000001/"): v
                                                 for k, v in before.items() if "batch-000001" in k}
    summary = orjson.loads((partition / "batch-000002" / "summary.json").read_bytes())
    assert summary["documents_in"] == 1 and summary["accounting"]["balanced"]
