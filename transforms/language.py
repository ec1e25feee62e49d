"""Language of a document and of its paragraphs, with langdetect seeded so every run agrees.

langdetect samples n-grams at random; a detector factory of our own with a fixed seed (never the
module-global one) makes the same text give the same answer on every worker and run. A document
keeps its language whatever it is: the entity stage decides whether a model exists for it.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException
from wordfreq import top_n_list

from transforms.document import Document
from transforms.errors import ConfigError

STAGE = "language"
UNDETERMINED = "und"

# A paragraph is a run of non-blank lines (the layout stage ends paragraphs with a newline).
_PARAGRAPH = re.compile(r"[^\n]+(?:\n[^\n]+)*")
_WORD = re.compile(r"[^\W\d_]+")


def letter_count(text: str) -> int:
    """Letters only: digits, punctuation and spaces say nothing about the language."""
    return sum(1 for char in text if char.isalpha())


def iso639_1(code: str) -> str:
    """langdetect's code as ISO 639-1 (it says ``zh-cn``/``zh-tw`` for Chinese scripts)."""
    return code.split("-", 1)[0]


class LanguageDetector:
    """langdetect with its own seeded factory, loaded once (profiles are ~2 MB of JSON)."""

    def __init__(self, seed: int, max_chars: int) -> None:
        self._factory = DetectorFactory()
        self._factory.load_profile(PROFILES_DIRECTORY)
        self._factory.set_seed(seed)
        self._max_chars = max_chars

    def detect(self, text: str) -> tuple[str, float]:
        """The most probable language of ``text`` and its probability, or ``("und", 0.0)``."""
        detector = self._factory.create()
        detector.set_max_text_length(self._max_chars)
        detector.append(text)
        try:
            candidates = detector.get_probabilities()
        except LangDetectException:  # no usable n-gram (only digits, symbols or URLs)
            return UNDETERMINED, 0.0
        if not candidates:
            return UNDETERMINED, 0.0
        best = candidates[0]
        return iso639_1(best.lang), best.prob


def decide(text: str, detector: Callable[[str], tuple[str, float]], min_letters: int,
           min_score: float) -> tuple[str, float]:
    """Language and score of ``text``; "und" when it has too few letters or no clear winner."""
    if letter_count(text) < min_letters:
        return UNDETERMINED, 0.0
    code, score = detector(text)
    if code == UNDETERMINED or score < min_score:
        return UNDETERMINED, round(score, 4)
    return code, round(score, 4)


def common_share(text: str, common: frozenset[str]) -> float:
    """Share of the words of ``text`` that are among ``common`` (a language's most frequent words)."""
    words = _WORD.findall(text.lower())
    return sum(word in common for word in words) / len(words) if words else 0.0


def foreign_paragraphs(doc: Document, language: str, detector: Callable[[str], tuple[str, float]],
                       min_letters: int, min_score: float, common: frozenset[str] | None = None,
                       common_min_share: float = 1.0) -> list[dict[str, Any]]:
    """Paragraphs whose clear language differs from the document's, with text and raw offsets.

    A paragraph made, to at least ``common_min_share``, of the document language's most frequent
    words (``common``) is in that language, and langdetect, whose random trials cost ~4 ms a
    paragraph, is not asked: most paragraphs of a document are in its language."""
    spans: list[dict[str, Any]] = []
    for match in _PARAGRAPH.finditer(doc.text):
        if common is not None and common_share(match.group(), common) >= common_min_share:
            continue
        code, score = decide(match.group(), detector, min_letters, min_score)
        if code in (UNDETERMINED, language):
            continue
        raw_start, raw_end = doc.raw_span(match.start(), match.end())
        spans.append({"start": match.start(), "end": match.end(), "raw_start": raw_start,
                      "raw_end": raw_end, "language": code, "score": score})
    return spans


def build(config: Mapping[str, Any]) -> Callable[[Document], Document]:
    """The stage function: set ``language``, ``language_score`` and ``language_spans``."""
    settings = config["language"]
    detector = LanguageDetector(settings["seed"], settings["max_chars"]).detect
    known = settings["common_words"]
    common = {code: frozenset(top_n_list(code, known["top"])) for code in known["languages"]}

    def detect_language(doc: Document) -> Document:
        doc.language, doc.language_score = decide(doc.text, detector, settings["min_letters"],
                                                  settings["min_score"])
        doc.language_spans = foreign_paragraphs(doc, doc.language, detector,
                                                settings["min_paragraph_letters"], settings["min_paragraph_score"],
                                                common.get(doc.language), known["min_share"])
        return doc

    return detect_language


def check_config(config: Mapping[str, Any]) -> None:
    """A paragraph needs at least as much evidence as a document would."""
    settings = config["language"]
    if settings["min_paragraph_letters"] < settings["min_letters"]:
        raise ConfigError("language.min_paragraph_letters", "must be >= language.min_letters")
    for code in settings["common_words"]["languages"]:
        try:
            top_n_list(code, 1)
        except LookupError:
            raise ConfigError("language.common_words.languages", f"wordfreq has no word list for {code!r}") from None
