"""The run report: placement of removals/repairs/entities, the written pages, and the pages in Chromium.

Two runs are reported: a hand-made one, whose records are made with the real ``Document.edit``
machinery from seeds 002 and 003 (so the report is tested independently of the cleaning stages),
and the real ``newsbeam run`` over seeds/, whose expectations need the cleaning, repair and entity
stages to be wired into the graph.
"""

from __future__ import annotations

import bz2
import html.parser
import re
import shutil
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

import html5lib
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.report import (annotate, index_run, load_originals, page_name, pieces, place_entities,
                             place_removed, place_repairs, read_settings, write_report)
from tests.conftest import READ_CONFIG, ROOT, SEEDS, run_cli
from transforms.document import Document, Rejection
from transforms.summary import MergeCounters, nest, outcome_stats, read_stats
from transforms.textmap import Edit

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SEED_002 = next(SEEDS.glob("002_*.txt"))
SEED_003 = next(SEEDS.glob("003_*.txt"))


# ---------------------------------------------------------------------------------------------
# A hand-made run: realistic records built with Document.edit, as the stages will build them.
# ---------------------------------------------------------------------------------------------

def _remove_lines(doc: Document, spans: list[tuple[int, int, str, str]]) -> None:
    """Remove (start, end, kind, rule) spans of the current text, recording raw offsets first."""
    for start, end, kind, rule in spans:
        raw_start, raw_end = doc.raw_span(start, end)
        doc.removed.append({"kind": kind, "text": doc.text[start:end], "rule": rule,
                            "raw_start": raw_start, "raw_end": raw_end})
    doc.edit([Edit(start, end, "") for start, end, _, _ in spans])


def _repair(doc: Document, pairs: list[tuple[str, str]], kind: str) -> None:
    edits = []
    for before, after in pairs:
        start = doc.text.index(before)
        edits.append(Edit(start, start + len(before), after))
    starts, _ = doc.edit(edits)
    doc.repairs.extend({"kind": kind, "before": before, "after": after, "start": start}
                       for (before, after), start in zip(pairs, starts))


def _tag(doc: Document, names: list[tuple[str, str, str]]) -> None:
    for surface, label, canonical in names:
        for match in re.finditer(r"\b" + re.escape(surface) + r"\b", doc.text):
            if any(e["start"] < match.end() and match.start() < e["end"] for e in doc.entities):
                continue
            raw_start, raw_end = doc.raw_span(match.start(), match.end())
            doc.entities.append({"text": surface, "label": label, "start": match.start(), "end": match.end(),
                                 "raw_start": raw_start, "raw_end": raw_end, "canonical": canonical})
    doc.entities.sort(key=lambda e: e["start"])


NAMES = [("Xi Jinping", "PERSON", "Xi Jinping"), ("Mikhail Mishustin", "PERSON", "Mikhail Mishustin"),
         ("Mishustin", "PERSON", "Mikhail Mishustin"), ("Li Qiang", "PERSON", "Li Qiang"),
         ("Xinhua", "ORG", "Xinhua"), ("Beijing", "GPE", "Beijing"), ("Moscow", "GPE", "Moscow"),
         ("Russia", "GPE", "Russia"), ("China", "GPE", "China"), ("Ukraine", "GPE", "Ukraine")]


def _made_002() -> Document:
    raw = SEED_002.read_text("utf-8")
    doc = Document.from_raw(str(SEED_002), raw)
    doc.published, doc.language, doc.language_score = "2023-05-24", "en", 0.99
    header = re.match(r" date \d{4}-\d{2}-\d{2} ", doc.text)
    # Photo captions end with an agency credit: "(Sputnik/.../REUTERS)" or "REUTERS/Name/Pool".
    captions = [(m.start(), m.end() + 1, "caption", "credit_in_brackets" if m.group(0).endswith(")") else "agency_slash_credit")
                for m in re.finditer(r"(?m)^.*(?:\(Sputnik/[^)\n]*\)|REUTERS/[A-Za-z /]+)$", doc.text)]
    first = captions[0]
    captions[0] = (header.end(), first[1], "caption", first[3])
    _remove_lines(doc, [(0, header.end(), "header", "date_prefix")] + captions)
    last = doc.text.rindex("(With information from AFP)")
    _remove_lines(doc, [(last, len(doc.text), "credit", "with_information_from")])
    doc.credits = ["With information from AFP"]
    _repair(doc, [("Jinpingoffered", "Jinping offered"), ("Li Qiangwho", "Li Qiang who"),
                  ("Shanghaibefore", "Shanghai before")], "glued_words")
    _tag(doc, NAMES)
    doc.story_id = "story-0001"
    return doc


