"""The shared stage frame: dead letters, and what a worker's setup changes in its process."""

from __future__ import annotations

import gc

import pytest

from pipeline.config import load_config
from tests.conftest import SEEDS
from transforms import header
from transforms.document import Document, Rejection
from transforms.errors import Reject
from transforms.stage import YOUNG_COLLECTION_THRESHOLD, _StageFn, collect_less, run_stage

CONFIG = load_config()


@pytest.fixture
def thresholds():
    """The collector's thresholds as the test found them, put back afterwards."""
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_stage_setup_raises_only_the_young_collection_threshold(thresholds):
    gc.set_threshold(700, 10, 10)
    stage = _StageFn(header.STAGE, header.build, CONFIG)
    stage.setup()
    assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, 10, 10)
    doc = Document.from_raw("seed.txt", (SEEDS / "003_36e34dcb6d54f232.txt").read_text("utf-8"))
    assert [type(out) for out in stage.process(doc)] == [Document]


def test_stage_collect_less_never_lowers_a_higher_threshold(thresholds):
    gc.set_threshold(50_000, 5, 3)
    collect_less()
    assert gc.get_threshold() == (50_000, 5, 3)


def test_stage_run_stage_turns_refusals_and_crashes_into_rejections():
    doc = Document.from_raw("a.txt", "Some text.")

    def refuse(_: Document) -> Document:
        raise Reject("empty", "nothing left")

    def crash(_: Document) -> Document:
        raise KeyError("title")

    assert run_stage("header", refuse, doc) == Rejection("a.txt", "header", "empty", "nothing left")
    assert run_stage("header", crash, doc) == Rejection("a.txt", "header", "exception", "KeyError: 'title'")
