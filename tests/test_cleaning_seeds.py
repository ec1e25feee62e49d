"""End to end: what the cleaning stages must give on the five seeds (issue 3), via `newsbeam run`."""

import re

import pytest

from tests.conftest import SEEDS

RAW = {path.name[:3]: path.read_text("utf-8") for path in sorted(SEEDS.glob("*.txt"))}

CAPTIONS_002 = [
    ("Russian Prime Minister Mijal Mishustin and Chinese President Xi Jinping shake hands", "(Sputnik/Alexander Astafyev/REUTERS)"),
    ("Xi Jinping also advocated pushing cooperation", "(Sputnik/Alexander Astafyev/via REUTERS)"),
    ("Russian Prime Minister Mijal Mishustin and Chinese Premier Li Qiang arrive", "(Sputnik/Alexander Astafyev/REUTERS)"),
    ("Russian Prime Minister Mijal Mishustin and Chinese Premier Li Qiang attend a signing ceremony", "REUTERS/Thomas Peter/Pool"),
    ("Russian Deputy Prime Minister Alexander Novak attends a session", "(Sputnik/Dmitry Astakhov/REUTERS)"),
    ("Russian President Vladimir Putin (dcha) toasting", "(Sputnik/Pavel Byrkin/Kremlin va Reuters)"),
]


def _kinds(record: dict) -> list[tuple[str, str]]:
    return sorted((item["kind"], item["text"]) for item in record["removed"])


def _letters(text: str) -> str:
    # Compared without white space and punctuation, which later repairs may change.
    return re.sub(r"[\W_]+", "", text).casefold()


def _unrepaired(record: dict) -> str:
    """The record's text with its recorded repairs undone (repairs are a later stage's business)."""
    text = record["text"]
    for repair in sorted(record["repairs"], key=lambda item: item["start"], reverse=True):
        start = repair["start"]
        if text[start:start + len(repair["after"])] == repair["after"]:
            text = text[:start] + repair["before"] + text[start + len(repair["after"]):]
    return text


def _kept_raw(code: str, record: dict) -> str:
    """The raw seed minus every span the record says was removed."""
    raw = RAW[code]
    spans = sorted((item["raw_start"], item["raw_end"]) for item in record["removed"])
    pieces, cursor = [], 0
    for start, end in spans:
        pieces.append(raw[cursor:start])
        cursor = max(cursor, end)
    pieces.append(raw[cursor:])
    return "".join(pieces)


@pytest.mark.parametrize("code", sorted(RAW))
def test_cleaning_seeds_keep_every_other_word_and_audit_every_removal(seed_records, code):
    record = seed_records[code]
    raw = RAW[code]
    for item in record["removed"]:
        assert raw[item["raw_start"]:item["raw_end"]] == item["text"]
    assert _letters(_unrepaired(record)) == _letters(_kept_raw(code, record))


@pytest.mark.parametrize("code", sorted(RAW))
def test_cleaning_seeds_paragraphs_are_separated_by_one_blank_line(seed_records, code):
    text = seed_records[code]["text"]
    assert text == text.strip() and "\n\n\n" not in text
    assert all(part.strip() == part and "\n" not in part for part in text.split("\n\n"))


def test_cleaning_seed_000_moves_date_and_credit(seed_records):
    record = seed_records["000"]
    assert record["published"] == "2023-05-24"
    assert record["credits"] == ["Reuters contributed to this report."]
    assert _kinds(record) == [("credit", "Reuters contributed to this report."), ("header", "date 2023-05-24")]
    assert record["text"].endswith("close relationship with Russia.")


def test_cleaning_seed_001_removes_nothing(seed_records):
    record = seed_records["001"]
    assert record["removed"] == []
    assert (record["title"], record["published"], record["dateline"], record["byline"], record["credits"]) == (
        None, None, None, None, [])
    assert len(record["text"].split("\n\n")) == len(RAW["001"].strip().split("\n"))


def test_cleaning_seed_002_captions_date_and_credit(seed_records):
    record = seed_records["002"]
    assert record["published"] == "2023-05-24"
    assert record["credits"] == ["(With information from AFP)"]
    captions = sorted(item["text"] for item in record["removed"] if item["kind"] == "caption")
    assert len(captions) == 6
    for head, credit in CAPTIONS_002:
        assert [c for c in captions if c.startswith(head) and c.endswith(credit)], head
        assert head not in record["text"]
    assert sorted(kind for kind, _ in _kinds(record)) == ["caption"] * 6 + ["credit", "header"]
    assert "A month later, at a summit in Moscow, Xi invited Putin to Beijing." in record["text"]


def test_cleaning_seed_003_title_dateline_credits_and_boilerplate(seed_records):
    record = seed_records["003"]
    title = "Russia and China set to sign bilateral pacts despite Western criticism"
    assert record["title"] == title and title not in record["text"]
    assert record["dateline"] == "BEIJING, May 23 (Reuters)"
    assert record["credits"] == ["Reporting by Ryan Woo; Additional reporting by Lidia Kelly and Ethan Wang; "
                                 "Editing by Michael Perry"]
    assert [(item["kind"], item["rule"]) for item in record["removed"] if item["kind"] == "title"] == [
        ("title", "title_line"), ("title", "title_repeat")]
    assert sorted(text for kind, text in _kinds(record) if kind == "boilerplate") == [
        "Leave a Comment", "Our standards: The Thomson Reuters Trust Principles."]
    assert record["text"].startswith("Russia and China are set to sign a series of bilateral agreements")
    assert record["text"].endswith("Li Hui is due to travel to Russia on Friday, Russian news agency TASS reported.")


def test_cleaning_seed_004_title_share_comments_caption_byline_source(seed_records):
    record = seed_records["004"]
    assert record["title"] == RAW["004"].split("\n")[0]
    assert record["byline"] == "By Smartencyclopedia Newsroom *"
    assert record["credits"] == ["Source: With Agencies"]
    assert sorted(text for kind, text in _kinds(record) if kind == "boilerplate") == [
        "All comments.", "Comments", "Comments", "Share this:", "Share this:"]
    [caption] = [text for kind, text in _kinds(record) if kind == "caption"]
    assert caption.endswith("among others. PHOTO: REUTERS")
    assert record["text"].startswith("During a visit to Beijing, Russia’s Prime Minister")


def test_cleaning_seeds_count_removals_per_rule_in_the_summary(seed_run):
    removed = seed_run["summary"]["removed"]
    assert sum(removed["caption"].values()) == 7
    assert removed["boilerplate"]["comments"] == 4 and removed["boilerplate"]["share"] == 2
    assert removed["title"] == {"title_line": 2, "title_repeat": 1}
    assert seed_run["summary"]["records"] == 5