def _made_003() -> Document:
    raw = SEED_003.read_text("utf-8")
    doc = Document.from_raw(str(SEED_003), raw)
    doc.title, doc.language, doc.language_score = raw.splitlines()[0], "en", 0.99
    doc.dateline, doc.byline = "BEIJING, May 23 (Reuters)", None
    title_end = doc.text.index("\n\n", doc.text.index("\n\n") + 2) + 2
    _remove_lines(doc, [(0, title_end, "title", "repeated_title")])
    credit = doc.text.index("Reporting by Ryan Woo")
    _remove_lines(doc, [(credit, len(doc.text), "boilerplate", "wire_credit_tail")])
    doc.credits = ["Reporting by Ryan Woo; Additional reporting by Lidia Kelly and Ethan Wang; Editing by Michael Perry"]
    _tag(doc, NAMES)
    doc.story_id = "story-0001"
    return doc


def make_run(directory: Path) -> dict:
    """Write records, rejected entries and summary.json the way a finished run does."""
    docs = [_made_002(), _made_003()]
    for doc in docs:
        doc.pipeline = {"version": "0.1.0", "config_hash": "feedfacecafebeef"}
    docs[1].duplicate_of, docs[1].duplicate_score = docs[0].id, 0.91
    rejected = [Rejection(str(SEEDS / "scan.pdf"), "read", "binary", "file signature b'%PDF-1.7'"),
                Rejection(str(SEEDS / "empty.txt"), "read", "empty", "0 bytes, no text"),
                Rejection(str(SEEDS / "menu.html"), "boilerplate", "no_body", "every line matched a rule")]
    merge = MergeCounters()
    counters = merge.create_accumulator()
    for item in (*docs, *rejected):
        counters = merge.add_input(counters, read_stats(item))
        counters = merge.add_input(counters, outcome_stats(item))
    summary = {"newsbeam": "0.1.0", "config_hash": "feedfacecafebeef", "input": str(SEEDS / "*"),
               "output": str(directory), "runner": "FnApiRunner", "seconds": 1.5,
               **nest(merge.extract_output(counters))}
    summary["accounting"] = {"documents_in": summary["documents_in"], "records_written": len(docs),
                             "rejected_written": len(rejected), "balanced": True}
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "records-00000-of-00002.jsonl").write_bytes(docs[1].to_json() + b"\n")
    (directory / "records-00001-of-00002.jsonl").write_bytes(docs[0].to_json() + b"\n")
    (directory / "rejected-00000-of-00001.jsonl").write_bytes(b"".join(r.to_json() + b"\n" for r in rejected))
    (directory / "summary.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    return {"docs": docs, "summary": summary}


@pytest.fixture(scope="module")
def made_run(tmp_path_factory) -> dict:
    directory = tmp_path_factory.mktemp("made_run")
    run = make_run(directory)
    run["index"] = write_report(directory, docs=10, read_config=READ_CONFIG)
    return run


# ---------------------------------------------------------------------------------------------
# Pure placement functions.
# ---------------------------------------------------------------------------------------------

GLUED = "Chinese President, Xi Jinpingoffered on Wednesday Beijing’s support.\n\nHe met Li Qiangwho said so."


@pytest.mark.parametrize("clean, before, after, expected", [
    ("Chinese President, Xi Jinping offered on Wednesday Beijing’s support.\n\nHe met Li Qiangwho said so.",
     "Jinpingoffered", "Jinping offered", "Jinpingoffered"),
    ("Chinese President, Xi Jinpingoffered on Wednesday Beijing’s support.\n\nHe met Li Qiang who said so.",
     "Qiangwho", "Qiang who", "Qiangwho"),
    # Removing a space: 'before' is a single space, found only by its context in the clean text.
    ("Chinese President, Xi Jinpingoffered onWednesday Beijing’s support.\n\nHe met Li Qiangwho said so.",
     " ", "", " "),
])
def test_report_place_repairs_finds_before_text_in_the_original(clean, before, after, expected):
    start = clean.index(after) if after else clean.index("onWednesday") + 2
    placed, missing = place_repairs(GLUED, clean, [{"kind": "k", "before": before, "after": after, "start": start}], [])
    assert missing == []
    span = placed[0]
    assert GLUED[span.start:span.end] == expected
    if before == " ":
        assert GLUED[span.start - 2:span.end + 3] == "on Wed"


def test_report_place_repairs_leaves_out_a_repair_of_a_repair():
    clean = "The café opened."
    repairs = [{"kind": "mojibake", "before": "cafÃ©", "after": "café", "start": 4},
               {"kind": "later", "before": "cafe\u0301", "after": "café", "start": 4}]
    placed, missing = place_repairs("The cafÃ© opened.", clean, repairs, [])
    assert [(p.start, p.end, p.index) for p in placed] == [(4, 9, 0)]
    assert missing == [1]


def test_report_place_repairs_prefers_the_occurrence_near_the_anchor():
    raw = "Li Qiangwho spoke.\n\nLater, Li Qiangwho spoke again."
    clean = "Li Qiangwho spoke.\n\nLater, Li Qiang who spoke again."
    start = clean.index("Qiang who")
    placed, _ = place_repairs(raw, clean, [{"kind": "k", "before": "Qiangwho", "after": "Qiang who", "start": start}],
                              [(clean.index("Later"), raw.index("Later"))])
    assert placed[0].start == raw.rindex("Qiangwho")


def test_report_place_removed_uses_offsets_else_text_in_order():
    raw = "Share this:\nBody line.\nShare this:\n"
    removed = [{"kind": "boilerplate", "text": "Share this:\n", "rule": "share"},
               {"kind": "boilerplate", "text": "Share this:\n", "rule": "share"},
               {"kind": "boilerplate", "text": "Body line.\n", "rule": "x", "raw_start": 12, "raw_end": 23}]
    placed, missing = place_removed(raw, removed)
    assert [(p.start, p.end, p.index) for p in placed] == [(0, 12, 0), (12, 23, 2), (23, 35, 1)]
    assert missing == []
    placed, missing = place_removed(raw, [{"kind": "caption", "text": "not there", "rule": "r"}])
    assert (placed, missing) == ([], [0])


def test_report_place_entities_skips_overlaps_and_bad_offsets():
    entities = [{"start": 0, "end": 10, "raw_start": 0, "raw_end": 10},
                {"start": 5, "end": 12, "raw_start": 5, "raw_end": 12},
                {"start": 20, "end": 99, "raw_start": 20, "raw_end": 99}]
    placed, missing = place_entities(entities, 30, raw=True)
    assert [p.index for p in placed] == [0] and missing == [1, 2]


def test_report_pieces_cover_the_text_and_keep_a_repair_whole():
    raw = "date 2023\nXi Jinpingoffered support."
    removed, _ = place_removed(raw, [{"kind": "header", "text": "date 2023\n", "rule": "date", "raw_start": 0, "raw_end": 10}])
    # The entity "Xi Jinping" touches the repair of "Jinpingoffered": it widens to the whole repair.
    entities, _ = place_entities([{"raw_start": 10, "raw_end": 20}], len(raw), raw=True)
    repairs, _ = place_repairs(raw, "Xi Jinping offered support.",
                               [{"kind": "glued", "before": "Jinpingoffered", "after": "Jinping offered", "start": 3}], [])
    out = pieces(raw, removed, entities, repairs)
    assert "".join(p["text"] for p in out) == raw
    assert [(p["text"], p["removed"], p["entity"], p["repair"]) for p in out] == [
        ("date 2023\n", 0, None, None), ("Xi ", None, 0, None), ("Jinpingoffered", None, 0, 0),
        (" support.", None, None, None)]
    assert out[0]["removed_first"] and out[2]["entity_last"] and not out[1]["entity_last"]


spans = st.lists(st.tuples(st.integers(0, 120), st.integers(0, 120)).map(sorted), max_size=8)


@given(text=st.text(min_size=1, max_size=120), removed=spans, entities=spans, repairs=spans)
def test_report_pieces_show_every_character_once_whatever_the_spans(text, removed, entities, repairs):
    def items(pairs):
        return [{"kind": "k", "rule": "r", "text": "", "raw_start": a, "raw_end": b} for a, b in pairs]
    placed_removed, _ = place_removed(text, [item for item in items(removed) if item["raw_start"] < item["raw_end"]])
    placed_entities, _ = place_entities(items(entities), len(text), raw=True)
    placed_repairs, _ = place_entities(items(repairs), len(text), raw=True)
    out = pieces(text, placed_removed, placed_entities, placed_repairs)
    assert "".join(p["text"] for p in out) == text
    assert sum(p["removed_first"] for p in out) <= len(placed_removed)
    assert sum(p["entity_last"] for p in out) <= len(placed_entities)


def test_report_pieces_show_an_insertion_as_an_empty_piece():
    raw = "Chinagiven its weight"
    repairs, _ = place_repairs(raw, "China, given its weight", [{"kind": "punct", "before": "", "after": ", ", "start": 5}], [])
    out = pieces(raw, [], [], repairs)
    assert [(p["text"], p["repair"]) for p in out] == [("China", None), ("", 0), ("given its weight", None)]


def test_report_annotate_falls_back_to_the_clean_text_without_the_original():
    record = {"text": "Xi Jinping spoke.", "removed": [{"kind": "caption", "text": "x", "rule": "r"}],
              "repairs": [], "entities": [{"text": "Xi Jinping", "label": "PERSON", "start": 0, "end": 10,
                                           "raw_start": 40, "raw_end": 50, "canonical": "Xi Jinping"}]}
    view = annotate(record, None)
    assert not view["original"]
    assert [(p["text"], p["entity"]) for p in view["pieces"]] == [("Xi Jinping", 0), (" spoke.", None)]
    assert view["unplaced"]["removed"] == [0]


@pytest.mark.parametrize("doc_id, name", [
    ("5ecf90ef838a76ef", "5ecf90ef838a76ef.html"),
    ("reuters-2023_05.24", "reuters-2023_05.24.html"),
    ("../etc/passwd", None),
    ("a b/ç", None),
])
def test_report_page_name_is_a_safe_file_name(doc_id, name):
    result = page_name(doc_id)
    if name:
        assert result == name
    else:
        assert re.fullmatch(r"id-[0-9a-f]{16}\.html", result) and result == page_name(doc_id)


def test_report_sample_does_not_depend_on_how_records_are_sharded(tmp_path):
    records = [Document.from_raw(f"feed/{n}.txt", f"Story number {n} about the summit.") for n in range(40)]
    for doc in records:
        doc.pipeline = {"version": "0", "config_hash": "x"}
    one = tmp_path / "one.jsonl"
    one.write_bytes(b"".join(doc.to_json() + b"\n" for doc in records))
    parts = [tmp_path / f"part{k}.jsonl" for k in range(3)]
    for k, part in enumerate(parts):
        part.write_bytes(b"".join(doc.to_json() + b"\n" for doc in records[::-1][k::3]))
    first, second = index_run([one], 7), index_run(parts, 7)
    assert sorted(first.sample) == sorted(second.sample) and len(first.sample) == 7
    assert first.entries == second.entries


def test_report_load_originals_checks_the_source_is_unchanged(tmp_path):
    source = tmp_path / "story.txt"
    source.write_text("BEIJING (Reuters) - Talks went on.\n", "utf-8")
    text = source.read_text("utf-8")
    doc = Document.from_raw(str(source), text)
    record = {"id": doc.id, "source": str(source)}
    [(_, raw, note)] = load_originals([record], READ_CONFIG, None)
    assert raw == text and "original text" in note
    source.write_text("BEIJING (Reuters) - Talks went on and on.\n", "utf-8")
    [(_, raw, note)] = load_originals([record], READ_CONFIG, None)
    assert raw is None and "changed" in note
    source.unlink()
    [(_, raw, note)] = load_originals([record], READ_CONFIG, None)
    assert raw is None and "not readable" in note


def test_report_load_originals_reads_a_jsonl_line_once_per_file(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(b'{"id": "a1", "text": "First story."}\n{"id": "b2", "text": "Second\\r\\nstory."}\n')
    records = [{"id": "b2", "source": f"{feed}:2"}, {"id": "a1", "source": f"{feed}:1"}]
    got = {record["id"]: raw for record, raw, _ in load_originals(records, READ_CONFIG, None)}
    assert got == {"a1": "First story.", "b2": "Second\nstory."}


def test_report_load_originals_reads_sources_as_the_run_read_them(tmp_path):
    # A feed larger than read.max_bytes (the run streams it line by line) and a .bz2 story (the run
    # decompresses it): both are shown as their originals.
    small = {**READ_CONFIG, "max_bytes": 200}
    feed = tmp_path / "feed.jsonl"
    lines = [orjson.dumps({"id": f"n{i}", "text": f"Story {i}: the talks in Geneva went on."}) for i in range(20)]
    feed.write_bytes(b"\n".join(lines) + b"\n")
    assert feed.stat().st_size > small["max_bytes"]
    story = tmp_path / "story.txt.bz2"
    text = "GENEVA (Reuters) - The talks went on for a third day.\n"
    story.write_bytes(bz2.compress(text.encode("utf-8")))
    records = [{"id": "n17", "source": f"{feed}:18"},
               {"id": Document.from_raw(str(story), text).id, "source": str(story)}]
    got = {record["source"]: (raw, note) for record, raw, note in load_originals(records, small, None)}
    assert got[f"{feed}:18"][0] == "Story 17: the talks in Geneva went on."
    assert got[str(story)] == (text, f"original text from {story}")


# ---------------------------------------------------------------------------------------------
# The written report (static checks: validity, links, counts).
# ---------------------------------------------------------------------------------------------

class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: Counter = Counter()
        self.keys: dict[str, str] = {}
        self._key: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src"):
            if attrs.get(name):
                self.links.append(attrs[name])
        if "id" in attrs:
            self.ids[attrs["id"]] += 1
        self._key = attrs.get("data-key")

    def handle_data(self, data):
        if self._key:
            self.keys[self._key] = self.keys.get(self._key, "") + data

    def handle_endtag(self, tag):
        self._key = None


def check_report(report: Path) -> dict[Path, _Links]:
    """Every page parses without an HTML5 parse error, has unique ids, and every internal link resolves."""
    parsed: dict[Path, _Links] = {}
    for page in sorted(report.rglob("*.html")):
        text = page.read_text("utf-8")
        html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)
        links = _Links()
        links.feed(text)
        duplicated = [name for name, count in links.ids.items() if count > 1]
        assert not duplicated, f"{page}: duplicate ids {duplicated}"
        parsed[page] = links
    for page, links in parsed.items():
        for link in links.links:
            parts = urlsplit(link)
            if parts.scheme == "data":
                continue
            assert not parts.scheme and not parts.netloc, f"{page}: external link {link}"
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert target.is_file(), f"{page}: broken link {link}"
            assert report.resolve() in target.parents, f"{page}: link leaves the report: {link}"
            fragment = unquote(parts.fragment)
            if fragment and "=" not in fragment:  # "#rule=x" is the overview's filter state, not an anchor
                assert fragment in parsed[target].ids, f"{page}: no #{fragment} in {target.name}"
    return parsed


def _summary_keys(summary: dict) -> dict[str, int]:
    """summary.json counters by the path the report's data-key attributes use."""
    keys = {key: summary.get(key, 0) for key in ("documents_in", "records", "rejected", "mt_suspect", "text_chars")}

    def walk(node, prefix):
        for name, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}.{name}")
            else:
                keys[f"{prefix}.{name}"] = value
    for section in ("rejected_by", "removed", "repairs", "languages", "entities", "ner"):
        walk(summary.get(section, {}), section)
    for relation, stats in summary.get("clusters", {}).items():
        keys[f"clusters.{relation}.clusters"] = stats["clusters"]
        walk(stats["size_distribution"], f"clusters.{relation}.size_distribution")
    return keys


