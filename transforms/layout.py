"""Line helpers shared by the cleaning stages, and the final paragraph layout of the body.

Cleaning stages see the text as lines (:func:`lines`) and take spans out through :func:`remove`,
which records each removal with its raw offsets, as the edit finds them. The layout stage gives the
body one shape whatever the input's: paragraphs separated by exactly one blank line, no leading or
trailing blank lines, lines of one hard-wrapped paragraph joined. Written by hand because the
paragraph conventions of scraped plain text (one paragraph per line, wrapped lines, runs of blank
lines left by removals) are not what any text library normalises.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, NamedTuple

import regex

from transforms.document import Document
from transforms.errors import ConfigError, Reject
from transforms.rules import compile_rule
from transforms.textmap import Edit

STAGE = "layout"

# A run of white space holding at least one line break: where lines and paragraphs meet.
_BREAK = re.compile(r"[^\S\n]*\n\s*")
# The flags of a pattern compiled by transforms.rules.compile_rule without global inline flags.
_PLAIN_FLAGS = regex.compile("", regex.VERSION0).flags
# Sentence-final marks (with closing quotes/brackets) after which a line break ends a paragraph.
_FINAL = re.compile(r"[.!?:;…][\"'”’»)\]]*$")


class Line(NamedTuple):
    """One line of the current text: content without its newline, and its position."""

    start: int
    end: int
    text: str

    @property
    def stripped(self) -> str:
        return self.text.strip()

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def lines(text: str) -> list[Line]:
    """Every line of ``text`` with its offsets (``end`` excludes the newline)."""
    out: list[Line] = []
    start = 0
    # Lines are made for every line of every page by several stages: built as tuples directly, they
    # skip the Python-level __new__ NamedTuple gives its class (a third of this function's time).
    make = tuple.__new__
    for content in text.split("\n"):
        end = start + len(content)
        out.append(make(Line, (start, end, content)))
        start = end + 1
    return out


def content_span(line: Line) -> tuple[int, int]:
    """The line's span without surrounding white space."""
    left = len(line.text) - len(line.text.lstrip())
    right = len(line.text.rstrip())
    return line.start + left, line.start + right


class Removal(NamedTuple):
    """A span of the current text to take out, and why."""

    start: int
    end: int
    kind: str
    rule: str


def remove(doc: Document, removals: list[Removal]) -> None:
    """Record each removal (text, rule, raw offsets) in ``doc.removed`` and delete the spans."""
    ordered = sorted({(r.start, r.end, r.kind, r.rule) for r in removals if r.end > r.start})
    kept: list[tuple[int, int, str, str]] = []
    for item in ordered:
        # Two layers may claim the same span; the first (in text order) is recorded, never twice.
        if kept and item[0] < kept[-1][1]:
            continue
        kept.append(item)
    texts = [doc.text[start:end] for start, end, _, _ in kept]
    _, raws = doc.edit([Edit(start, end, "") for start, end, _, _ in kept])
    doc.removed.extend({"kind": kind, "text": text, "rule": rule, "raw_start": raw_start, "raw_end": raw_end}
                       for (_, _, kind, rule), text, (raw_start, raw_end) in zip(kept, texts, raws))


def compile_rules(rules: Any, key: str) -> list[tuple[str, Any]]:
    """``[(id, compiled pattern)]`` of a rule list ``[{id, pattern}]``; a bad rule is a ConfigError.

    Patterns are compiled and probed for catastrophic backtracking by :func:`transforms.rules.compile_rule`;
    match them with ``timeout=MATCH_SECONDS``.
    """
    if not isinstance(rules, list):
        raise ConfigError(key, "must be a list of rules {id, pattern}")
    compiled: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        where = f"{key}[{index}]"
        if not isinstance(rule, dict) or not isinstance(rule.get("id"), str) or not isinstance(rule.get("pattern"), str):
            raise ConfigError(where, "a rule needs a string 'id' and a string 'pattern'")
        if rule["id"] in seen:
            raise ConfigError(where, f"duplicate rule id {rule['id']!r}")
        seen.add(rule["id"])
        compiled.append((rule["id"], compile_rule(rule["pattern"], f"{where} ({rule['id']})")))
    return compiled


def alternation(patterns: list[Any]) -> Any:
    """One pattern matching whatever any of ``patterns`` matches, or None when they cannot be joined.

    A cheap first test on lines that most rules do not match: one timed match instead of one per
    rule. Patterns with global inline flags (``(?x)`` at the start) would impose them on the others
    when joined, so then there is none and each pattern is tried alone.
    """
    if not patterns or any(pattern.flags != _PLAIN_FLAGS for pattern in patterns):
        return None
    return regex.compile("|".join(f"(?:{pattern.pattern})" for pattern in patterns), regex.VERSION0)


def _joins(previous: str, following: str, min_chars: int) -> bool:
    """A line break inside a hard-wrapped paragraph: long line, no final mark, lower-case next."""
    return (len(previous) >= min_chars and not _FINAL.search(previous)
            and following[:1].islower())


def layout_edits(text: str, join_wrapped: bool, wrap_min_chars: int) -> list[Edit]:
    """Edits that normalise the breaks between lines and paragraphs of ``text``."""
    edits: list[Edit] = []
    body_start = len(text) - len(text.lstrip())
    if body_start:
        edits.append(Edit(0, body_start, ""))
    body_end = len(text.rstrip())
    for match in _BREAK.finditer(text, body_start, body_end):
        start, end = match.span()
        if start == 0 or end >= body_end:
            continue
        line_start = text.rfind("\n", 0, start) + 1
        previous = text[line_start:start].strip()
        next_end = text.find("\n", end)
        following = text[end:next_end if next_end >= 0 else len(text)].strip()
        single = match.group().count("\n") == 1
        if single and join_wrapped and _joins(previous, following, wrap_min_chars):
            replacement = " "
        else:
            replacement = "\n\n"
        if match.group() != replacement:
            edits.append(Edit(start, end, replacement))
    if body_end < len(text):
        edits.append(Edit(body_end, len(text), ""))
    return edits


def build(config: Mapping[str, Any]):
    """The layout function: one blank line between paragraphs, wrapped lines joined, no empty body."""
    section = config["layout"]
    join_wrapped = section["join_wrapped"]
    wrap_min_chars = section["wrap_min_chars"]

    def normalise(doc: Document) -> Document:
        if not doc.text.strip():
            raise Reject("no_body", f"{len(doc.removed)} removals left no article text")
        doc.edit(layout_edits(doc.text, join_wrapped, wrap_min_chars))
        return doc

    return normalise


def check_config(config: Mapping[str, Any]) -> None:
    if config["layout"]["wrap_min_chars"] < 1:
        raise ConfigError("layout.wrap_min_chars", "must be a positive number of characters")

