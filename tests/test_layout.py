import pytest
import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from pipeline.config import load_config
from tests.conftest import local_pipeline
from transforms import layout
from transforms.document import Document
from transforms.errors import Reject
from transforms.rules import compile_rule
from transforms.stage import DOCS, REJECTED, DocumentStage
from transforms.textmap import Edit

CONFIG = load_config()
LAY_OUT = layout.build(CONFIG)


def laid_out(text: str) -> str:
    return LAY_OUT(Document.from_raw("a.txt", text)).text


@pytest.mark.parametrize("text, expected", [
    # One paragraph per line (seed 001's shape) becomes blank-line separated paragraphs.
    ("Trade has grown since the invasion began.\nMishustin predicted more trade this year.",
     "Trade has grown since the invasion began.\n\nMishustin predicted more trade this year."),
    # Runs of blank lines left by removals collapse to one; edges are trimmed.
    ("\n\n  \nFirst paragraph.\n\n\n\n\nSecond paragraph.  \n\n\n", "First paragraph.\n\nSecond paragraph."),
    # A hard-wrapped paragraph is joined.
    ("Russia and China agreed on Wednesday to deepen investment in\ntrade services and sports cooperation.",
     "Russia and China agreed on Wednesday to deepen investment in trade services and sports cooperation."),
    # A subhead (short line, capital next) stays its own paragraph.
    ("A new era\nRussia and China agreed to deepen investment.", "A new era\n\nRussia and China agreed to deepen investment."),
    # A line ending a sentence is not joined to a lower-case line (lists, quotes).
    ("The agencies listed three reasons for the delay in the talks:\nfirst, the sanctions.",
     "The agencies listed three reasons for the delay in the talks:\n\nfirst, the sanctions."),
    # Spaces inside a line are left alone (repairs belong to a later stage).
    ("Xi Jinpingoffered  support .", "Xi Jinpingoffered  support ."),
])
def test_layout_normalises_paragraph_breaks(text, expected):
    assert laid_out(text) == expected


def test_layout_keeps_the_raw_offset_map_right():
    raw = "\n\nFirst paragraph here.\n\n\n\nSecond paragraph here.\n"
    doc = LAY_OUT(Document.from_raw("a.txt", raw))
    start = doc.text.index("Second")
    raw_start, raw_end = doc.raw_span(start, start + len("Second paragraph here."))
    assert raw[raw_start:raw_end] == "Second paragraph here."


def test_layout_is_idempotent():
    once = laid_out("Alpha line of text that wraps because it is long\nand continues here.\n\n\nBeta.")
    assert laid_out(once) == once


@pytest.mark.parametrize("text", ["", "  \n\n \t\n"])
def test_layout_rejects_a_document_cleaning_emptied(text):
    doc = Document.from_raw("a.txt", "x")
    doc.text = text
    with pytest.raises(Reject) as refusal:
        LAY_OUT(doc)
    assert refusal.value.reason == "no_body"


def test_layout_stage_in_a_pipeline_sends_empty_bodies_to_rejected():
    empty = Document.from_raw("empty.txt", "Share this:")
    empty.edit([Edit(0, len(empty.text), "")])
    docs = [Document.from_raw("a.txt", "One.\nTwo."), empty]
    with local_pipeline() as p:
        out = p | beam.Create(docs) | DocumentStage(layout.STAGE, layout.build, CONFIG)
        assert_that(out[DOCS] | beam.Map(lambda d: d.text), equal_to(["One.\n\nTwo."]), label="docs")
        assert_that(out[REJECTED] | beam.Map(lambda r: (r.source, r.reason)), equal_to([("empty.txt", "no_body")]),
                    label="rejected")


@pytest.mark.parametrize("line, matched", [
    ("Story continues below gallery", True), ("READ MORE: Putin meets Xi in Moscow", True),
    ("© 2023 Example News Ltd.", True),
    ("Share prices rose 3% in Shanghai on Tuesday.", False), ("Comments by the minister drew criticism.", False),
])
def test_layout_alternation_matches_what_any_of_its_rules_matches(line, matched):
    from transforms.boilerplate import RulePacks
    packs = RulePacks(load_config()["files"]["rules/boilerplate.yaml"], "boilerplate.rules_file")
    joined = layout.alternation([pattern for _, pattern in packs.patterns])
    alone = any(pattern.fullmatch(line) for _, pattern in packs.patterns)
    assert alone == matched
    assert bool(joined.fullmatch(line)) == matched


def test_layout_alternation_refuses_patterns_with_global_flags():
    assert layout.alternation([compile_rule(r"(?x) a b ", "x"), compile_rule("ab", "y")]) is None
    assert layout.alternation([compile_rule("(?i:ab)", "x"), compile_rule("cd", "y")]).fullmatch("AB")
