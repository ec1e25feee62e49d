import pytest
import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from pipeline.config import load_config
from tests.conftest import local_pipeline
from transforms import header
from transforms.document import Document
from transforms.errors import ConfigError
from transforms.stage import DOCS, DocumentStage

CONFIG = load_config()
EXTRACT = header.build(CONFIG)
BODY = "Russia and China are set to sign a series of bilateral agreements on Wednesday, officials said."


def run(text: str) -> Document:
    return EXTRACT(Document.from_raw("news/a.txt", text))


@pytest.mark.parametrize("text, published, rest", [
    (" date 2023-05-24 \n\n" + BODY, "2023-05-24", BODY),
    ("date 2023-05-24 Xi Jinping shakes hands in Beijing (Sputnik/Alexander Astafyev/REUTERS)\n\n" + BODY,
     "2023-05-24", "Xi Jinping shakes hands in Beijing (Sputnik/Alexander Astafyev/REUTERS)"),
    ("date 2023-02-30 was a typo in the feed.\n\n" + BODY, None, "date 2023-02-30"),  # not a real date: left alone
    (BODY + "\n\ndate 2023-05-24", None, "date 2023-05-24"),           # not leading: body text
])
def test_header_takes_a_leading_date_marker(text, published, rest):
    doc = run(text)
    assert doc.published == published
    assert rest in doc.text
    if published:
        assert [r["kind"] for r in doc.removed][:1] == ["header"]


def test_header_keeps_a_published_date_from_jsonl_but_removes_the_marker():
    doc = Document.from_raw("feed.jsonl:1", "date 2023-05-24\n\n" + BODY)
    doc.published = "2023-05-23"
    EXTRACT(doc)
    assert doc.published == "2023-05-23" and "date" not in doc.text


@pytest.mark.parametrize("text, title", [
    ("Russia and China set to sign bilateral pacts despite Western criticism\n\n" + BODY,
     "Russia and China set to sign bilateral pacts despite Western criticism"),
    ("Xi offers support for Moscow's core interests\n" + BODY, "Xi offers support for Moscow's core interests"),
    (BODY + "\n\nAnother paragraph of the story follows here.", None),      # first line is a sentence
    ("Comments:\n\n" + BODY, None),                                         # final punctuation
    ("By Jane Doe\n\n" + BODY, None),                                       # a byline is not a title
])
def test_header_title_is_a_short_first_line_without_final_punctuation(text, title):
    assert run(text).title == title


def test_header_removes_repeats_of_the_title_and_of_the_page_title_headline():
    text = ("Putin and Xi meet in Moscow - The Daily Example\n\nPutin and Xi meet in Moscow\n\n" + BODY
            + "\n\nPutin and Xi meet in Moscow, the first visit since the war began.")
    doc = run(text)
    assert doc.title == "Putin and Xi meet in Moscow - The Daily Example"
    assert [(r["kind"], r["rule"]) for r in doc.removed] == [("title", "title_line"), ("title", "title_repeat")]
    assert "Putin and Xi meet in Moscow, the first visit since the war began." in doc.text


def test_header_keeps_a_title_from_jsonl_and_removes_its_copy_from_the_body():
    doc = Document.from_raw("feed.jsonl:1", "Putin and Xi meet in Moscow\n\nKremlin talks\n\n" + BODY)
    doc.title = "Putin and Xi meet in Moscow"
    EXTRACT(doc)
    # The headline printed again goes; the first line that is not the feed's title stays body.
    assert doc.title == "Putin and Xi meet in Moscow"
    assert [(r["kind"], r["rule"], r["text"]) for r in doc.removed] == [
        ("title", "title_repeat", "Putin and Xi meet in Moscow")]
    assert doc.text.lstrip().startswith("Kremlin talks\n\n")  # blank lines are the layout stage's


@pytest.mark.parametrize("first, dateline, rest", [
    ("BEIJING, May 23 (Reuters) – Russia and China are set to sign pacts.", "BEIJING, May 23 (Reuters)",
     "Russia and China are set to sign pacts."),
    ("WASHINGTON (AP) — The Senate voted on Tuesday.", "WASHINGTON (AP)", "The Senate voted on Tuesday."),
    ("KYIV, Ukraine — Air raid sirens sounded overnight.", "KYIV, Ukraine", "Air raid sirens sounded overnight."),
    ("Beijing said on Tuesday (local time) - that it would respond.", None,
     "Beijing said on Tuesday (local time) - that it would respond."),
    ("NATO's chief said the alliance would respond.", None, "NATO's chief said the alliance would respond."),
])
def test_header_moves_a_wire_dateline_to_its_field(first, dateline, rest):
    doc = run(first + "\n\n" + BODY)
    assert doc.dateline == dateline
    assert doc.text.lstrip().startswith(rest)


