"""``newsbeam watch``: files dropped into a landing folder become records; SIGTERM finishes the batch."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from pipeline import manifest
from pipeline.watch import StopFlag
from tests.conftest import ROOT, SEEDS

SEED_FILES = sorted(SEEDS.glob("*.txt"))
# Under load a batch of the full graph can take a minute or more on two shared cores.
PATIENCE = 600


def _drop(seed: Path, land: Path) -> None:
    """Land a file the way a well-behaved writer does: write aside, then rename into the folder."""
    partial = land / (seed.name + ".part")
    shutil.copy(seed, partial)
    os.rename(partial, land / seed.name)


def _wait(condition, what: str, process: subprocess.Popen) -> None:
    deadline = time.time() + PATIENCE
    while not condition():
        assert process.poll() is None, f"watcher exited early ({process.returncode}) waiting for {what}"
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _processed(output: Path) -> dict[str, str]:
    """File name -> batch folder, as the manifest says (empty before the first batch)."""
    if not (output / manifest.MANIFEST).exists():
        return {}
    return {Path(path).name: entry["batch"] for path, entry in manifest.load(str(output))["files"].items()}


def _record_sources(output: Path) -> list[str]:
    return sorted(Path(orjson.loads(line)["source"]).name for path in output.glob("batch-*/records-*.jsonl")
                  for line in path.read_bytes().splitlines() if line)


def test_watch_processes_dropped_files_and_stops_cleanly_on_sigterm(tmp_path):
    land, output = tmp_path / "landing", tmp_path / "out"
    land.mkdir()
    _drop(SEED_FILES[0], land)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "watch", "--input", str(land / "*.txt"), "--output", str(output),
         "--interval", "1", "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait(lambda: SEED_FILES[0].name in _processed(output), "the first file's batch", watcher)
        assert _record_sources(output) == [SEED_FILES[0].name]
        # Two more files while the watcher polls: the next batch takes them, and SIGTERM sent while
        # it runs lets it finish (outputs and manifest written whole) before the watcher exits 0.
        for seed in SEED_FILES[1:3]:
            _drop(seed, land)
        _wait(lambda: len(list(output.glob("batch-*"))) >= 2, "the second batch to start", watcher)
        watcher.send_signal(signal.SIGTERM)
        stdout, stderr = watcher.communicate(timeout=PATIENCE)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0, stderr[-2000:]
    assert stdout.splitlines()[-1].startswith("newsbeam: ok: watch stopped by SIGTERM after ")
    processed = _processed(output)
    names = [seed.name for seed in SEED_FILES[:3]]
    assert sorted(processed) == names
    # Every file the manifest names has its record in the batch it names, exactly once.
    assert _record_sources(output) == names
    for name, batch in processed.items():
        in_batch = [Path(orjson.loads(line)["source"]).name for path in (output / batch).glob("records-*.jsonl")
                    for line in path.read_bytes().splitlines() if line]
        assert name in in_batch
    assert not list(output.rglob(".staging-*")), "half-written output left behind"
    for batch in {batch for batch in processed.values()}:
        summary = orjson.loads((output / batch / "summary.json").read_bytes())
        assert summary["accounting"]["balanced"]


def test_watch_stop_flag_is_set_by_sigterm_and_sigint():
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        for signum in (signal.SIGTERM, signal.SIGINT):
            flag = StopFlag()
            flag.install()
            assert not flag.stopped and not flag.wait(0.01)
            os.kill(os.getpid(), signum)
            assert flag.wait(5) and flag.signal_name == signal.Signals(signum).name
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@pytest.mark.parametrize("extra, message", [(["--interval", "0"], "--interval"), (["--max-files", "0"], "--max-files")])
def test_watch_refuses_bad_polling_settings(tmp_path, capsys, extra, message):
    from pipeline.cli import EXIT_USAGE, main

    assert main(["watch", "--input", str(tmp_path / "*.txt"), "--output", str(tmp_path / "out"), *extra]) == EXIT_USAGE
    assert message in capsys.readouterr().err
