"""Shared fixtures: a local TestPipeline that never waits for Prism, the seeds, one end-to-end seed run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import apache_beam as beam
import orjson
import pytest
from apache_beam.io import fileio
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.utils.timestamp import Timestamp
from hypothesis import settings

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.report import read_settings
from pipeline.runners import CachedViewOptions, make_runner
from transforms.document import document_id
from transforms.relations import RelateDocuments

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
# The read stage's settings with a 5 MB limit and JSONL files read by line.
READ_CONFIG = {**read_settings(None), "max_bytes": 5_000_000, "jsonl_extensions": [".jsonl"]}

# `make test` draws the same examples on every run, so a red CI is always reproducible; `make test-slow`
# explores fresh random examples each time to find new failures.
settings.register_profile("default", max_examples=200, deadline=None, derandomize=True, database=None)
settings.register_profile("slow", max_examples=10_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every hypothesis test `property`, so `make test-slow` reruns them all with 10,000 cases."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.property)


def seed(number: str) -> str:
    """The text of seed ``number`` ('000' .. '004')."""
    return next(SEEDS.glob(f"{number}_*.txt")).read_text("utf-8")


def name_ranked_after(folder: Path, stem: str, data: bytes, earlier_id: str) -> str:
    """A file name in ``folder`` (``<stem>-<i>.txt``) whose record id sorts after ``earlier_id``: ids hash
    the path, and undated records (and exact copies, same date) rank by id, so the name decides the rank."""
    return next(name for name in (f"{stem}-{i}.txt" for i in range(1000))
                if document_id(str(folder / name), data.decode("utf-8")) > earlier_id)


class BoundedMatch(fileio.MatchContinuously):
    """``MatchContinuously`` for a streaming graph on the local runner (whose unbounded mode never closes
    a window): the poll stops after 3 s, and each file is stamped with its modification time
    (timestamp_cursor) instead of the poll's, so a test chooses each document's window. Patch it in with
    ``monkeypatch.setattr(fileio, "MatchContinuously", BoundedMatch)``."""

    def __init__(self, pattern, interval):
        super().__init__(pattern, interval=interval, start_timestamp=Timestamp.now(),
                         stop_timestamp=Timestamp.now() + 3, timestamp_cursor=True)


@pytest.fixture
def frozen_config(tmp_path_factory, monkeypatch):
    """The configuration as it is now, for the whole test: the shared configs/ may change under a run,
    and a changed configuration rightly makes every file pending again."""
    from pipeline import config

    frozen = tmp_path_factory.mktemp("configs") / "configs"
    shutil.copytree(config.CONFIG_DIR, frozen)
    monkeypatch.setattr(config, "CONFIG_DIR", frozen)
    monkeypatch.setattr(config, "DEFAULT_CONFIG", frozen / "default.yaml")
    monkeypatch.setattr(config, "SCHEMA_DIR", frozen / "schema")
    return frozen


def local_pipeline(*flags: str) -> TestPipeline:
    """A TestPipeline on the in-process FnApiRunner (never the Prism download), with Beam ``flags``."""
    options = CachedViewOptions(["--direct_num_workers=1", "--direct_running_mode=in_memory", *flags])
    return TestPipeline(runner=make_runner(options), options=options)


def relate(p: beam.Pipeline, docs: list, hold: beam.PTransform | None = None, **sections: dict) -> beam.PCollection:
    """``docs`` through the relation stages with the default config, ``sections`` replacing its sections
    (``hold``: where a batch's documents wait, as ``RelateDocuments`` takes it)."""
    return p | "Docs" >> beam.Create(docs) | "Relate" >> RelateDocuments({**load_config(), **sections}, hold)


def vocabulary_held(vocab) -> tuple[set[int], int]:
    """The lexemes and strings a spaCy vocabulary keeps (its len() counts every lexeme ever made, dropped too)."""
    return {lexeme.orth for lexeme in vocab}, len(vocab.strings)


def read_outputs(directory: Path) -> dict:
    """Records (by seed-style file stem), rejected entries and the summary of a finished run."""
    records = [orjson.loads(line) for path in sorted(directory.glob("records-*.jsonl"))
               for line in path.read_bytes().splitlines() if line]
    rejected = [orjson.loads(line) for path in sorted(directory.glob("rejected-*.jsonl"))
                for line in path.read_bytes().splitlines() if line]
    summary = orjson.loads((directory / "summary.json").read_bytes())
    return {"records": records, "rejected": rejected, "summary": summary,
            "by_name": {Path(r["source"]).name[:3]: r for r in records}}


def run_cli(input_glob: str, output: Path, *extra: str) -> int:
    return main(["run", "--input", input_glob, "--output", str(output), "--quiet", *extra])


@pytest.fixture(scope="session")
def seed_run(tmp_path_factory) -> dict:
    """One end-to-end run of ``newsbeam run`` over seeds/ on two worker processes, shared by tests."""
    output = tmp_path_factory.mktemp("seed_run")
    # Named: an input this small would run on one worker by default.
    assert run_cli(str(SEEDS / "*.txt"), output, "--direct_num_workers=2", "--direct_running_mode=multi_processing") == 0
    return read_outputs(output)


@pytest.fixture(scope="session")
def seed_records(seed_run) -> dict:
    """The seed records keyed by their number ('000' .. '004')."""
    return seed_run["by_name"]