def test_report_pages_are_valid_html_with_working_links(made_run):
    report = made_run["index"].parent
    parsed = check_report(report)
    names = {path.name for path in parsed}
    assert {"index.html", "rejected.html", page_name(made_run["docs"][0].id), page_name(made_run["docs"][1].id)} <= names
    assert not any("http" in link for links in parsed.values() for link in links.links if not link.startswith("data:"))


def test_report_overview_counts_are_the_summary_counts(made_run):
    overview = check_report(made_run["index"].parent)[made_run["index"]]
    expected = _summary_keys(made_run["summary"])
    assert expected["removed.caption.credit_in_brackets"] + expected["removed.caption.agency_slash_credit"] == 6
    assert {key: int(overview.keys[key]) for key in expected} == expected


def test_report_is_byte_identical_when_written_again(made_run, tmp_path):
    copy = tmp_path / "again"
    shutil.copytree(made_run["index"].parent.parent, copy, ignore=shutil.ignore_patterns("report"))
    index = write_report(copy, docs=10, read_config=READ_CONFIG)
    first = {p.relative_to(made_run["index"].parent): p.read_bytes() for p in made_run["index"].parent.rglob("*") if p.is_file()}
    second = {p.relative_to(index.parent): p.read_bytes() for p in index.parent.rglob("*") if p.is_file()}
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []


