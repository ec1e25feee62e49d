"""Language of a document and of its paragraphs, with langdetect seeded so every run agrees.

langdetect samples n-grams at random; a detector factory of our own with a fixed seed (never the
module-global one) makes the same text give the same answer on every worker and run. A document
keeps its language whatever it is: the entity stage decides whether a model exists for it.
"""

from __future__ import annotations

import re
from functools import lru_cache
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

    def __init__(self, seed: int, max_chars: int, cache_size: int = 0) -> None:
        self._factory = DetectorFactory()
        self._factory.load_profile(PROFILES_DIRECTORY)
        self._factory.set_seed(seed)
        self._max_chars = max_chars
        # The answer is a function of the text (the seed is fixed), so texts seen before, such as
        # the paragraphs a wire story brings verbatim into every paper that prints it, are not
        # sampled again. Only texts up to max_chars are kept, so the cache holds at most
        # cache_size * max_chars characters.
        self._cached = lru_cache(maxsize=cache_size)(self._detect) if cache_size else None

    def detect(self, text: str) -> tuple[str, float]:
        """The most probable language of ``text`` and its probability, or ``("und", 0.0)``."""
        if self._cached is not None and len(text) <= self._max_chars:
            return self._cached(text)
        return self._detect(text)

    def _detect(self, text: str) -> tuple[str, float]:
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


def common_shares(text: str, common: Mapping[str, frozenset[str]]) -> dict[str, float]:
    """For each language, the share of the words of ``text`` among its most frequent words (``common``)."""
    words = _WORD.findall(text.lower())
    if not words:
        return dict.fromkeys(common, 0.0)
    return {code: sum(word in top for word in words) / len(words) for code, top in common.items()}


def plainly_in(text: str, language: str, common: Mapping[str, frozenset[str]], min_share: float,
               margin: float) -> bool:
    """Whether ``text`` is plainly in ``language``: at least ``min_share`` of its words are among that
    language's most frequent words, ``margin`` more than for any other language of ``common``.

    The margin matters: the top words of German, Dutch or Portuguese include English ones ("the",
    "of"), so an English paragraph has 0.4 of its words in them; only the contrast tells it apart."""
    if language not in common:
        return False
    shares = common_shares(text, common)
    own = shares.pop(language)
    return own >= min_share and all(own >= other + margin for other in shares.values())


def foreign_paragraphs(doc: Document, language: str, detector: Callable[[str], tuple[str, float]],
                       min_letters: int, min_score: float, common: Mapping[str, frozenset[str]] | None = None,
                       common_min_share: float = 1.0, common_margin: float = 0.0) -> list[dict[str, Any]]:
    """Paragraphs whose clear language differs from the document's, with text and raw offsets.

    A paragraph plainly in the document's language by its most frequent words (:func:`plainly_in`)
    is not asked about: langdetect, whose random trials cost ~4 ms a paragraph, would only confirm
    it, and most paragraphs of a document are in its language."""
    spans: list[dict[str, Any]] = []
    for match in _PARAGRAPH.finditer(doc.text):
        if common and plainly_in(match.group(), language, common, common_min_share, common_margin):
            continue
        code, score = decide(match.group(), detector, min_letters, min_score)
        if code in (UNDETERMINED, language):
            continue
        raw_start, raw_end = doc.raw_span(match.start(), match.end())
        spans.append({"start": match.start(), "end": match.end(), "raw_start": raw_start,
                      "raw_end": raw_end, "language": code, "score": score})
    return spans


def common_words(settings: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Each configured language's most frequent words (wordfreq's small lists give the same top
    words as its large ones, at an eighth of the loading time)."""
    return {code: frozenset(top_n_list(code, settings["top"], wordlist="small")) for code in settings["languages"]}


def build(config: Mapping[str, Any]) -> Callable[[Document], Document]:
    """The stage function: set ``language``, ``language_score`` and ``language_spans``."""
    settings = config["language"]
    detector = LanguageDetector(settings["seed"], settings["max_chars"], settings["cache_size"]).detect
    known = settings["common_words"]
    common = common_words(known)

    def detect_language(doc: Document) -> Document:
        doc.language, doc.language_score = decide(doc.text, detector, settings["min_letters"],
                                                  settings["min_score"])
        doc.language_spans = foreign_paragraphs(doc, doc.language, detector,
                                                settings["min_paragraph_letters"], settings["min_paragraph_score"],
                                                common, known["min_share"], known["margin"])
        return doc

    return detect_language


def check_config(config: Mapping[str, Any]) -> None:
    """A paragraph needs at least as much evidence as a document would."""
    settings = config["language"]
    if settings["min_paragraph_letters"] < settings["min_letters"]:
        raise ConfigError("language.min_paragraph_letters", "must be >= language.min_letters")
    for code in settings["common_words"]["languages"]:
        try:
            top_n_list(code, 1, wordlist="small")
        except LookupError:
            raise ConfigError("language.common_words.languages", f"wordfreq has no word list for {code!r}") from None
