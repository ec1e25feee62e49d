"""Shared fixtures: a local TestPipeline that never waits for Prism, the seeds, one end-to-end seed run."""

from __future__ import annotations

import os
from pathlib import Path

import apache_beam as beam
import orjson
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from hypothesis import settings

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.runners import CachedViewOptions, make_runner
from transforms.relations import RelateDocuments

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

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