def test_report_docs_option_limits_pages_and_doc_adds_one(tmp_path):
    run = make_run(tmp_path / "run")
    index = write_report(tmp_path / "run", docs=0, doc_ids=[run["docs"][1].id], read_config=READ_CONFIG)
    assert sorted(p.name for p in (index.parent / "docs").iterdir()) == [page_name(run["docs"][1].id)]
    assert not list(tmp_path.joinpath("run").glob(".report-*"))


def test_report_document_pages_link_neighbours_and_rejected_page_lists_entries(made_run):
    report = made_run["index"].parent
    first, second = made_run["docs"]
    page_003 = (report / "docs" / page_name(second.id)).read_text("utf-8")
    duplicates = re.search(r'<ul class="neighbours" data-relation="duplicate_of">(.*?)</ul>', page_003, re.S).group(1)
    assert f'href="../docs/{page_name(first.id)}"' in duplicates
    assert "score 0.910" in page_003 and "BEIJING, May 23 (Reuters)" in page_003
    assert "Reporting by Ryan Woo; Additional reporting" in page_003
    rejected = (report / "rejected.html").read_text("utf-8")
    for source, reason in (("scan.pdf", "binary"), ("empty.txt", "empty"), ("menu.html", "no_body")):
        assert re.search(re.escape(source) + r"</td><td>\w+</td><td class=\"mono\">" + reason + "</td>", rejected)
    assert "every line matched a rule" in rejected


