"""Dask: the pipeline on a real ``dask.distributed`` cluster gives the same records as the local runner.

The test starts a scheduler and two worker processes on loopback (127.0.0.1 only) and runs
``newsbeam run --runner=DaskRunner --dask_client_address=...``; records and rejected entries must
equal the local FnApiRunner's line for line (sorted), and the run's accounting must balance. Two fast
tests pin the translation defects that made the full graph hang (pipeline/dask_runner.py).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import apache_beam as beam
import orjson
import pytest
from apache_beam.internal import pickler
from apache_beam.runners.dask.overrides import dask_overrides

import distributed  # requirements-test.lock installs apache-beam[dask]

from pipeline import dask_runner
from pipeline.config import load_config
from pipeline.graph import build
from tests.conftest import SEEDS, run_cli  # noqa: E402

LOCAL = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]


@pytest.fixture(scope="module")
def dask_scheduler():
    """A dask.distributed scheduler with two single-threaded worker processes, on loopback only."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def _lines(directory: Path, prefix: str) -> list[bytes]:
    return sorted(line for path in directory.glob(f"{prefix}-*.jsonl")
                  for line in path.read_bytes().splitlines() if line)


def _summary(directory: Path) -> dict:
    summary = orjson.loads((directory / "summary.json").read_bytes())
    for key in ("runner", "seconds", "output"):
        summary.pop(key)
    return summary


def _compare_runners(input_glob: str, tmp_path: Path, scheduler: str) -> dict[str, float]:
    timings = {}
    for name, extra in (("direct", LOCAL), ("dask", ["--runner=DaskRunner", f"--dask_client_address={scheduler}"])):
        started = time.time()
        assert run_cli(input_glob, tmp_path / name, *extra) == 0, f"{name} run failed"
        timings[name] = time.time() - started
    direct, dask = tmp_path / "direct", tmp_path / "dask"
    assert _lines(dask, "records") == _lines(direct, "records")
    assert _lines(dask, "rejected") == _lines(direct, "rejected")
    assert _summary(dask) == _summary(direct)
    assert _summary(dask)["accounting"]["balanced"]
    print(f"\n{input_glob}: direct {timings['direct']:.1f}s, dask {timings['dask']:.1f}s")
    return timings


def test_dask_translated_graph_stays_bounded(frozen_config):
    """No partition count compounds through Flatten and CoGroupByKey, and no side input recomputes its
    upstream: at most one bundle task per ParDo and partition (the graph once held 290 partitions and
    ~6,700 bundle tasks for 149 ParDos, and never finished on five documents)."""
    root = beam.Pipeline(runner=dask_runner.DaskRunner())
    build(root, sorted(str(path) for path in SEEDS.glob("*.txt")), "/nonexistent", load_config(),
          {"version": "test", "config_hash": "test"})
    root.replace_all(dask_overrides())
    visitor = dask_runner._Visitor(npartitions=4)
    root.visit(visitor)
    assert max(bag.npartitions for bag in visitor.bags.values()) <= 4
    pardos = sum(isinstance(node.transform, beam.ParDo) for node in visitor.bags)
    (leaf,) = visitor.leaves()
    bundles = [key for key in dict(leaf.__dask_graph__())
               if isinstance(key, tuple) and key[0].startswith("_run_bundle-")]
    assert len(bundles) <= 4 * pardos


class _HoldsFile(beam.DoFn):
    """Keeps its file object from setup on, closed or not, as WriteToFiles' writers do."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._file = None

    def setup(self) -> None:
        self._file = open(self._path, "ab")

    def process(self, element: int):
        self._file.write(b"x")
        yield element

    def teardown(self) -> None:
        self._file.close()


def test_dask_bundles_leave_their_step_picklable(tmp_path):
    """Dask shares a ParDo's step among the bundles of a worker and pickles it again for another worker;
    a bundle that left a file object in it made that transfer fail and the run hang."""
    fn = _HoldsFile(str(tmp_path / "held"))
    step = dask_runner._Step(pickler.dumps((fn, [], {})), "Hold", None, [])
    assert dask_runner._run_bundle([1, 2], step) == [1, 2]
    assert dask_runner._run_bundle([3], step) == [3]
    assert pickler.loads(pickler.dumps(step)) == step
    assert (tmp_path / "held").read_bytes() == b"xxx"


def test_dask_seed_records_equal_direct_runner(tmp_path, dask_scheduler, frozen_config):
    _compare_runners(str(SEEDS / "*.txt"), tmp_path, dask_scheduler)
    assert len(_lines(tmp_path / "dask", "records")) + len(_lines(tmp_path / "dask", "rejected")) == 5


def _generated_corpus(directory: Path, documents: int) -> None:
    """A few thousand news-like documents as JSONL: the seeds' paragraphs recombined, deterministically."""
    paragraphs = [block.strip() for seed in sorted(SEEDS.glob("*.txt"))
                  for block in seed.read_text(encoding="utf-8").split("\n\n") if len(block.split()) >= 8]
    rng = random.Random(20261123)
    directory.mkdir()
    per_file = 500
    for start in range(0, documents, per_file):
        with (directory / f"corpus-{start // per_file:03d}.jsonl").open("wb") as handle:
            for number in range(start, min(start + per_file, documents)):
                text = "\n\n".join(rng.sample(paragraphs, k=min(len(paragraphs), rng.randint(3, 8))))
                handle.write(orjson.dumps({"id": f"gen-{number:05d}", "text": text}) + b"\n")


@pytest.mark.slow
def test_dask_generated_corpus_records_equal_direct_runner(tmp_path, dask_scheduler, frozen_config):
    corpus = tmp_path / "corpus"
    _generated_corpus(corpus, 3000)
    _compare_runners(str(corpus / "*.jsonl"), tmp_path, dask_scheduler)
