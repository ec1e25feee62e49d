"""Header and metadata: date marker, title, dateline, byline and credits move from the body to fields.

Each piece found is also listed in ``doc.removed`` (kinds ``header``, ``title``, ``dateline``,
``byline``, ``credit``) so the change is auditable. Rules are data in ``configs/rules/header.yaml``.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import re
from typing import Any, Mapping

from transforms.document import Document
from transforms.errors import ConfigError
from transforms.layout import Line, Removal, alternation, compile_rules, content_span, lines, remove
from transforms.rules import LINE_CACHE, MATCH_SECONDS

STAGE = "header"

_FINAL_PUNCT = re.compile(r"[.!?;:,…]$")
_WORD = re.compile(r"\w+")
_PACKS = ("published", "dateline", "byline", "credits")


def _normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _value(match: Any) -> str:
    return (match.group("value") if "value" in match.groupdict() else match.group()).strip()


class HeaderRules:
    """Compiled header rules and limits (built once per worker)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        section = config["header"]
        data = config["files"][section["rules_file"]]
        key = f"header.rules_file ({section['rules_file']})"
        if not isinstance(data, dict) or sorted(data) != sorted(_PACKS):
            raise ConfigError(key, f"needs exactly the rule packs {', '.join(_PACKS)}")
        self.published = compile_rules(data["published"], f"{key}.published")
        self.dateline = compile_rules(data["dateline"], f"{key}.dateline")
        self.byline = compile_rules(data["byline"], f"{key}.byline")
        credits = compile_rules(data["credits"], f"{key}.credits")
        scopes = [rule.get("scope") for rule in data["credits"]]
        for (rule_id, pattern), scope in zip(credits, scopes):
            if scope not in ("line", "tail"):
                raise ConfigError(f"{key}.credits ({rule_id})", "scope must be 'line' or 'tail'")
            # Only the tail's credit is cut from its paragraph, so the rule must say where it is.
            if scope == "tail" and "value" not in pattern.groupindex:
                raise ConfigError(f"{key}.credits ({rule_id})", "a tail rule needs a (?P<value>...) group: "
                                                                "the credit sentence to take out")
        self.credit_lines = [rule for rule, scope in zip(credits, scopes) if scope == "line"]
        self.any_credit_line = alternation([pattern for _, pattern in self.credit_lines])
        self.credit_tails = [rule for rule, scope in zip(credits, scopes) if scope == "tail"]
        self.head_lines: int = section["head_lines"]
        self.title_max_words: int = section["title_max_words"]
        self.title_repeat_min_words: int = section["title_repeat_min_words"]
        # Credits are looked for on every line of the body and a line's verdict depends on its text
        # alone: each is asked once per distinct line (rules.LINE_CACHE).
        self.credit_line = functools.lru_cache(maxsize=LINE_CACHE)(self._credit_line)
        self.credit_tail = functools.lru_cache(maxsize=LINE_CACHE)(self._credit_tail)

    def _credit_line(self, text: str) -> tuple[str, Any] | None:
        """The first ``scope: line`` credit rule matching the stripped line ``text``, with its match."""
        if self.any_credit_line is None or self.any_credit_line.match(text, timeout=MATCH_SECONDS):
            return _first_match(self.credit_lines, text)
        return None

    def _credit_tail(self, text: str) -> tuple[str, Any] | None:
        """The first ``scope: tail`` credit rule found in the stripped line ``text``, with its match."""
        return _first_match(self.credit_tails, text, search=True)


def _first_match(rules: list[tuple[str, Any]], text: str, search: bool = False) -> tuple[str, Any] | None:
    for rule_id, pattern in rules:
        match = (pattern.search(text, timeout=MATCH_SECONDS) if search
                 else pattern.match(text, timeout=MATCH_SECONDS))
        if match:
            return rule_id, match
    return None


def _published(doc: Document, rules: HeaderRules, first: Line, found: list[Removal]) -> int:
    """Take a leading date marker; return where the rest of the first line starts."""
    hit = _first_match(rules.published, first.text)
    if not hit:
        return first.start
    rule_id, match = hit
    try:
        date = datetime.date.fromisoformat(_value(match)).isoformat()
    except ValueError:
        return first.start
    if doc.published is None:
        doc.published = date
    # The marker without the white space before it, which layout normalises anyway.
    marker = match.group()
    found.append(Removal(first.start + match.start() + len(marker) - len(marker.lstrip()),
                         first.start + match.end(), "header", rule_id))
    return first.start + match.end()


