"""Machine-translation artefacts: repaired where the evidence is strong, otherwise only flagged.

"there" standing for "and" between two noun phrases ("China there Russia", "relations there commercial")
is rewritten; the other patterns of ``configs/rules/repair.yaml`` (``mt.flags``) are listed as
evidence only. Each evidence item is ``{rule, text, start, weight, repaired}``; the document is
``mt_suspect`` when the weights add up to ``repair.mt.suspect_min_weight``. Written by hand: no
library detects translation artefacts in a single document.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from transforms.repair_common import Context, PassResult, word_set
from transforms.rules import MATCH_SECONDS, compile_rule
from transforms.textmap import Edit

# " there " starts the pattern (a literal is found fast); the words around it are read separately, so
# "A there B there C" finds both.
_THERE = re.compile(r" there (?=([^\W\d_]+)(?![\w'’-]))")
_WORD_BEFORE = re.compile(r"(?<![\w'’-])([^\W\d_]+)\Z")


class MachineTranslationPass:
    """Callable pass: the "there" -> "and" repair plus the flag-only patterns."""

    def __init__(self, rules: Mapping[str, Any]) -> None:
        there = rules["there_for_and"]
        self._not_before = word_set(there["not_before"])
        self._not_after = word_set(there["not_after"])
        self._adjective = compile_rule(there["adjective_suffix"], "repair.rules_file:mt.there_for_and.adjective_suffix")
        self._there_weight = float(there["weight"])
        # Each flag names a string its matches must contain: the regex runs only on texts holding it.
        self._flags = [(rule["id"], rule["required"], compile_rule(rule["pattern"], f"repair.rules_file:mt.flags.{rule['id']}"),
                        float(rule["weight"])) for rule in rules["flags"]]

    def _noun_phrase_end(self, word: str) -> bool:
        """A name ("China") or a plural noun ("relations"): what ends the first of two joined phrases."""
        return word[0].isupper() or (len(word) >= 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")))

    def _noun_phrase_start(self, word: str) -> bool:
        """A name or demonym ("Russia", "Russian") or an adjective ("commercial") starts the second."""
        return word[0].isupper() or self._adjective.search(word, timeout=MATCH_SECONDS) is not None

    def __call__(self, text: str, context: Context) -> PassResult:
        if not context.english:
            return PassResult([], [])
        edits: list[Edit] = []
        evidence: list[dict[str, Any]] = []
        for match in _THERE.finditer(text):
            found = _WORD_BEFORE.search(text[max(0, match.start() - 40):match.start()])
            if found is None:
                continue
            before, after = found.group(1), match.group(1)
            start = match.start() - len(before)
            if (before.lower() in self._not_before or after.lower() in self._not_after
                    or not self._noun_phrase_end(before) or not self._noun_phrase_start(after)
                    or context.protected.overlaps(start, match.end() + len(after))):
                continue
            edits.append(Edit(match.start() + 1, match.start() + 6, "and"))
            evidence.append({"rule": "there_for_and", "text": f"{before} there {after}", "start": start,
                             "weight": self._there_weight, "repaired": True})
        for rule_id, required, pattern, weight in self._flags:
            if required not in text:
                continue
            for match in pattern.finditer(text, timeout=MATCH_SECONDS):
                evidence.append({"rule": rule_id, "text": match.group(), "start": match.start(), "weight": weight,
                                 "repaired": False})
        evidence.sort(key=lambda item: (item["start"], item["rule"]))
        return PassResult(edits, evidence)


def build(rules: Mapping[str, Any]) -> MachineTranslationPass:
    return MachineTranslationPass(rules)
