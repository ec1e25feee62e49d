"""The local runner's process settings (pipeline/runners.py, pipeline/worker.py): freed memory goes back
to the system, workers tear finished stages down promptly, and the options' views are made once."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from pipeline.config import load_config
from pipeline.graph import build
from pipeline.runners import CachedViewOptions, make_runner, release_freed_memory
from pipeline.worker import IDLE_SECONDS

ROOT = Path(__file__).resolve().parents[1]

# What the local runner does between stages, in small: a large buffer is freed (which raises glibc's
# dynamic mmap threshold above 1 MB), then a stage's outputs arrive as 1 MB blocks with something
# still alive after them, and are freed. The child prints the MiB its resident size kept.
_KEPT_AFTER_FREE = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    if sys.argv[2] == "pin":
        from pipeline.runners import release_freed_memory
        assert release_freed_memory()

    def resident():
        return int(open("/proc/self/statm").read().split()[1]) * 4096

    buffer = bytearray(16 << 20)
    del buffer
    before = resident()
    outputs = [bytearray(1 << 20) for _ in range(200)]
    still_alive = bytearray(64 << 10)
    del outputs
    print((resident() - before) >> 20)
""")


def _kept_mib(mode: str, env: dict[str, str]) -> int:
    done = subprocess.run([sys.executable, "-c", _KEPT_AFTER_FREE, str(ROOT), mode], env=env,
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


@pytest.fixture
def clean_env(monkeypatch) -> dict[str, str]:
    for variable in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"):
        monkeypatch.setenv(variable, "")  # so that the variable's absence is restored afterwards
        monkeypatch.delenv(variable)
    return dict(os.environ)


def test_runners_freed_blocks_go_back_to_the_system_in_process_and_in_workers(clean_env):
    assert _kept_mib("leave", clean_env) > 150  # glibc's default: the freed blocks stay resident
    assert _kept_mib("pin", clean_env) < 20  # mallopt in the runner's own process
    assert release_freed_memory()
    assert os.environ["MALLOC_MMAP_THRESHOLD_"] == os.environ["MALLOC_TRIM_THRESHOLD_"] == str(128 * 1024)
    assert _kept_mib("leave", dict(os.environ)) < 20  # a worker process started by the runner inherits it


def test_runners_release_freed_memory_leaves_a_users_own_threshold(clean_env, monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    release_freed_memory()
    assert os.environ["MALLOC_MMAP_THRESHOLD_"] == "65536"
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == str(128 * 1024)


def test_runners_cached_view_options_make_each_view_once_and_share_values():
    options = CachedViewOptions(["--direct_num_workers=2", "--runner=direct"])
    assert options.view_as(DirectOptions) is options.view_as(DirectOptions)
    options.view_as(DirectOptions).direct_num_workers = 1
    assert options.view_as(DirectOptions).direct_num_workers == 1
    assert options.get_all_options()["direct_num_workers"] == 1
    # Beam's Pipeline deep-copies its options: the copy's views write to the copy's values only.
    copied = copy.deepcopy(options)
    copied.view_as(StandardOptions).runner = "FlinkRunner"
    assert copied.get_all_options()["runner"] == "FlinkRunner"
    assert options.view_as(StandardOptions).runner == "direct"


def test_runners_cached_view_options_build_the_graph_plain_options_build(tmp_path):
    def graph(options: PipelineOptions) -> tuple[list[str], dict]:
        root = beam.Pipeline(options=options)
        build(root, str(tmp_path / "*.txt"), str(tmp_path / "out"), load_config(), {"config_hash": "test"})
        proto = root.to_runner_api()
        return (sorted(transform.unique_name for transform in proto.components.transforms.values()),
                root.options.get_all_options())

    args = ["--runner=FnApiRunner", "--no_pipeline_type_check"]
    plain, cached = graph(PipelineOptions(args)), graph(CachedViewOptions(args))
    assert len(plain[0]) > 300
    assert cached == plain
    assert cached[1]["pipeline_type_check"] is False


def _worker_settings(_: Any) -> tuple[int, float]:
    from apache_beam.runners.worker import sdk_worker
    return os.getpid(), sdk_worker.DEFAULT_BUNDLE_PROCESSOR_CACHE_SHUTDOWN_THRESHOLD_S


@pytest.mark.parametrize("mode", ["multi_processing", "in_memory"])
def test_runners_local_workers_tear_finished_stages_down_promptly(mode, tmp_path):
    options = CachedViewOptions(["--direct_num_workers=2" if mode == "multi_processing" else "--direct_num_workers=1",
                                 f"--direct_running_mode={mode}"])
    root = beam.Pipeline(runner=make_runner(options), options=options)
    found = root | "Create" >> beam.Create(range(8)) | "Report" >> beam.Map(_worker_settings)
    _ = found | "Write" >> beam.io.WriteToText(str(tmp_path / "settings"))
    root.run().wait_until_finish()
    settings = {tuple(float(value) for value in line.strip("()\n").split(", "))
                for path in tmp_path.glob("settings*") for line in path.open()}
    assert {threshold for _, threshold in settings} == {float(IDLE_SECONDS)}  # Beam's own is 60
    in_workers = {pid for pid, _ in settings} != {float(os.getpid())}
    assert in_workers == (mode == "multi_processing")
