"""Language of a document and of its paragraphs, with langdetect seeded so every run agrees.

langdetect samples n-grams at random; a detector factory of our own with a fixed seed (never the
module-global one) makes the same text give the same answer on every worker and run. It is asked
only about what the most frequent words of each language cannot tell (:func:`plain_language`):
most paragraphs, and so most documents, are plainly in one language. A document keeps its language
whatever it is: the entity stage decides whether a model exists for it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, islice, repeat
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from cachetools import LRUCache
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException
from wordfreq import get_frequency_list
from wordfreq.numbers import has_digit_sequence

from transforms.document import Document, text_key
from transforms.errors import ConfigError

STAGE = "language"
UNDETERMINED = "und"
# The score of a document decided by its paragraphs' most frequent words: langdetect, asked, gives
# such documents >= 0.99995 (all 1,273 of the 1k corpus and the AEB pages).
PLAIN_SCORE = 1.0

# A paragraph is a run of non-blank lines (the layout stage ends paragraphs with a newline).
_PARAGRAPH = re.compile(r"[^\n]+(?:\n[^\n]+)*")
_WORD = re.compile(r"[^\W\d_]+")


def letter_count(text: str) -> int:
    """Letters only: digits, punctuation and spaces say nothing about the language."""
    return sum(map(str.isalpha, text))


def iso639_1(code: str) -> str:
    """langdetect's code as ISO 639-1 (it says ``zh-cn``/``zh-tw`` for Chinese scripts)."""
    return code.split("-", 1)[0]


@lru_cache(maxsize=None)
def profiles(seed: int) -> DetectorFactory:
    """langdetect's profiles with ``seed``, loaded once per process and shared by every detector.

    Loading them takes 0.3 s and 56-62 MiB, and a runner may run a stage in several threads of one
    worker process (a Dataflow worker runs up to 12), each with its own instance of the stage. The
    factory is only read once loaded: each detection makes its own detector, seeded from it.
    """
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(seed)
    return factory


class LanguageDetector:
    """langdetect with seeded profiles (:func:`profiles`), and a memory of the texts it detected."""

    def __init__(self, seed: int, max_chars: int, cache_size: int = 0) -> None:
        self._factory = profiles(seed)
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
           min_score: float, letters: int | None = None) -> tuple[str, float]:
    """Language and score of ``text`` (``letters`` of them, when already counted); "und" when it has
    too few letters or no clear winner."""
    if (letter_count(text) if letters is None else letters) < min_letters:
        return UNDETERMINED, 0.0
    code, score = detector(text)
    if code == UNDETERMINED or score < min_score:
        return UNDETERMINED, round(score, 4)
    return code, round(score, 4)


@dataclass(frozen=True)
class CommonWords:
    """Some languages' most frequent words, indexed by word: one pass over a paragraph's words
    counts them for every language (a pass per language cost ~2 ms a document)."""

    languages: tuple[str, ...]
    index: Mapping[str, tuple[str, ...]]  # word -> the languages among whose most frequent words it is

    @classmethod
    def of(cls, top_words: Mapping[str, Iterable[str]]) -> CommonWords:
        index: dict[str, list[str]] = {}
        for code, words in top_words.items():
            for word in set(words):
                index.setdefault(word, []).append(code)
        return cls(tuple(top_words), {word: tuple(codes) for word, codes in index.items()})


def common_shares(text: str, common: CommonWords) -> dict[str, float]:
    """For each language, the share of the words of ``text`` among its most frequent words."""
    words = _WORD.findall(text.lower())
    if not words:
        return dict.fromkeys(common.languages, 0.0)
    counts = Counter(chain.from_iterable(map(common.index.get, words, repeat(()))))
    return {code: counts[code] / len(words) for code in common.languages}


def plain_language(text: str, common: CommonWords, min_share: float, margin: float) -> str | None:
    """The language ``text`` is plainly in, if any: at least ``min_share`` of its words are among
    that language's most frequent words, ``margin`` more than for any other language of ``common``
    (``margin`` > 0, so at most one language is plain).

    The margin matters: the top words of German, Dutch or Portuguese include English ones ("the",
    "of"), so an English paragraph has 0.4 of its words in them; only the contrast tells it apart."""
    shares = common_shares(text, common)
    if not shares:  # no language listed
        return None
    best = max(shares, key=shares.__getitem__)
    own = shares.pop(best)
    return best if own >= min_share and all(own >= other + margin for other in shares.values()) else None


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of a document's text, with its offsets, its letters and the language it is plainly in."""

    start: int
    end: int
    text: str
    letters: int  # letter_count(text), counted once: the document's is their sum (only newlines lie between)
    plain: str | None


def paragraphs(text: str, common: CommonWords, min_share: float, margin: float) -> list[Paragraph]:
    """The paragraphs of ``text``, each with :func:`plain_language`."""
    return [Paragraph(match.start(), match.end(), match.group(), letter_count(match.group()),
                      plain_language(match.group(), common, min_share, margin))
            for match in _PARAGRAPH.finditer(text)]