def test_report_shows_the_clean_text_when_the_source_is_gone(tmp_path):
    run = make_run(tmp_path / "run")
    gone = tmp_path / "moved-away.txt"
    for path in (tmp_path / "run").glob("records-*.jsonl"):
        path.write_bytes(path.read_bytes().replace(str(SEED_002).encode(), str(gone).encode()))
    index = write_report(tmp_path / "run", docs=10, read_config=READ_CONFIG)
    check_report(index.parent)
    page = (index.parent / "docs" / page_name(run["docs"][0].id)).read_text("utf-8")
    assert "not readable" in page and "showing the clean text" in page
    text = re.search(r'<div class="text" id="original">(.*?)</div>', page, re.S).group(1)
    assert 'class="removed"' not in text and 'Xi Jinping<span class="lbl">PERSON</span></mark> offered' in text


def test_report_cli_writes_the_report_and_prints_its_path(tmp_path, capsys):
    from pipeline.cli import main

    make_run(tmp_path / "run")
    assert main(["report", str(tmp_path / "run"), "--docs", "1"]) == 0
    index = tmp_path / "run" / "report" / "index.html"
    assert f"newsbeam: report: {index} (1 document page)" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "run"), "--doc", "no-such-id"]) == 2
    assert "no-such-id" in capsys.readouterr().err


