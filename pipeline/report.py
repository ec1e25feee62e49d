"""``newsbeam report OUT_DIR``: a static HTML report of a finished run, to see what the cleaner did.

Reads ``records-*.jsonl``, ``rejected-*.jsonl`` and ``summary.json`` of a run directory and writes
``OUT_DIR/report/``: an overview (counts, tables, charts, a filterable and paginated document list),
rejected pages, and per-document pages for a sample (``--docs N``) or chosen documents (``--doc ID``)
that show the original text with every removal, repair and entity placed in it.

Everything is static and self-contained (no server, no network): pages are rendered with Jinja2,
charts with matplotlib to SVG, and the document list's search runs in inline JavaScript over index
files written beside the page. Records are streamed twice (once for the index and aggregates, once
for the sampled documents), so a 100k-record run never holds all texts in memory.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import heapq
import io
import os
import re
import shutil
import tempfile
import webbrowser
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import orjson
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pipeline import __version__

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_DIR = "report"
DEFAULT_DOCS = 50
INDEX_CHUNK = 5000          # documents per index file: a 100k run loads 20 small scripts, not one huge page
REJECTED_PER_PAGE = 1000
TOP_ENTITIES = 40
TOP_CLUSTERS = 20
MAX_NEIGHBOURS = 50
MAX_DOC_ENTITIES = 50       # distinct canonical names per document kept in the search index
CONTEXTS = (24, 12, 6, 0)   # characters of clean-text context tried, longest first, to place a repair
RELATIONS = (("duplicate_of", "Near-duplicates"), ("rewrite_of", "Rewrites"), ("story_id", "Stories"))
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_ID_PREFIX = re.compile(rb'\{"id":("(?:[^"\\]|\\.)*")')


class ReportError(Exception):
    """The directory is not a finished run (no summary.json) or cannot be read."""


# --------------------------------------------------------------------------------------------
# Placing a record's removals, repairs and entities in a text (pure functions).
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Placed:
    """Where one item of a record (``index`` into its list) lies in the displayed text."""

    start: int
    end: int
    index: int


def place_removed(text: str, removed: list[Mapping[str, Any]]) -> tuple[list[Placed], list[int]]:
    """Removed items in ``text`` (the raw input) by their raw offsets, else by their text in order.

    Returns the placed spans (sorted, non-overlapping) and the indexes of the items not placed.
    """
    placed: list[Placed] = []
    missing: list[int] = []
    cursor = 0
    for index, item in enumerate(removed):
        start, end = item.get("raw_start"), item.get("raw_end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            # No usable offsets: removed items are in document order, so look after the last one.
            found = text.find(item["text"], cursor) if item.get("text") else -1
            start, end = (found, found + len(item["text"])) if found >= 0 else (None, None)
        if start is None:
            missing.append(index)
            continue
        placed.append(Placed(start, end, index))
        cursor = max(cursor, end)
    return _without_overlaps(placed, missing)


def place_entities(entities: list[Mapping[str, Any]], length: int, raw: bool) -> tuple[list[Placed], list[int]]:
    """Entities by their raw offsets (``raw=True``) or by their offsets in the clean text."""
    keys = ("raw_start", "raw_end") if raw else ("start", "end")
    placed: list[Placed] = []
    missing: list[int] = []
    for index, entity in enumerate(entities):
        start, end = entity.get(keys[0]), entity.get(keys[1])
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= length:
            placed.append(Placed(start, end, index))
        else:
            missing.append(index)
    return _without_overlaps(placed, missing)


def place_repairs(raw: str, clean: str, repairs: list[Mapping[str, Any]],
                  anchors: list[tuple[int, int]]) -> tuple[list[Placed], list[int]]:
    """Repairs in the raw text.

    A repair records ``before``/``after`` and its ``start`` in the clean text, not in the raw input,
    so it is found in the raw text as ``before`` with the clean text's neighbours around it (longest
    context first), at the occurrence nearest to where ``anchors`` (clean -> raw offset pairs, e.g.
    from entities) say it should be. A repair whose ``before`` never was in the raw text (a repair of
    an earlier repair) is not placed, and is listed in the page's repairs table only.
    """
    placed: list[Placed] = []
    missing: list[int] = []
    taken: set[tuple[int, int]] = set()
    for index, repair in enumerate(repairs):
        before, after, start = repair.get("before", ""), repair.get("after", ""), repair.get("start")
        if isinstance(repair.get("raw_start"), int) and isinstance(repair.get("raw_end"), int):
            span = (repair["raw_start"], repair["raw_end"])
        elif isinstance(start, int) and 0 <= start <= len(clean):
            span = _find_repair(raw, clean, before, after, start, _estimate(start, anchors))
        else:
            span = None
        if span is None or span in taken or not 0 <= span[0] <= span[1] <= len(raw):
            missing.append(index)
            continue
        taken.add(span)
        placed.append(Placed(span[0], span[1], index))
    return _without_overlaps(placed, missing)


def _estimate(clean_pos: int, anchors: list[tuple[int, int]]) -> int:
    """Raw offset of a clean-text offset, shifted like the nearest anchor before it."""
    base_clean, base_raw = 0, 0
    for anchor_clean, anchor_raw in anchors:
        if anchor_clean > clean_pos:
            break
        base_clean, base_raw = anchor_clean, anchor_raw
    return base_raw + clean_pos - base_clean


def _find_repair(raw: str, clean: str, before: str, after: str, start: int, near: int) -> tuple[int, int] | None:
    for context in CONTEXTS:
        left = clean[max(0, start - context):start]
        right = clean[start + len(after):start + len(after) + context]
        probe = left + before + right
        if not probe or (context == 0 and not before):
            continue
        hits = []
        found = raw.find(probe)
        while found >= 0:
            hits.append(found + len(left))
            found = raw.find(probe, found + 1)
        if hits:
            best = min(hits, key=lambda hit: (abs(hit - near), hit))
            return (best, best + len(before))
    return None


def _without_overlaps(placed: list[Placed], missing: list[int]) -> tuple[list[Placed], list[int]]:
    """Sorted spans; a span overlapping an earlier one is not drawn (it stays in the page's tables)."""
    kept: list[Placed] = []
    for span in sorted(placed, key=lambda s: (s.start, s.end, s.index)):
        if kept and span.start < kept[-1].end:
            missing.append(span.index)
        else:
            kept.append(span)
    return kept, sorted(missing)


def _snap(entities: list[Placed], repairs: list[Placed]) -> list[Placed]:
    """Widen an entity that cuts into a repair to the whole repair, which is drawn as one unit."""
    snapped = []
    for entity in entities:
        start, end = entity.start, entity.end
        for repair in repairs:
            if repair.start < end and start < repair.end or (repair.start == repair.end and start < repair.start < end):
                start, end = min(start, repair.start), max(end, repair.end)
        snapped.append(Placed(start, end, entity.index))
    return _without_overlaps(snapped, [])[0]


def _cover(spans: list[Placed]) -> Callable[[int], Placed | None]:
    """Lookup of the span covering a position, for sorted non-overlapping spans."""
    starts = [span.start for span in spans]

    def at(position: int) -> Placed | None:
        index = bisect.bisect_right(starts, position) - 1
        return spans[index] if index >= 0 and position < spans[index].end else None
    return at


def pieces(text: str, removed: list[Placed], entities: list[Placed], repairs: list[Placed]) -> list[dict[str, Any]]:
    """Cut ``text`` into runs that share the same removal, entity and repair, for the template.

    Each piece says which removed item / entity / repair (indexes into the record's lists) covers
    it, and whether it opens the removal (where its label goes) or closes the entity (where its
    label goes). A repair is one piece (its ``before`` → ``after``); an insertion is an empty one.
    """
    entities = _snap(entities, repairs)
    bounds = sorted({0, len(text)} | {p for span in (*removed, *entities, *repairs) for p in (span.start, span.end)})
    insertions: dict[int, list[int]] = defaultdict(list)
    for repair in repairs:
        if repair.start == repair.end:
            insertions[repair.start].append(repair.index)
    out: list[dict[str, Any]] = []
    removed_at, entity_at = _cover(removed), _cover(entities)
    repair_at = _cover([r for r in repairs if r.start < r.end])

    def piece(start: int, end: int, repair: int | None) -> dict[str, Any]:
        gone, entity = removed_at(start), entity_at(start)
        return {"text": text[start:end], "repair": repair,
                "removed": gone.index if gone else None, "removed_first": bool(gone and gone.start == start),
                "entity": entity.index if entity else None, "entity_last": bool(entity and entity.end == end)}

    for start, end in zip(bounds, bounds[1:]):
        for index in insertions.get(start, ()):
            out.append(piece(start, start, index))
        repair = repair_at(start)
        if repair is None:
            out.append(piece(start, end, None))
        elif repair.start == start:
            out.append(piece(start, repair.end, repair.index))
    for index in insertions.get(len(text), ()) if text else ():
        out.append(piece(len(text), len(text), index))
    return out


def annotate(record: Mapping[str, Any], raw: str | None) -> dict[str, Any]:
    """Everything the document page draws: the original text annotated, or the clean one if no raw."""
    clean = record["text"]
    if raw is None:
        entities, ent_missing = place_entities(record["entities"], len(clean), raw=False)
        return {"original": False, "pieces": pieces(clean, [], entities, []),
                "unplaced": {"removed": list(range(len(record["removed"]))),
                             "repairs": list(range(len(record["repairs"]))), "entities": ent_missing}}
    removed, rem_missing = place_removed(raw, record["removed"])
    entities, ent_missing = place_entities(record["entities"], len(raw), raw=True)
    anchors = sorted((e["start"], e["raw_start"]) for e in record["entities"]
                     if isinstance(e.get("start"), int) and isinstance(e.get("raw_start"), int))
    repairs, rep_missing = place_repairs(raw, clean, record["repairs"], anchors)
    # A repair inside a removed line would be drawn twice: the removal already shows that text.
    inside = [r for r in repairs if any(g.start <= r.start and r.end <= g.end for g in removed)]
    repairs = [r for r in repairs if r not in inside]
    return {"original": True, "pieces": pieces(raw, removed, entities, repairs),
            "unplaced": {"removed": rem_missing, "repairs": sorted(rep_missing + [r.index for r in inside]),
                         "entities": ent_missing}}


# --------------------------------------------------------------------------------------------
# Reading a run.
# --------------------------------------------------------------------------------------------

def _lines(paths: Iterable[Path], ids: set[str] | None = None) -> Iterator[dict[str, Any]]:
    """Parsed JSONL lines of ``paths``, streamed; with ``ids``, only the records with those ids.

    Records are written with ``id`` first (``RECORD_FIELDS``), so the id is read from the start of
    the line and only wanted lines are parsed whole.
    """
    for path in paths:
        with path.open("rb") as handle:
            for line in handle:
                if not line.strip():
                    continue
                if ids is not None:
                    head = _ID_PREFIX.match(line)
                    if head and orjson.loads(head.group(1)) not in ids:
                        continue
                record = orjson.loads(line)
                if ids is None or record["id"] in ids:
                    yield record


def page_name(doc_id: str) -> str:
    """File name of a document's page: its id when that is a safe file name, else a hash of it."""
    if _SAFE_NAME.fullmatch(doc_id) and doc_id not in {".", ".."}:
        return f"{doc_id}.html"
    return f"id-{hashlib.sha256(doc_id.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}.html"


def sample_key(doc_id: str) -> bytes:
    """Sort key of the pseudo-random, run-independent document sample."""
    return hashlib.sha256(doc_id.encode("utf-8", "surrogatepass")).digest()


@dataclass
class RunIndex:
    """What one pass over the records gathers: small per-document entries and run-wide aggregates."""

    entries: list[tuple[str, str, str]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    mentions: Counter = field(default_factory=Counter)
    doc_frequency: Counter = field(default_factory=Counter)
    clusters: dict[str, dict[str, list[str]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    sample: list[tuple[bytes, str]] = field(default_factory=list)
    facets: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def index_run(record_files: list[Path], sample_size: int) -> RunIndex:
    """One streaming pass: search entries (no text), entity and cluster aggregates, the sample."""
    run = RunIndex()
    for record in _lines(record_files):
        doc_id = record["id"]
        canon = Counter((e["canonical"] or e["text"], e["label"]) for e in record["entities"])
        run.mentions.update(canon)
        run.doc_frequency.update(canon.keys())
        per_name: Counter = Counter()
        for (name, _), count in canon.items():
            per_name[name] += count
        names = [name for name, _ in sorted(per_name.items(), key=lambda item: (-item[1], item[0]))]
        rules = sorted({item["rule"] for item in record["removed"]})
        language = record["language"] or "und"
        entry = {"i": doc_id, "s": record["source"], "t": record["title"] or "", "l": language,
                 "r": rules, "k": len(record["removed"]), "p": len(record["repairs"]),
                 "n": len(record["entities"]), "e": names[:MAX_DOC_ENTITIES],
                 "d": record["duplicate_of"], "w": record["rewrite_of"], "y": record["story_id"],
                 "m": bool(record["mt_suspect"])}
        # As str: orjson's bytes keep a 4 KiB buffer each, which 100k entries would multiply.
        run.entries.append((record["source"], doc_id, orjson.dumps(entry).decode("utf-8")))
        run.labels[doc_id] = record["title"] or record["source"]
        run.facets["languages"].add(language)
        run.facets["rules"].update(rules)
        for relation, _ in RELATIONS:
            if record[relation] is not None:
                run.clusters[relation][record[relation]].append(doc_id)
        if sample_size > 0:
            # Keep the sample_size smallest keys: a max-heap by negated key bytes.
            item = (bytes(255 - b for b in sample_key(doc_id)), doc_id)
            if len(run.sample) < sample_size:
                heapq.heappush(run.sample, item)
            elif item > run.sample[0]:
                heapq.heapreplace(run.sample, item)
    run.entries.sort()
    for members in (m for relation in run.clusters.values() for m in relation.values()):
        members.sort()
    return run


def read_settings(path: str | None) -> dict[str, Any]:
    """The run's ``read`` settings: the defaults overlaid with ``path``'s, checked against their schema.

    Not ``load_config``: that also runs every stage's start checks (spaCy language classes, rule
    packs), about 30 s on a busy machine, for the settings that decoding needs.
    """
    import json

    from jsonschema import Draft202012Validator

    from pipeline.config import DEFAULT_CONFIG, SCHEMA_DIR, _merge, _read_yaml
    from transforms.errors import ConfigError

    section = dict(_read_yaml(DEFAULT_CONFIG)["read"])
    if path is not None:
        user = _read_yaml(Path(path))
        if isinstance(user, dict) and isinstance(user.get("read"), dict):
            section = _merge(section, user["read"])
    schema = json.loads((SCHEMA_DIR / "read.schema.json").read_text("utf-8"))
    errors = sorted(Draft202012Validator(schema).iter_errors(section), key=lambda e: list(map(str, e.path)))
    if errors:
        raise ConfigError(".".join(["read", *map(str, errors[0].absolute_path)]), errors[0].message)
    return section


def load_originals(records: list[Mapping[str, Any]], read_config: Mapping[str, Any],
                   source_root: Path | None) -> Iterator[tuple[Mapping[str, Any], str | None, str]]:
    """Each record with its original decoded text (or ``None``) and a note on where it came from.

    Sources are read exactly as the run's reader read them (:func:`transforms.read.read_file`), one
    input file at a time (a JSONL feed holding many sampled records is streamed once), and the
    decoded document's id must equal the record's id: a source file changed since the run is not
    shown as its original.
    """
    from transforms.document import Document
    from transforms.read import is_jsonl, read_file

    by_file: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for record in records:
        path, sep, line = record["source"].rpartition(":")
        file = path if sep and line.isdigit() and is_jsonl(path, read_config["jsonl_extensions"]) else record["source"]
        by_file[file].append(record)
    for file in sorted(by_file):
        location = _locate(file, source_root)
        wanted = {record["source"]: record for record in by_file[file]}
        found: dict[str, Document] = {}
        refused = None  # why the whole file could not be read
        opener = partial(_open_as, location)
        for item in read_file(file, opener, read_config):
            if isinstance(item, Document):
                if item.source in wanted:
                    found[item.source] = item
            elif item.source == file:
                refused = f"{item.reason}: {item.detail}"
        for source, record in sorted(wanted.items()):
            if refused is not None and source not in found:
                yield record, None, f"source {location} not readable ({refused}); showing the clean text"
                continue
            doc = found.get(source)
            if doc is None or doc.id != record["id"]:
                yield record, None, f"source {location} has changed since the run; showing the clean text"
            else:
                yield record, doc.text, f"original text from {location}"  # as read: the raw text


def _open_as(location: str, compression_type: str) -> Any:
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.open(location, compression_type=compression_type)


def _locate(file: str, source_root: Path | None) -> str:
    if "://" in file or os.path.isabs(file) or source_root is None:
        return file
    return str(source_root / file)


# --------------------------------------------------------------------------------------------
# Charts and tables.
# --------------------------------------------------------------------------------------------

def bar_chart(name: str, rows: list[tuple[str, int]], limit: int = 20) -> str | None:
    """A horizontal bar chart as an SVG data URI (deterministic bytes), or None without data."""
    rows = rows[:limit]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    # Fixed salt and no date: the same run gives the same SVG bytes; text stays text, not paths.
    with matplotlib.rc_context({"svg.hashsalt": f"newsbeam-{name}", "svg.fonttype": "none",
                                "font.size": 9, "font.family": "DejaVu Sans"}):
        figure = Figure(figsize=(6.4, 0.6 + 0.26 * len(rows)))
        axes = figure.subplots()
        labels = [label if len(label) <= 42 else label[:41] + "…" for label, _ in rows][::-1]
        values = [value for _, value in rows][::-1]
        bars = axes.barh(range(len(rows)), values, color="#3b6ea5")
        axes.set_yticks(range(len(rows)), labels)
        axes.bar_label(bars, padding=3, fontsize=8)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.spines[["top", "right"]].set_visible(False)
        axes.margins(x=0.12)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _flat(node: Any, prefix: str) -> list[tuple[str, int]]:
    if isinstance(node, dict):
        return [row for key, value in sorted(node.items()) for row in _flat(value, f"{prefix}.{key}")]
    return [(prefix, int(node))]


def _ranked(rows: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def overview_sections(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The summary's counters as titled tables (each row keyed by its summary.json path) with charts."""
    specs = (("rejected_by", "Rejected by stage and reason", ("stage", "reason"), "rejected"),
             ("removed", "Removed per kind and rule", ("kind", "rule"), "rule"),
             ("repairs", "Repairs per kind", ("kind",), None),
             ("languages", "Documents per language", ("language",), "lang"),
             ("entities", "Entities per label", ("label",), None),
             ("ner", "Entity recognition", ("pipeline",), None))
    sections = []
    for key, title, columns, filter_key in specs:
        rows = []
        for path, count in _ranked(_flat(summary.get(key, {}), key)):
            parts = path.split(".", len(columns))[1:]
            rows.append({"key": path, "cells": parts, "count": count, "filter": parts[-1] if filter_key else None})
        chart_rows = [(" · ".join(row["cells"]), row["count"]) for row in rows]
        sections.append({"id": key.replace("_", "-"), "title": title, "columns": columns, "rows": rows,
                         "filter_key": filter_key, "total": sum(row["count"] for row in rows),
                         "chart": bar_chart(key, chart_rows)})
    return sections


def cluster_sections(summary: Mapping[str, Any], run: RunIndex, pages: Mapping[str, str]) -> list[dict[str, Any]]:
    """Per relation: the size distribution from summary.json and the largest clusters with members."""
    out = []
    for relation, title in RELATIONS:
        stats = summary.get("clusters", {}).get(relation)
        groups = run.clusters.get(relation, {})
        if not stats and not groups:
            continue
        stats = stats or {"clusters": 0, "size_distribution": {}}
        largest = []
        for cluster_id, members in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))[:TOP_CLUSTERS]:
            # duplicate_of/rewrite_of point at the canonical member, which is part of the cluster.
            ids = members if relation == "story_id" else [cluster_id, *members]
            largest.append({"id": cluster_id, "size": len(ids),
                            "members": [_link(member, run, pages) for member in ids[:MAX_NEIGHBOURS]]})
        distribution = [(size, count) for size, count in sorted(stats["size_distribution"].items(), key=lambda i: int(i[0]))]
        out.append({"relation": relation, "title": title, "clusters": stats["clusters"], "distribution": distribution,
                    "largest": largest,
                    "chart": bar_chart(f"clusters-{relation}", [(f"size {s}", c) for s, c in distribution][::-1])})
    return out


def _link(doc_id: str, run: RunIndex, pages: Mapping[str, str], prefix: str = "") -> dict[str, str]:
    """A link to a document: its page when it has one, else the overview filtered to it."""
    href = f"{prefix}docs/{pages[doc_id]}" if doc_id in pages else f"{prefix}index.html#id={_quote(doc_id)}"
    return {"id": doc_id, "label": run.labels.get(doc_id, "(not in this run's records)"), "href": href}


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def neighbours(record: Mapping[str, Any], run: RunIndex, pages: Mapping[str, str]) -> list[dict[str, Any]]:
    """Links from a document page to its duplicate, rewrite and story neighbours (both directions)."""
    doc_id = record["id"]
    groups = []
    for relation, title in RELATIONS:
        value = record[relation]
        if relation == "story_id":
            ids = [m for m in run.clusters.get(relation, {}).get(value, []) if m != doc_id] if value else []
            label = f"Same story ({value})" if value else None
        else:
            ids = ([value] if value else []) + run.clusters.get(relation, {}).get(doc_id, [])
            label = f"{title}: {'of' if value else 'with'} this document"
        if ids:
            score = record.get(relation.replace("_of", "_score")) if relation.endswith("_of") else None
            groups.append({"relation": relation, "title": label, "score": score,
                           "links": [_link(m, run, pages, "../") for m in ids[:MAX_NEIGHBOURS]],
                           "more": max(0, len(ids) - MAX_NEIGHBOURS)})
    return groups


# --------------------------------------------------------------------------------------------
# Writing the report.
# --------------------------------------------------------------------------------------------

def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["json"] = lambda value: orjson.dumps(value).decode("utf-8")
    return env


def write_report(out_dir: str | Path, docs: int = DEFAULT_DOCS, doc_ids: Iterable[str] = (),
                 source_root: str | Path | None = None, config_path: str | None = None,
                 read_config: Mapping[str, Any] | None = None) -> Path:
    """Write ``out_dir/report/`` for a finished run and return the path of its ``index.html``.

    Sources are decoded with ``read_config`` (the ``read`` section), by default that of the
    effective configuration (``config_path`` overlaid on the defaults), as the run decoded them.
    """
    out = Path(out_dir)
    summary_path = out / "summary.json"
    if not summary_path.is_file():
        raise ReportError(f"{out} has no summary.json: not a finished newsbeam run")
    summary = orjson.loads(summary_path.read_bytes())
    record_files = sorted(out.glob("records-*.jsonl"))
    rejected_files = sorted(out.glob("rejected-*.jsonl"))
    if read_config is None:
        read_config = read_settings(config_path)
    run = index_run(record_files, docs)
    wanted = {doc_id for _, doc_id in run.sample} | set(doc_ids)
    unknown = sorted(set(doc_ids) - set(run.labels))
    if unknown:
        raise ReportError(f"--doc {unknown[0]!r}: no record with this id in {out}")
    pages = {doc_id: page_name(doc_id) for doc_id in sorted(wanted)}
    env = _environment()
    root = source_root if source_root is not None else Path.cwd()
    staging = Path(tempfile.mkdtemp(prefix=".report-", dir=out))
    try:
        (staging / "docs").mkdir()
        (staging / "data").mkdir()
        order = _write_documents(env, staging, record_files, wanted, pages, run, summary, read_config, Path(root))
        chunks = _write_index(staging, run)
        rejected_pages = _write_rejected(env, staging, rejected_files, summary)
        top = [{"name": name, "label": label, "mentions": count, "documents": run.doc_frequency[(name, label)]}
               for (name, label), count in sorted(run.mentions.items(), key=lambda i: (-i[1], i[0]))[:TOP_ENTITIES]]
        html = env.get_template("index.html").render(
            root="", summary=summary, version=__version__, sections=overview_sections(summary),
            clusters=cluster_sections(summary, run, pages), top_entities=top,
            top_chart=bar_chart("top-entities", [(f"{e['name']} ({e['label']})", e["mentions"]) for e in top]),
            chunks=chunks, pages=pages, sampled=[_link(doc_id, run, pages) for doc_id in order],
            facets={key: sorted(values) for key, values in run.facets.items()},
            rejected_pages=rejected_pages, records=len(run.entries))
        (staging / "index.html").write_text(html, encoding="utf-8")
        target = out / REPORT_DIR
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target / "index.html"


def _write_documents(env: Environment, staging: Path, record_files: list[Path], wanted: set[str],
                     pages: Mapping[str, str], run: RunIndex, summary: Mapping[str, Any],
                     read_config: Mapping[str, Any], source_root: Path) -> list[str]:
    """Second pass: pick the wanted records (only those are held) and write one page each."""
    chosen = sorted(_lines(record_files, wanted), key=lambda r: (r["source"], r["id"]))
    order = [record["id"] for record in chosen]
    position = {doc_id: number for number, doc_id in enumerate(order)}
    template = env.get_template("document.html")
    for record, raw, note in load_originals(chosen, read_config, source_root):
        number = position[record["id"]]
        previous = pages[order[number - 1]] if number > 0 else None
        following = pages[order[number + 1]] if number + 1 < len(order) else None
        html = template.render(record=record, view=annotate(record, raw), note=note, summary=summary,
                               neighbours=neighbours(record, run, pages), previous=previous, following=following,
                               root="../", version=__version__)
        (staging / "docs" / pages[record["id"]]).write_text(html, encoding="utf-8")
    return order


def _write_index(staging: Path, run: RunIndex) -> list[str]:
    """The search index as scripts of INDEX_CHUNK entries (scripts load from file://, JSON fetches do not)."""
    names = []
    for number, begin in enumerate(range(0, len(run.entries), INDEX_CHUNK)):
        name = f"data/index-{number:04d}.js"
        body = ",\n".join(entry for _, _, entry in run.entries[begin:begin + INDEX_CHUNK])
        (staging / name).write_text(f"NB.add([\n{body}\n]);\n", encoding="utf-8")
        names.append(name)
    return names


def _write_rejected(env: Environment, staging: Path, rejected_files: list[Path], summary: Mapping[str, Any]) -> list[str]:
    """Rejected entries sorted by stage, reason and source, REJECTED_PER_PAGE per static page."""
    entries = sorted(_lines(rejected_files), key=lambda e: (e["stage"], e["reason"], e["source"], e["detail"]))
    count = max(1, -(-len(entries) // REJECTED_PER_PAGE))
    names = ["rejected.html" if n == 0 else f"rejected-{n + 1}.html" for n in range(count)]
    by_reason = _ranked(_flat(summary.get("rejected_by", {}), "rejected_by"))
    from transforms.errors import REASONS

    for number, name in enumerate(names):
        html = env.get_template("rejected.html").render(
            entries=entries[number * REJECTED_PER_PAGE:(number + 1) * REJECTED_PER_PAGE], by_reason=by_reason,
            reasons=REASONS, pages=names, number=number, total=len(entries), summary=summary, version=__version__,
            root="")
        (staging / name).write_text(html, encoding="utf-8")
    return names


def main(out_dir: str, docs: int, doc_ids: list[str], source_root: str | None, config_path: str | None,
         open_browser: bool) -> Path:
    """The ``newsbeam report`` command: write the report, print its path, optionally open it."""
    index = write_report(out_dir, docs, doc_ids, source_root, config_path)
    pages = len(list((index.parent / "docs").glob("*.html")))
    print(f"newsbeam: report: {index.resolve()} ({pages} document page{'' if pages == 1 else 's'})")
    if open_browser:
        webbrowser.open(index.resolve().as_uri())
    return index