def _title(doc: Document, rules: HeaderRules, body: list[Line], found: list[Removal]) -> None:
    """The title a feed gave, or else a short first line without final punctuation; its copies in the
    body go too."""
    if not body:
        return
    rest = body
    if doc.title is None:
        first = body[0]
        text = first.stripped
        words = len(_WORD.findall(text))
        if not 2 <= words <= rules.title_max_words or _FINAL_PUNCT.search(text):
            return
        if _first_match(rules.byline, text) or _first_match(rules.dateline, text):
            return
        doc.title = text
        found.append(Removal(*content_span(first), "title", "title_line"))
        rest = body[1:]
    title = _normalise(doc.title)
    for line in rest:
        candidate = _normalise(line.text)
        # Sites often print the headline again, or the page title is "Headline - Site name".
        if candidate and (candidate == title or (len(candidate.split()) >= rules.title_repeat_min_words
                                                 and f" {candidate} " in f" {title} ")):
            if not _FINAL_PUNCT.search(line.stripped):
                found.append(Removal(*content_span(line), "title", "title_repeat"))


def _head(doc: Document, rules: HeaderRules, head: list[Line], found: list[Removal]) -> None:
    """Byline and wire dateline among the first lines of the body."""
    for line in head:
        text = line.stripped
        start, _ = content_span(line)
        if doc.byline is None:
            hit = _first_match(rules.byline, text)
            if hit:
                doc.byline = _value(hit[1])
                found.append(Removal(*content_span(line), "byline", hit[0]))
                continue
        if doc.dateline is None:
            hit = _first_match(rules.dateline, text)
            if hit:
                rule_id, match = hit
                doc.dateline = _value(match)
                found.append(Removal(start, start + match.end(), "dateline", rule_id))
                return


def _claimed(line: Line, found: list[Removal], start: int | None = None, end: int | None = None) -> bool:
    """Whether a removal already covers part of ``line`` (or of its span ``[start, end)``)."""
    if start is None or end is None:
        start, end = line.start, line.end
    return any(removal.start < end and start < removal.end for removal in found)


def _credits(doc: Document, rules: HeaderRules, body: list[Line], found: list[Removal]) -> None:
    """Credit lines anywhere in the body, and credit sentences ending a paragraph."""
    for line in body:
        text = line.stripped
        hit = rules.credit_line(text)
        if hit and not _claimed(line, found):
            doc.credits.append(_value(hit[1]))
            found.append(Removal(*content_span(line), "credit", hit[0]))
            continue
        hit = rules.credit_tail(text)
        if hit:
            rule_id, match = hit
            start, _ = content_span(line)
            span = (start + match.start("value"), start + match.end("value"))
            if not _claimed(line, found, *span):
                doc.credits.append(_value(match))
                found.append(Removal(*span, "credit", rule_id))


def extract(doc: Document, rules: HeaderRules) -> Document:
    """Move the header metadata and credits of ``doc`` to their fields, removing them from the body."""
    all_lines = lines(doc.text)
    nonblank = [line for line in all_lines if not line.blank]
    if not nonblank:
        return doc
    found: list[Removal] = []
    rest = _published(doc, rules, nonblank[0], found)
    body = nonblank
    if rest > nonblank[0].start:
        # Text after the date marker on the same line is body (e.g. a caption), never a title.
        body = nonblank[1:]
    else:
        _title(doc, rules, body, found)
    _head(doc, rules, list(itertools.islice((line for line in body if not _claimed(line, found)), rules.head_lines)),
          found)
    _credits(doc, rules, body, found)
    remove(doc, found)
    return doc


def build(config: Mapping[str, Any]):
    """The header stage's per-document function."""
    rules = HeaderRules(config)

    def header(doc: Document) -> Document:
        return extract(doc, rules)

    return header


def check_config(config: Mapping[str, Any]) -> None:
    HeaderRules(config)
    for key in ("head_lines", "title_max_words", "title_repeat_min_words"):
        if config["header"][key] < 1:
            raise ConfigError(f"header.{key}", "must be at least 1")