@pytest.mark.parametrize("overlay, expected", [
    ("read:\n  jsonl_extensions: ['.json']\n", {"jsonl_extensions": [".json"], "max_bytes": 5_000_000}),
    ("captions:\n  max_words: 3\n", {"jsonl_extensions": [".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz"]}),
    ("read:\n  max_bytes: 0\n", "read.max_bytes"),
    ("read:\n  jsonl_extensions: jsonl\n", "read.jsonl_extensions"),
    # One field renamed: the others keep their defaults.
    ("read:\n  jsonl_fields: {text: body}\n",
     {"jsonl_fields": {"text": "body", "id": "id", "url": "url", "title": "title", "published": "published"}}),
    ("read:\n  jsonl_fields: {text: ''}\n", "read.jsonl_fields.text"),
])
def test_report_reads_the_runs_read_settings_from_its_config(tmp_path, overlay, expected):
    from transforms.errors import ConfigError

    config = tmp_path / "run.yaml"
    config.write_text(overlay, "utf-8")
    if isinstance(expected, str):
        with pytest.raises(ConfigError) as error:
            read_settings(str(config))
        assert error.value.key == expected
    else:
        section = read_settings(str(config))
        assert {key: section[key] for key in expected} == expected


def test_report_cli_refuses_a_directory_that_is_not_a_run(tmp_path, capsys):
    from pipeline.cli import main

    assert main(["report", str(tmp_path)]) == 2
    assert "summary.json" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# In headless Chromium.
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("the browser tests need Debian's chromium: run `make browser` first")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _page(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    # Nothing may be fetched from the network: every request must be a file: or data: URL.
    page.route(re.compile(r"^(?!file:|data:).*"), lambda route: (errors.append(route.request.url), route.abort()))
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return page, errors


def check_overview_in_browser(browser, index: Path, summary: dict, shot: str) -> None:
    page, errors = _page(browser, index)
    shown = page.eval_on_selector_all("[data-key]", "els => els.map(e => [e.dataset.key, e.textContent.trim()])")
    shown = dict(shown)
    for key, value in _summary_keys(summary).items():
        assert shown.get(key) == str(value), f"overview shows {shown.get(key)!r} for {key}, summary.json has {value}"
    assert page.locator("#doc-table tbody tr").count() == min(50, summary["records"])
    assert "of " + str(summary["records"]) in page.inner_text("#status")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    assert errors == []
    page.close()


def check_document_002_in_browser(browser, index: Path, doc_id: str, shot: str) -> None:
    page, errors = _page(browser, index.parent / "docs" / page_name(doc_id))
    captions = page.eval_on_selector_all(
        "#original del.removed[data-kind=caption]",
        "els => els.map(e => [e.dataset.item, getComputedStyle(e).textDecorationLine, e.textContent])")
    struck = {item for item, decoration, _ in captions if "line-through" in decoration}
    assert len(struck) == 6, f"captions struck through: {captions}"
    assert any("Sputnik/Alexander Astafyev" in text for _, _, text in captions)
    labels = page.eval_on_selector_all("#original .why", "els => els.map(e => e.textContent)")
    assert sum(label.startswith("caption · ") for label in labels) == 6
    repairs = page.eval_on_selector_all("#original .repair", "els => els.map(e => e.innerText)")
    assert "Jinpingoffered → Jinping offered" in repairs
    marks = page.eval_on_selector_all(
        "#original mark.ent", "els => els.map(e => [e.dataset.label, e.title, e.querySelector('.lbl') && e.querySelector('.lbl').textContent])")
    assert marks, "no entity highlighted"
    for label, title, badge in marks:
        assert label and title.startswith(label + " · ") and badge in (None, label)
    assert any(label == "PERSON" and "Xi Jinping" in title and badge == "PERSON" for label, title, badge in marks)
    page.locator("#text").screenshot(path=str(ARTIFACTS / shot))
    assert errors == []
    page.close()


def test_report_made_run_in_chromium(browser, made_run):
    check_overview_in_browser(browser, made_run["index"], made_run["summary"], "made-overview.png")
    check_document_002_in_browser(browser, made_run["index"], made_run["docs"][0].id, "made-002.png")


def test_report_filters_work_without_a_server(browser, made_run):
    page, errors = _page(browser, made_run["index"])
    page.select_option("#f-rule", "wire_credit_tail")
    assert page.locator("#doc-table tbody tr").count() == 1
    assert "003_" in page.inner_text("#doc-table tbody")
    page.select_option("#f-rule", "")
    page.fill("#f-entity", "xinhua")
    assert page.locator("#doc-table tbody tr").count() == 1 and "002_" in page.inner_text("#doc-table tbody")
    page.goto(made_run["index"].resolve().as_uri() + "#source=nowhere")
    assert page.locator("#doc-table tbody tr").count() == 0
    assert "No document matches" in page.inner_text("#status")
    assert errors == []
    page.close()


@pytest.fixture(scope="module")
def seed_report(tmp_path_factory) -> dict:
    """A real `newsbeam run` over seeds/ and its report."""
    output = tmp_path_factory.mktemp("seed_report")
    assert run_cli(str(SEEDS / "*.txt"), output) == 0
    index = write_report(output)
    records = [orjson.loads(line) for path in sorted(output.glob("records-*.jsonl"))
               for line in path.read_bytes().splitlines() if line]
    return {"index": index, "summary": orjson.loads((output / "summary.json").read_bytes()),
            "by_name": {Path(r["source"]).name[:3]: r for r in records}}


def test_report_seed_run_in_chromium(browser, seed_report):
    check_report(seed_report["index"].parent)
    check_overview_in_browser(browser, seed_report["index"], seed_report["summary"], "seed-overview.png")
    check_document_002_in_browser(browser, seed_report["index"], seed_report["by_name"]["002"]["id"], "seed-002.png")
