"""Stray punctuation and spacing: periods inside sentences, doubled sentence ends, missing and extra spaces,
soft hyphens and line-break hyphenation.

Written by hand because no library repairs extraction punctuation while reporting each edit's offsets;
the word lists (abbreviations, sentence openers) are data in ``configs/rules/repair.yaml``. Rules that
need English grammar (a period before a lowercase word) run only when the document is English.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from transforms.repair_common import Context, PassResult, word_set
from transforms.textmap import Edit

# Every rule starts with a literal character, so one scan finds all candidates fast (a pattern that
# starts with a look-behind is tried at every position); what comes before is checked in Python.
_CANDIDATES = re.compile(
    # Spaces before , . ; ! ? ("Lawan , on"), or a second period after a sentence end ("said. .");
    # ":" is left alone (" : " is a separator).
    r"(?P<space_before>[ \t]+[,.;!?](?![.\w])(?![ \t]*\.))"
    # A run of spaces inside a line.
    r"|(?P<spaces> {2,})"
    # A period, "?" or "!" glued to the capitalised word that starts the next sentence ("year.The").
    r"|(?P<missing_space>[.?!](?=[A-Z][a-z]+(?![\w.@/-])))"
    # A period between a word and a lowercase word on the same line ("war. in Ukraine").
    r"|(?P<stray_period>\.(?=[ \t]+[a-z][a-z'’]*(?:[\s,;!?)]|\.(?:\s|$)|$)))"
    # A comma glued to the next word ("used,which", "Smith,J."), or to a number ("Neumann,2003",
    # "May 23,2004"); 1,000 and symbols (Xk,ts) are told apart below.
    r"|(?P<comma>,(?=[a-z]|[A-Z][a-z]|[A-Z]\.|\d))"
    # An opening parenthesis glued to a word ("Beijing(Reuters)"); "word(s)", "f(x)" are left alone.
    r"|(?P<paren>\((?=[A-Z][a-z]{2}))"
    # A colon glued to a capitalised word ("interfaces:A domain"); times and URLs are left alone.
    r"|(?P<colon>:(?=[A-Z][a-z]*\b(?![:/])))"
    r"|(?P<soft_hyphen>\u00ad+)"
    # A word broken at a line end with a hyphen ("inter-\nnational").
    r"|(?P<hyphenated>-\n(?=[a-z]))")
_WORD_BEFORE = re.compile(r"(?<![\w.'’-])([^\W\d_][a-z]+)\Z")
_WORD_AFTER = re.compile(r"[ \t]+([a-z][a-z'’]*)")
_LETTERS_AFTER = re.compile(r"[a-z]+")
_HEAD_BEFORE = re.compile(r"(?<![\w-])([^\W\d_]+)\Z")
_YEAR = re.compile(r"(?:1[89]|20)\d\d\b")
_WINDOW = 40


def _word_before(pattern: re.Pattern[str], text: str, end: int) -> str | None:
    match = pattern.search(text[max(0, end - _WINDOW):end])
    return None if match is None else match.group(1)


class PunctuationPass:
    """Callable pass over one text; returns non-overlapping edits (the rest wait for the next round)."""

    def __init__(self, rules: Mapping[str, Any], zipf: Mapping[str, float], join_min_zipf: float) -> None:
        self._abbreviations = word_set(rules["abbreviations"])
        self._openers = word_set(rules["sentence_openers"])
        self._zipf = zipf
        self._join_min_zipf = join_min_zipf

    def __call__(self, text: str, context: Context) -> PassResult:
        candidates: list[Edit] = []
        for match in _CANDIDATES.finditer(text):
            edit = getattr(self, "_" + match.lastgroup)(text, match.start(), match.end(), context.english)
            if edit is not None:
                candidates.append(edit)
        return _resolve(candidates, context)

    def _space_before(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        previous = text[start - 2:start] if start >= 2 else ""
        if len(previous) == 2 and previous[1] in ".!?" and (previous[0].isalnum()) and text[end - 1] == ".":
            return Edit(start, end, "")  # "he said. ." -> "he said."
        if previous and (previous[-1].isalpha() or previous[-1] in "”’\")") and (end == len(text) or text[end].isspace()):
            return Edit(start, end, text[end - 1])
        return None

    def _spaces(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        if start > 0 and end < len(text) and not text[start - 1].isspace() and not text[end].isspace():
            return Edit(start, end, " ")
        return None

    def _missing_space(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        word = _word_before(_WORD_BEFORE, text, start)
        if word is not None and word[1:].islower() and len(word) >= 2 and word.lower() not in self._abbreviations:
            return Edit(start, end, text[start] + " ")
        return None

    def _stray_period(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        if not english:
            return None
        word = _word_before(_WORD_BEFORE, text, start)
        following = _WORD_AFTER.match(text, end)
        if (word is not None and word.lower() not in self._abbreviations
                and following is not None and following.group(1).lower() not in self._openers):
            return Edit(start, end, "")
        return None

    def _comma(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        before = text[max(0, start - 2):start]
        after = text[end:end + 1]
        if after.isdigit():
            glued = (len(before) == 2 and before.isalpha() and before.islower()) or (
                before[-1:].isdigit() and _YEAR.match(text, end) is not None)
        else:
            glued = len(before) == 2 and (before.isalpha() and before.islower() or (before[0].islower() and before[1] == ")"))
        return Edit(start, end, ", ") if glued else None

    def _paren(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        before = text[max(0, start - 2):start]
        return Edit(start, end, " (") if len(before) == 2 and before.isalpha() else None

    def _colon(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        before = text[max(0, start - 2):start]
        return Edit(start, end, ": ") if len(before) == 2 and before.isalpha() and before.islower() else None

    def _soft_hyphen(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        if start > 0 and end < len(text) and text[start - 1].isalpha() and text[end].isalpha():
            return Edit(start, end, "")
        return None

    def _hyphenated(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        head = _word_before(_HEAD_BEFORE, text, start)
        tail = _LETTERS_AFTER.match(text, end)
        if not english or head is None or tail is None or (tail.end() < len(text) and text[tail.end()].isalnum()):
            return None
        joined = head + tail.group()
        # A known word joined ("inter-national" -> "international"); else a compound ("well-known").
        fixed = joined if self._zipf.get(joined.lower(), 0.0) >= self._join_min_zipf else f"{head}-{tail.group()}"
        return Edit(start - len(head), tail.end(), fixed)


def _resolve(candidates: list[Edit], context: Context) -> PassResult:
    """Drop protected and overlapping candidates. Any edit asks for another round: one fix can
    expose another ("year. year.The" -> "year. year. The", whose first period is then stray)."""
    edits: list[Edit] = []
    complete = True
    # Longest first among edits at one position, so "said  ." is handled as a space before ".".
    for edit in sorted(candidates, key=lambda e: (e.start, -(e.end - e.start), e.replacement)):
        if context.protected.overlaps(edit.start, max(edit.end, edit.start + 1)):
            continue
        if edits and edit.start < edits[-1].end or (edits and edit.start == edits[-1].start):
            complete = False
            continue
        edits.append(edit)
    return PassResult(edits, [], complete and not edits)


def build(rules: Mapping[str, Any], zipf: Mapping[str, float], join_min_zipf: float) -> PunctuationPass:
    return PunctuationPass(rules, zipf, join_min_zipf)
