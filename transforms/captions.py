"""Photo captions: lines that credit an image leave the body whole (kind ``caption``).

A credit is recognised by a grammar, not one pattern per site: slash- (or bar-) separated parts,
each a short run of capitalised names, gazetteer agencies/photo words and connectors
("Sputnik/Alexander Astafyev/via REUTERS", "REUTERS/Thomas Peter/Pool", "Natalie Naccache | Bloomberg |
Getty Images"), found at the end of a line in brackets, bare after the last sentence, or after a
label ("PHOTO: REUTERS", "© Reuters / David Mercado"). A bracketed wire tag alone ("(Reuters)") is not a caption: it is a
dateline's business. Written by hand because no library parses photo credits in plain text.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Mapping

import regex

from transforms.document import Document
from transforms.errors import ConfigError
from transforms.layout import Removal, compile_rules, content_span, lines, remove
from transforms.rules import LINE_CACHE, MATCH_SECONDS

STAGE = "captions"

_KEYS = ("agencies", "photo_words", "line_starts", "labels", "connectors", "max_part_words", "max_parts")
# Between the parts of a credit: "REUTERS/Thomas Peter/Pool", "Natalie Naccache | Bloomberg | Getty Images".
_PART_SEPARATOR = re.compile(r"[/|]")
# A bracketed group closing the line, optionally followed by a full stop.
_BRACKET_TAIL = re.compile(r"\(([^()\n]{2,160})\)\s*\.?\s*$")
# Where the last sentence of a line starts (after a sentence mark and its closing quotes).
_SENTENCE_GAP = regex.compile(r"(?<=[.!?…][\"'”’)]*)\s+(?=\S)")


class CaptionRules:
    """Gazetteers, markers and limits of the caption grammar (built once per worker)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        section = config["captions"]
        key = f"captions.rules_file ({section['rules_file']})"
        data = config["files"][section["rules_file"]]
        if not isinstance(data, dict) or sorted(data) != sorted(_KEYS):
            raise ConfigError(key, f"needs exactly the keys {', '.join(_KEYS)}")
        for name in ("agencies", "photo_words", "connectors"):
            if not isinstance(data[name], list) or not all(isinstance(item, str) and item for item in data[name]):
                raise ConfigError(f"{key}.{name}", "must be a list of non-empty strings")
        agencies = sorted(data["agencies"], key=lambda name: (-len(name), name))
        self.agency = regex.compile(r"(?<![\w-])(?:" + "|".join(regex.escape(a) for a in agencies) + r")(?![\w-])",
                                    regex.IGNORECASE)
        self.photo_words = frozenset(word.casefold() for word in data["photo_words"])
        self.connectors = frozenset(word.casefold() for word in data["connectors"])
        self.line_starts = compile_rules(data["line_starts"], f"{key}.line_starts")
        self.labels = compile_rules(data["labels"], f"{key}.labels")
        for rule_id, pattern in self.labels:
            if "credit" not in pattern.groupindex:
                raise ConfigError(f"{key}.labels ({rule_id})", "a label pattern needs a group (?P<credit>...)")
        for name in ("max_part_words", "max_parts"):
            # bool is an int to Python: "max_parts: yes" must not pass as 1.
            if type(data[name]) is not int or data[name] < 1:
                raise ConfigError(f"{key}.{name}", "must be a whole number of at least 1")
        self.max_part_words: int = data["max_part_words"]
        self.max_parts: int = data["max_parts"]
        self.max_words: int = section["max_words"]
        # Whether a line credits an image depends on its text alone: :func:`find_caption` is asked
        # once per distinct line (rules.LINE_CACHE).
        self.find = functools.lru_cache(maxsize=LINE_CACHE)(functools.partial(find_caption, rules=self))

    def credit(self, text: str) -> tuple[bool, bool, int] | None:
        """``(has_agency, has_photo_word, parts)`` when ``text`` parses as a credit, else None."""
        text = text.strip().rstrip(".").strip()
        parts = [part.strip() for part in _PART_SEPARATOR.split(text)]
        if not text or len(parts) > self.max_parts:
            return None
        agency = photo = False
        for part in parts:
            words = part.split()
            if not 1 <= len(words) <= self.max_part_words:
                return None
            if self.agency.search(part):
                agency = True
            for word in words:
                bare = word.strip(",;:")
                folded = bare.casefold()
                if folded in self.photo_words:
                    photo = True
                elif not (bare[:1].isupper() or bare[:1].isdigit() or folded in self.connectors
                          or self.agency.fullmatch(bare)):
                    return None
        return agency, photo, len(parts)


def find_caption(line_text: str, rules: CaptionRules) -> tuple[str, int] | None:
    """``(rule, tail start)`` when the line credits an image: the credit starts at ``tail start``."""
    text = line_text.rstrip()
    for rule_id, pattern in rules.line_starts:
        if pattern.match(text, timeout=MATCH_SECONDS):
            return rule_id, 0
    bracket = _BRACKET_TAIL.search(text)
    if bracket:
        parsed = rules.credit(bracket.group(1))
        # "(Getty Images)", "(AP Photo/…)", "(Sputnik/…/REUTERS)"; a lone "(Reuters)" is not a credit.
        if parsed and (parsed[1] or (parsed[0] and parsed[2] >= 2)):
            return "credit_bracket", bracket.start()
    for rule_id, pattern in rules.labels:
        match = pattern.search(text, timeout=MATCH_SECONDS)
        if match and rules.credit(match.group("credit")):
            return rule_id, match.start()
    if not _PART_SEPARATOR.search(text):
        return None  # a bare credit is slash- or bar-separated (below): most lines end here, cheaply
    gaps = [gap.end() for gap in _SENTENCE_GAP.finditer(text)]
    last = gaps[-1] if gaps else 0
    parsed = rules.credit(text[last:])
    # A bare credit after the last sentence needs two parts and an agency: "REUTERS/Thomas Peter/Pool".
    if parsed and parsed[0] and parsed[2] >= 2:
        return "credit_slash", last
    return None


def strip_captions(doc: Document, rules: CaptionRules) -> Document:
    """Remove every caption line (or, on a long paragraph, only its credit tail)."""
    found: list[Removal] = []
    for line in lines(doc.text):
        if line.blank:
            continue
        hit = rules.find(line.text)
        if hit is None:
            continue
        rule_id, tail = hit
        start, end = content_span(line)
        if len(line.text.split()) > rules.max_words:
            start = max(start, line.start + tail)
        found.append(Removal(start, end, "caption", rule_id))
    remove(doc, found)
    return doc


def build(config: Mapping[str, Any]):
    """The caption stage's per-document function."""
    rules = CaptionRules(config)

    def captions(doc: Document) -> Document:
        return strip_captions(doc, rules)

    return captions


def check_config(config: Mapping[str, Any]) -> None:
    CaptionRules(config)
