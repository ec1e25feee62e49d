"""What the repair passes share: the word-frequency table, protected spans and the pass interface.

Each repair kind is a pass ``(text, context) -> PassResult``: edits in ``text``'s coordinates plus,
for the machine-translation pass, evidence. :mod:`transforms.repair` runs the passes in order and
records every edit.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Mapping, NamedTuple

from wordfreq import get_frequency_list

from transforms.errors import ConfigError
from transforms.frequency import bucket_zipf
from transforms.textmap import Edit

# Runs of letters and digits: counted once per text, for the English gate (the all-letter ones) and
# the glued-word pass.
TOKEN_RE = re.compile(r"[^\W_]+")


@lru_cache(maxsize=8)
def zipf_table(language: str) -> dict[str, float]:
    """wordfreq's best list for ``language`` (the 'large' one where it exists) as ``{word: zipf}``, built
    once per process: for a plain lowercase word the same figure as ``wordfreq.zipf_frequency``,
    whose per-call normalisation and tokenisation a dict lookup beats by two orders of magnitude.

    Built from the list's frequency buckets, so the words of a bucket share one value: a float per word
    was about half of the table's memory (2.3 million words for the bench corpus's languages).
    """
    table: dict[str, float] = {}
    for index, bucket in enumerate(get_frequency_list(language, "best")):
        zipf = bucket_zipf(index)
        for word in bucket:  # a word in two buckets keeps the later one, as get_frequency_dict does
            table[word] = zipf
    return table


@lru_cache(maxsize=8)
def cased_words(min_zipf: float, language: str = "en") -> frozenset[str]:
    """The words at least ``min_zipf`` common, each lowercase, capitalised and in capitals: the tokens of
    a text minus this set (one set operation, in C) are the few a pass must look at."""
    return frozenset(form for word, value in zipf_table(language).items() if value >= min_zipf
                     for form in (word, word.capitalize(), word.upper()))


def english_share(words: Counter, common: frozenset[str], zipf: Mapping[str, float], min_zipf: float,
                  max_length: int) -> float:
    """Share of short word tokens (``TOKEN_RE`` counts, the all-letter ones) that are common English
    words: the English-only passes' gate.

    Only words of at most ``max_length`` letters count: long tokens are where glue hides, so text
    that lost its spaces still reads as English, while German or Portuguese does not. ``common`` is
    ``cased_words(min_zipf)``, built once by the caller."""
    short = [word for word in words if len(word) <= max_length and word.isalpha()]
    total = sum(map(words.__getitem__, short))
    known = sum(words[word] for word in short
                if word in common or (not word.islower() and zipf.get(word.lower(), 0.0) >= min_zipf))
    return known / total if total else 0.0


class SpanSet:
    """Sorted, non-overlapping ``[start, end)`` spans with a fast overlap test."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [span[0] for span in merged]
        self._ends = [span[1] for span in merged]

    def overlaps(self, start: int, end: int) -> bool:
        """True when ``[start, end)`` shares a character with a span (an insertion point inside one counts)."""
        i = bisect.bisect_right(self._starts, max(start, end - 1)) - 1
        if i < 0:
            return False
        if end == start:
            return self._starts[i] < start < self._ends[i]
        return self._ends[i] > start


class LazySpans:
    """The protected spans of one text, found on the first question (most texts never need them)."""

    def __init__(self, protector: "Protector", text: str) -> None:
        self._protector = protector
        self._text = text
        self._spans: SpanSet | None = None

    def overlaps(self, start: int, end: int) -> bool:
        if self._spans is None:
            self._spans = SpanSet(self._protector.find(self._text))
        return self._spans.overlaps(start, end)


class Protector:
    """Finds identifiers no pass may edit (URLs, e-mail addresses, handles, hashtags, tickers, ...).

    ``rules`` maps a name to a pattern, or to ``{pattern, requires}``: strings at least one of which
    every match holds ("@" for an e-mail address). A text holding none of them is scanned without
    that rule. The rules are one alternation, tried in name order at each position, so a rule
    that cannot match anywhere in the text changes nothing by its absence, and the spans found
    are the same; each rule tried costs as much as a scan of its own, and most texts hold no
    "@", "#", "$" or "://".
    """

    def __init__(self, rules: Mapping[str, Any]) -> None:
        self._rules = [(pattern, tuple(requires)) for pattern, requires in
                       (protected_rule(rules[name], f"protected.{name}") for name in sorted(rules))]
        # One alternation per set of rules a text can match: a few sets occur, of 2 ** rules.
        self._alternation = lru_cache(maxsize=256)(self._compile)

    def _compile(self, present: tuple[bool, ...]) -> re.Pattern[str] | None:
        """The alternation of the rules flagged in ``present``; None when there is none."""
        chosen = [pattern for (pattern, _), keep in zip(self._rules, present) if keep]
        return re.compile("|".join(f"(?:{pattern})" for pattern in chosen)) if chosen else None

    def find(self, text: str) -> list[tuple[int, int]]:
        """The spans of ``text`` the rules protect, as the scan of all of them finds them."""
        pattern = self._alternation(tuple(not requires or any(part in text for part in requires)
                                          for _, requires in self._rules))
        return [match.span() for match in pattern.finditer(text)] if pattern is not None else []

    def spans(self, text: str) -> LazySpans:
        return LazySpans(self, text)


def protected_rule(rule: Any, key: str) -> tuple[str, list[str]]:
    """``(pattern, requires)`` of the protected-span rule at ``key``, written as a pattern or as
    ``{pattern, requires}``."""
    if isinstance(rule, str):
        return rule, []
    if not isinstance(rule, dict) or not isinstance(rule.get("pattern"), str) or set(rule) - {"pattern", "requires"}:
        raise ConfigError(key, "a rule is a pattern, or a mapping with a pattern and a list requires")
    requires = rule.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(part, str) and part for part in requires):
        raise ConfigError(f"{key}.requires", "must be a list of non-empty strings")
    return rule["pattern"], requires


@dataclass(slots=True)
class Context:
    """What a pass knows besides the text: the language gate, protected spans, the corpus's names and
    the text's token counts."""

    english: bool
    protected: LazySpans
    corpus_names: Mapping[str, int] = field(default_factory=dict)
    # ``TOKEN_RE`` counts of the text, when already known (None: the pass counts them itself).
    tokens: Counter | None = None


class PassResult(NamedTuple):
    """A pass's non-overlapping edits; ``complete`` is False when the pass wants to run again on its
    own output (candidates were held back, or its edits may expose more)."""

    edits: list[Edit]
    evidence: list[dict[str, Any]]
    complete: bool = True


RepairPass = Callable[[str, Context], PassResult]


def word_set(words: list[str]) -> frozenset[str]:
    return frozenset(word.lower() for word in words)
