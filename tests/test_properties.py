"""Property tests over every pure per-document stage, on generated text.

`make test` runs the default profile (200 cases per property); `make test-slow` runs every property test
of the suite (marked `property` in conftest.py) under the slow profile, 10,000 cases each.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from pipeline.config import load_config
from tests.conftest import SEEDS
from transforms import boilerplate, captions, header, language, layout, repair
from transforms.document import Document
from transforms.errors import REASONS, Reject

CONFIG = load_config()
CLEANING = [header.build(CONFIG), captions.build(CONFIG), boilerplate.build(CONFIG), layout.build(CONFIG)]
# The line filters without the context classifier, whose verdicts depend on neighbouring lines.
RULE_FILTERS = [captions.build(CONFIG), boilerplate.build(load_config(overrides=["boilerplate.classifier.enabled=false"])),
                layout.build(CONFIG)]
REPAIR = repair.build(CONFIG)
LANGUAGE = language.build(CONFIG)

# Realistic material: seed lines, page furniture and credits, shuffled and glued, plus arbitrary Unicode.
SEED_LINES = sorted({line for path in SEEDS.glob("*.txt") for line in path.read_text("utf-8").split("\n") if line})
FURNITURE = ["Share this:", "Comments", "Leave a Comment", "Advertisement", "PHOTO: REUTERS", "By Jane Doe",
             "Reporting by Ryan Woo; Editing by Michael Perry", " date 2023-05-24", "BEIJING, May 23 (Reuters) -",
             "(With information from AFP)", "Read more", "© 2023 Reuters", "", "", "\u200b", "مرحبا بالعالم",
             "北京欢迎你", "🙂🙂", "....", "A", "x" * 300]
LINE = st.one_of(st.sampled_from(SEED_LINES), st.sampled_from(FURNITURE), st.text(max_size=80))
DOCUMENT = st.lists(LINE, max_size=25).map("\n".join) | st.text(max_size=400)
PROFILE = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# The shapes the repair rules act on or must leave alone, among seed words, joined by spaces or nothing,
# so that one rule's edit lands next to another's.
REPAIR_PIECES = ["Jinpingoffered", "ofthe", "HassFellow", "G20according", "3The", "year.The", "said,and", "0and",
                 "1and", "4all", "(2002)are", "(Mann, 1983)is", "(s)he", "(n+1)th", "910.4:Accounts", "10:30",
                 "R.S.Michalski", "U.S.", "X.Org", "Linguistics(ACL-88)", "iron(III)", "printf(NULL)",
                 "Panevova?,Petr", "don,t", "John,s", "lipsis", "crisisis", "(", ")", ":", ",", "?", ".", "--"]
REPAIR_WORD = st.one_of(st.sampled_from(REPAIR_PIECES), st.sampled_from(SEED_LINES).map(lambda line: line[:40]))
REPAIR_DOCUMENT = st.lists(st.tuples(REPAIR_WORD, st.sampled_from(["", " ", "\n"])), max_size=30).map(
    lambda pairs: "".join(word + gap for word, gap in pairs))


def clean(text: str, stages=CLEANING) -> Document | None:
    """Cleaning stages in pipeline order; None when the document is rejected with a catalogued reason."""
    doc = Document.from_raw("p.txt", text)
    try:
        for stage in stages:
            doc = stage(doc)
    except Reject as refusal:
        assert refusal.reason in REASONS
        return None
    return doc


def _removed_and_kept_cover_the_input(doc: Document, raw: str) -> None:
    removed = [False] * len(raw)
    for item in doc.removed:
        assert 0 <= item["raw_start"] <= item["raw_end"] <= len(raw)
        for i in range(item["raw_start"], item["raw_end"]):
            removed[i] = True
    kept = [False] * len(raw)
    for i, char in enumerate(doc.text):
        if not char.isspace():
            start, end = doc.raw_span(i, i + 1)
            assert raw[start:end] == char, "kept text must map to the same raw character"
            kept[start] = True
    for i, char in enumerate(raw):
        if not char.isspace():
            assert removed[i] or kept[i], f"raw character {i} {char!r} neither kept nor recorded as removed"
            assert not (removed[i] and kept[i]), f"raw character {i} {char!r} both kept and removed"


def _check_cleaning(text: str) -> None:
    doc = clean(text)
    if doc is None:
        return
    _removed_and_kept_cover_the_input(doc, text)
    assert "\n\n\n" not in doc.text and doc.text == doc.text.strip()
    # The rule filters are idempotent. Two stages are not, by nature, and are left out: the header
    # stage reads what stands first (after a title is taken out another line stands first), and
    # the context classifier rates a line by its neighbours, which removals change.
    filtered = clean(text, RULE_FILTERS)
    if filtered is not None:
        again = clean(filtered.text, RULE_FILTERS)
        assert again is not None and again.text == filtered.text, "filtering clean text must change nothing"


def _check_repair(text: str) -> None:
    doc = REPAIR(Document.from_raw("p.txt", text))
    for item in doc.repairs:
        assert 0 <= item["start"] <= len(doc.text)
    assert REPAIR(Document.from_raw("p.txt", doc.text)).text == doc.text


def _check_language(text: str) -> None:
    doc = LANGUAGE(Document.from_raw("p.txt", text))
    assert doc.language == "und" or (len(doc.language) in (2, 5) and doc.language_score >= 0.0)
    for span in doc.language_spans:
        assert 0 <= span["start"] < span["end"] <= len(doc.text)


@PROFILE
@given(DOCUMENT)
def test_properties_cleaning_never_raises_loses_nothing_and_is_idempotent(text):
    _check_cleaning(text)


@PROFILE
@given(DOCUMENT)
def test_properties_repair_offsets_index_the_text_and_repair_is_idempotent(text):
    _check_repair(text)


@PROFILE
@given(REPAIR_DOCUMENT)
def test_properties_repair_is_idempotent_on_the_shapes_it_repairs(text):
    _check_repair(text)


@PROFILE
@given(DOCUMENT)
def test_properties_language_never_raises_and_spans_index_the_text(text):
    _check_language(text)
