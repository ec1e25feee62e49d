"""Encoding repair: mojibake and broken Unicode fixed with ftfy, correct typography left alone.

ftfy runs only on lines that a cheap precompiled pre-filter flags and ftfy's own ``is_bad`` confirms
(ftfy over every byte would cost more than the whole pipeline's budget); each changed region of a
line becomes one edit widened to its whitespace-delimited word, so the record reads "wasnâ€™t" ->
"wasn’t".
"""

from __future__ import annotations

import difflib
from typing import Any, Mapping

from ftfy import TextFixerConfig, fix_text
from ftfy.badness import is_bad

from transforms.repair_common import Context, PassResult
from transforms.rules import MATCH_SECONDS, compile_rule, compile_scan_rule
from transforms.textmap import Edit

# Only what is broken is changed: no quote uncurling, width folding, ligature splitting, HTML
# unescaping or Unicode normalisation, which would rewrite correct text.
_FTFY = TextFixerConfig(unescape_html=False, fix_latin_ligatures=False, fix_character_width=False,
                        uncurl_quotes=False, fix_line_breaks=False, normalization=None, explain=False)


def _widen(line: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and not line[start - 1].isspace():
        start -= 1
    while end < len(line) and not line[end].isspace():
        end += 1
    return start, end


def _line_edits(line: str, fixed: str, offset: int) -> list[Edit]:
    """Edits turning ``line`` into ``fixed``: one per changed word (neighbouring changes merged)."""
    regions: list[list[int]] = []
    matcher = difflib.SequenceMatcher(None, line, fixed, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start, end = _widen(line, a0, a1)
        # Fixed-text extent of the widened region: same distance from the change on each side.
        fb0, fb1 = b0 - (a0 - start), b1 + (end - a1)
        if regions and start <= regions[-1][1]:
            regions[-1][1], regions[-1][3] = max(regions[-1][1], end), max(regions[-1][3], fb1)
        else:
            regions.append([start, end, fb0, fb1])
    return [Edit(offset + a0, offset + a1, fixed[b0:b1]) for a0, a1, b0, b1 in regions]


def build(rules: Mapping[str, Any]) -> "EncodingPass":
    return EncodingPass(rules)


class EncodingPass:
    """Callable pass: ftfy on flagged lines, plus the lossy in-word sequences ftfy cannot decode."""

    def __init__(self, rules: Mapping[str, Any]) -> None:
        self._suspect = compile_scan_rule(rules["suspect"], "repair.rules_file:encoding.suspect")
        self._lossy = [(compile_rule(rule["pattern"], f"repair.rules_file:encoding.lossy.{rule['id']}"), rule["replacement"])
                       for rule in rules["lossy"]]

    def _fix(self, line: str) -> str:
        fixed = fix_text(line, _FTFY) if is_bad(line) else line
        for pattern, replacement in self._lossy:
            fixed = pattern.sub(replacement, fixed, timeout=MATCH_SECONDS)
        return fixed

    def __call__(self, text: str, context: Context) -> PassResult:
        edits: list[Edit] = []
        done = -1
        for match in self._suspect.finditer(text):
            if match.start() < done:
                continue  # this line was already handled
            line_start = text.rfind("\n", 0, match.start()) + 1
            line_end = text.find("\n", match.end())
            line_end = len(text) if line_end < 0 else line_end
            done = line_end
            line = text[line_start:line_end]
            fixed = self._fix(line)
            if fixed != line:
                # Mojibake is broken wherever it is, URLs included: no protected spans here.
                edits.extend(_line_edits(line, fixed, line_start))
        return PassResult(edits, [])