def plain_document_language(read: Iterable[Paragraph], min_share: float, min_letters: int) -> str | None:
    """The language of a document whose paragraphs ``read`` by langdetect are, when plainly in a
    language, all plainly in the same one, and hold at least ``min_share`` of their letters; None
    otherwise. Such a document is what langdetect would put in that language, at ~8 ms a document:
    the rest (headlines, names, tables) are too few letters to outweigh it. A paragraph of fewer
    than ``min_letters`` letters has no say: two words ("Photo: AP") can be plainly Latvian."""
    letters: Counter[str | None] = Counter()
    for paragraph in read:
        letters[paragraph.plain if paragraph.letters >= min_letters else None] += paragraph.letters
    plain = [code for code in letters if code is not None]
    if len(plain) != 1 or letters[plain[0]] < min_share * sum(letters.values()):
        return None
    return plain[0]


def document_language(text: str, parts: list[Paragraph], detector: Callable[[str], tuple[str, float]],
                      settings: Mapping[str, Any]) -> tuple[str, float]:
    """Language and score of a document of paragraphs ``parts``: by their most frequent words when
    they plainly tell (:func:`plain_document_language`), else by langdetect (:func:`decide`)."""
    letters = sum(paragraph.letters for paragraph in parts)
    if letters < settings["min_letters"]:
        return UNDETERMINED, 0.0
    read = [paragraph for paragraph in parts if paragraph.start < settings["max_chars"]]  # as far as langdetect reads
    plain = plain_document_language(read, settings["common_words"]["document_min_share"], settings["min_letters"])
    if plain is not None:
        return plain, PLAIN_SCORE
    return decide(text, detector, settings["min_letters"], settings["min_score"], letters)


class ForeignParagraph(NamedTuple):
    """A paragraph clearly in another language than its document's."""

    start: int
    end: int
    language: str
    score: float


def foreign_paragraphs(parts: Iterable[Paragraph], language: str, detector: Callable[[str], tuple[str, float]],
                       min_letters: int, min_score: float) -> list[ForeignParagraph]:
    """Paragraphs whose clear language differs from the document's ``language``.

    A paragraph plainly in the document's language by its most frequent words is not asked about:
    langdetect, whose random trials cost ~4 ms a paragraph, would only confirm it, and most
    paragraphs of a document are in its language."""
    foreign: list[ForeignParagraph] = []
    for paragraph in parts:
        if paragraph.plain == language:
            continue
        code, score = decide(paragraph.text, detector, min_letters, min_score, paragraph.letters)
        if code not in (UNDETERMINED, language):
            foreign.append(ForeignParagraph(paragraph.start, paragraph.end, code, score))
    return foreign


def language_spans(doc: Document, foreign: Iterable[ForeignParagraph]) -> list[dict[str, Any]]:
    """A record's ``language_spans``: its foreign paragraphs with their offsets in its text and raw input."""
    spans: list[dict[str, Any]] = []
    for paragraph in foreign:
        raw_start, raw_end = doc.raw_span(paragraph.start, paragraph.end)
        spans.append({"start": paragraph.start, "end": paragraph.end, "raw_start": raw_start,
                      "raw_end": raw_end, "language": paragraph.language, "score": paragraph.score})
    return spans


@lru_cache(maxsize=None)
def top_words(code: str, n: int) -> tuple[str, ...]:
    """wordfreq's ``top_n_list(code, n, wordlist="small")``, the list read around wordfreq's cache:
    kept there for a few hundred words each, the configured languages' whole lists held 117 MiB in
    every process. Raises LookupError when wordfreq has no list for ``code``."""
    words = chain.from_iterable(get_frequency_list.__wrapped__(code, "small"))
    return tuple(islice((word for word in words if not has_digit_sequence(word)), n))


def common_words(settings: Mapping[str, Any]) -> CommonWords:
    """Each configured language's most frequent words (wordfreq's small lists give the same top
    words as its large ones, at an eighth of the loading time)."""
    return CommonWords.of({code: top_words(code, settings["top"]) for code in settings["languages"]})


def build(config: Mapping[str, Any]) -> Callable[[Document], Document]:
    """The stage function: set ``language``, ``language_score`` and ``language_spans``."""
    settings = config["language"]
    detector = LanguageDetector(settings["seed"], settings["max_chars"], settings["cache_size"]).detect
    known = settings["common_words"]
    common = common_words(known)

    # What a text's language is, remembered for the texts met last: a syndicated copy, once cleaned,
    # is often its original's text, and only its raw offsets differ (its spans are placed anew).
    remembered = LRUCache(maxsize=settings["reuse_texts"]) if settings["reuse_texts"] else None

    def text_language(text: str) -> tuple[str, float, list[ForeignParagraph]]:
        parts = paragraphs(text, common, known["min_share"], known["margin"])
        code, score = document_language(text, parts, detector, settings)
        return code, score, foreign_paragraphs(parts, code, detector, settings["min_paragraph_letters"],
                                               settings["min_paragraph_score"])

    def detect_language(doc: Document) -> Document:
        if remembered is None:
            found = text_language(doc.text)
        else:
            key = text_key(doc.text)
            found = remembered.get(key)
            if found is None:
                found = remembered[key] = text_language(doc.text)
        doc.language, doc.language_score, foreign = found
        doc.language_spans = language_spans(doc, foreign)
        return doc

    return detect_language


def check_config(config: Mapping[str, Any]) -> None:
    """A paragraph needs at least as much evidence as a document would."""
    settings = config["language"]
    if settings["min_paragraph_letters"] < settings["min_letters"]:
        raise ConfigError("language.min_paragraph_letters", "must be >= language.min_letters")
    for code in settings["common_words"]["languages"]:
        try:
            top_words(code, settings["common_words"]["top"])
        except LookupError:
            raise ConfigError("language.common_words.languages", f"wordfreq has no word list for {code!r}") from None