@pytest.mark.parametrize("line, byline", [
    ("By Smartencyclopedia Newsroom *", "By Smartencyclopedia Newsroom *"),
    ("By Jamelle Bouie", "By Jamelle Bouie"),
    ("By Ryan Woo and Lidia Kelly", "By Ryan Woo and Lidia Kelly"),
    ("By contrast, the ministry said nothing.", None),
    ("By the end of the year trade had doubled", None),
])
def test_header_byline(line, byline):
    doc = run("Headline of the story here\n\n" + line + "\n\n" + BODY)
    assert doc.byline == byline
    assert (line in doc.text) == (byline is None)


@pytest.mark.parametrize("text, credit, kept", [
    (BODY + " Reuters contributed to this report.", "Reuters contributed to this report.", BODY),
    (BODY + "\n\nThe Associated Press contributed to this report.", "The Associated Press contributed to this report.", BODY),
    (BODY + "\n\nReporting by Ryan Woo; Additional reporting by Lidia Kelly; Editing by Michael Perry",
     "Reporting by Ryan Woo; Additional reporting by Lidia Kelly; Editing by Michael Perry", BODY),
    (BODY + "\n\nSource: With Agencies", "Source: With Agencies", BODY),
    (BODY + "\n\n(With information from AFP)", "(With information from AFP)", BODY),
])
def test_header_moves_credit_lines_and_sentences_to_credits(text, credit, kept):
    doc = run(text)
    assert doc.credits == [credit]
    assert kept in doc.text and credit not in doc.text
    assert [r["kind"] for r in doc.removed] == ["credit"]


@pytest.mark.parametrize("text", [
    "Officials said reporters contributed to the confusion over the report.",
    "The minister's source said the deal was done, according to reporting by the agency.",
    "He said (with some irony) that nothing had changed.",
])
def test_header_leaves_prose_about_reporting_in_the_body(text):
    doc = run(BODY + "\n\n" + text)
    assert doc.credits == [] and text in doc.text


def test_header_records_raw_offsets_of_each_removal():
    raw = "Headline of the story here\n\nBy Jane Doe\n\n" + BODY
    doc = run(raw)
    for item in doc.removed:
        assert raw[item["raw_start"]:item["raw_end"]] == item["text"]


def test_header_check_config_names_a_broken_rule():
    config = dict(CONFIG, files=dict(CONFIG["files"]))
    rules = dict(config["files"]["rules/header.yaml"])
    rules["byline"] = [{"id": "broken", "pattern": "(unclosed"}]
    config["files"]["rules/header.yaml"] = rules
    with pytest.raises(ConfigError) as error:
        header.check_config(config)
    assert "broken" in error.value.key


def test_header_check_config_refuses_a_tail_credit_rule_without_its_value_group():
    config = dict(CONFIG, files=dict(CONFIG["files"]))
    rules = dict(config["files"]["rules/header.yaml"])
    rules["credits"] = [*rules["credits"], {"id": "ap_contributed", "scope": "tail",
                                            "pattern": r"The Associated Press contributed to this report\.$"}]
    config["files"]["rules/header.yaml"] = rules
    with pytest.raises(ConfigError, match="value") as error:
        header.check_config(config)
    assert "ap_contributed" in error.value.key


def test_header_stage_in_a_pipeline():
    docs = [Document.from_raw("a.txt", "date 2023-05-24\n\n" + BODY),
            Document.from_raw("b.txt", "Some headline without a stop\n\n" + BODY)]
    with local_pipeline() as p:
        out = p | beam.Create(docs) | DocumentStage(header.STAGE, header.build, CONFIG)
        assert_that(out[DOCS] | beam.Map(lambda d: (d.source, d.published, d.title)),
                    equal_to([("a.txt", "2023-05-24", None), ("b.txt", None, "Some headline without a stop")]),
                    label="fields")
