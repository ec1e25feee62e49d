"""Rewrites: the same article paraphrased sentence by sentence, labelled ``rewrite_of`` + ``rewrite_score``.

A rewrite keeps the facts, names, numbers and order of its source while changing most words, so
word shingles (the duplicate relation) miss it. Each text becomes a list of sentences, each a set
of content-word stems, numbers and canonical entities; two texts are scored by an order-preserving
alignment of similar sentences (a weighted longest common subsequence over sentences), normalised
by the shorter text, so a rewrite that adds paragraphs still scores high.

Candidate pairs come from blocking on each text's rarest salient words (wordfreq's general-language
frequency serves as inverse document frequency, known before the corpus is seen), never from all
pairs. Only records that are not near-duplicate copies take part: a copy is already related.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, Iterator, List, Mapping, NamedTuple, Tuple

import apache_beam as beam
import wordfreq

from transforms.dedup import (BlockedPairs, Components, Rank, RelateAcrossWindows, Relation, ScorePairs, block_entries,
                              is_first_shared_key, relation_ttl_seconds)
from transforms.document import Document
from transforms.frequency import zipf_frequencies
from transforms.stage import is_windowed

if TYPE_CHECKING:
    import spacy

Sentences = tuple[frozenset[str], ...]

# Zipf frequency (log10 per billion words) above which a word is too common to tell stories apart;
# a word's rarity is this minus its Zipf frequency, e.g. "said" 6.5 -> 0.5, "Mishustin" 1.9 -> 5.1.
_ZIPF_CEILING = 7.0
_WORDFREQ_LANGUAGES = frozenset(wordfreq.available_languages())


def tokenizer(language: str | None) -> spacy.language.Language:
    """A blank spaCy pipeline with a rule-based sentencizer for ``language`` (English if None,
    multilingual if unknown): one per process and code, so None and "en" share one.

    Blank pipelines carry the language's tokenizer rules (less its hyphenated-word special cases, see
    below) and stop-word list, and need no model.
    """
    return _blank(language or "en")


# Tokenizer special cases that keep a hyphenated word whole ("anak-anak", "après-midi", "check-up"):
# the features keep alphabetic tokens only, so such a token never counted, while its words, split
# by the infix rules, do. They are left out because loading them is costly: Indonesian's 15,573
# took 2.7 s in every process that met one Indonesian text. Abbreviations ("Dr.", "т.е.") stay.
_HYPHENATED_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")


# The lexical attributes (spaCy's names) read from the blank pipelines' words, by _span_tokens,
# content_token and countable_word (orth_ is the word itself, not an attribute).
_READ_ATTRS = ("IS_ALPHA", "IS_PUNCT", "IS_SPACE", "IS_STOP", "LIKE_NUM", "LOWER")


@lru_cache(maxsize=None)
def _blank(code: str) -> spacy.language.Language:
    # Imported here: the process that only builds the graph (the local runner's, with worker
    # processes) does not pay the 0.5 s that importing spaCy takes.
    import spacy

    try:
        language = spacy.util.get_lang_class(code)
        exceptions = {text: tokens for text, tokens in language.Defaults.tokenizer_exceptions.items()
                      if not _HYPHENATED_WORD.fullmatch(text)}
        defaults = type("Defaults", (language.Defaults,), {"tokenizer_exceptions": exceptions})
        nlp = type(language.__name__, (language,), {"Defaults": defaults})()
    except (ImportError, KeyError, ValueError):  # no such language, or its tokenizer needs a missing package
        return _blank("xx")
    nlp.add_pipe("sentencizer")
    # spaCy computes every lexical attribute it has a getter for (23 in English: norm, shape, prefix,
    # suffix, ...) each time it meets a word its vocabulary does not hold, which inside a record's
    # memory zone is every word the record brings that the caches below have not met: that made a
    # text of unseen words cost twice a familiar one. Only what the features read is computed.
    getters = nlp.vocab.lex_attr_getters
    read = {spacy.attrs.IDS[name] for name in _READ_ATTRS}
    nlp.vocab.lex_attr_getters = {attr: getter for attr, getter in getters.items() if attr in read}
    return nlp


class Tokens(NamedTuple):
    """A text split as ``tokenizer(language)`` splits it, less its whitespace tokens, into sentences
    as the pipeline's sentencizer splits them."""

    words: list[str]
    # Each sentence's first word (an index into ``words``) and its first character (of the text).
    sentences: list[tuple[int, int]]


_SPAN = re.compile(r"\S+")
# What a token does in spaCy's sentencizer: ends a sentence (one of its punctuation characters), is
# other punctuation (cannot start one), or is a word that starts one after an end.
_ENDS, _PUNCT, _WORD = 2, 1, 0
# Tokenized spans per language, cleared when full (as wordfreq clears its caches): a text's spans are
# mostly words the run has met before.
_SPANS_PER_LANGUAGE = 1 << 17
_SPANS: dict[str, dict[str, Any]] = {}


def _span_tokens(code: str, span: str) -> Any:
    """The tokens of one whitespace-free span: the word itself when it is one word token (most spans),
    else ``((text, offset in the span, role), ...)``."""
    nlp = _blank(code)
    ends = nlp.get_pipe("sentencizer").punct_chars
    tokens = tuple((token.text, token.idx, _ENDS if token.text in ends else _PUNCT if token.is_punct else _WORD)
                   for token in nlp.make_doc(span))
    return span if len(tokens) == 1 and tokens[0][2] == _WORD else tokens


def tokenize(text: str, language: str | None) -> Tokens:
    """``text`` in words and sentences exactly as ``tokenizer(language)`` (its tokenizer, then its
    sentencizer) would split it, without making a spaCy Doc.

    spaCy's tokenizer splits a text at whitespace and tokenizes each span on its own, so each distinct
    span is tokenized once (:func:`_span_tokens`), and the sentencizer's rule is applied here: a
    sentence starts at the first token after one of its end characters that is neither punctuation
    nor another end. A Doc of every text cost most of the relation features' time: 1,000 bench texts
    took 1.35 ms a text as Docs, 0.65 ms here the first time and 0.34 ms once their spans were met.
    """
    code = language or "en"
    cache = _SPANS.setdefault(code, {})
    words: list[str] = []
    # The first token, a word or whitespace, starts the first sentence at 0.
    sentences: list[tuple[int, int]] = [(0, 0)] if text else []
    seen_end = False
    previous_end = 0
    for match in _SPAN.finditer(text):
        start = match.start()
        # spaCy keeps one space after a token as its trailing whitespace; any other whitespace
        # (a newline, a second space) is a token of its own, which starts a sentence after an end.
        if seen_end and start - previous_end > (text[previous_end] == " "):
            sentences.append((len(words), previous_end + (text[previous_end] == " ")))
            seen_end = False
        span = match.group()
        tokens = cache.get(span)
        if tokens is None:
            if len(cache) >= _SPANS_PER_LANGUAGE:
                cache.clear()
            tokens = cache[span] = _span_tokens(code, span)
        if tokens.__class__ is str:
            if seen_end:
                sentences.append((len(words), start))
                seen_end = False
            words.append(tokens)
        else:
            for token, offset, role in tokens:
                if role == _ENDS:
                    seen_end = True
                elif seen_end and role == _WORD:
                    sentences.append((len(words), start + offset))
                    seen_end = False
                words.append(token)
        previous_end = match.end()
    return Tokens(words, sentences)


def content_token(token: Any, stem_prefix: int) -> str | None:
    """A content word's truncated stem, a number as written, or None for stop words and punctuation.

    Truncating to a fixed prefix is a language-independent stemmer (visited/visits -> "visit")
    that keeps paraphrases' shared words comparable without a lemmatizer model.
    """
    if token.is_stop or token.is_punct or token.is_space:
        return None
    if token.like_num:
        return token.lower_.replace(",", "")
    if token.is_alpha and len(token.orth_) > 1:
        return token.lower_[:stem_prefix]
    return None


def countable_word(lexeme: Any) -> str | None:
    """A word that counts towards a text's salient terms (lower case): alphabetic, not a stop word,
    longer than two letters."""
    return lexeme.lower_ if lexeme.is_alpha and len(lexeme.orth_) > 2 and not lexeme.is_stop else None


# Both decisions below are properties of the word (its spaCy lexeme), not of its place in the text, so each is
# decided once per distinct word: walking spaCy Token objects cost most of the relation stages' time.
@lru_cache(maxsize=1 << 18)
def _term(language: str | None, word: str, stem_prefix: int) -> str | None:
    return content_token(tokenizer(language).vocab[word], stem_prefix)


@lru_cache(maxsize=1 << 18)
def _countable(language: str | None, word: str) -> str | None:
    return countable_word(tokenizer(language).vocab[word])


@lru_cache(maxsize=None)
def wordfreq_language(language: str | None) -> str | None:
    """The wordfreq list to use for ``language``, or None when wordfreq has none for it or needs a
    segmenter that is not installed (MeCab for Japanese and Korean, jieba for Chinese)."""
    code = language or "en"
    if code not in _WORDFREQ_LANGUAGES:
        return None
    try:
        wordfreq.lossy_tokenize("news", code)
    except ImportError:
        return None
    return code


def rarities(words: list[str], language: str | None) -> list[float]:
    """How much each word tells a story apart: high for names and rare words, 0 for function words.

    Without a word list every word counts as rare, so salience falls back to term frequency.
    """
    code = wordfreq_language(language)
    zipf = zipf_frequencies(words, code) if code is not None else [0.0] * len(words)
    return [max(0.0, _ZIPF_CEILING - value) for value in zipf]


def salient_terms(words: list[str], language: str | None, count: int | None = None) -> list[tuple[str, float]]:
    """The ``count`` (default: all) most salient content words (tf x rarity) of a text's ``words``
    (see :func:`tokenize`), best first, ties by the word."""
    frequency: Counter = Counter()
    for word, times in Counter(words).items():
        countable = _countable(language, word)
        if countable is not None:
            frequency[countable] += times
    rare = rarities(list(frequency), language)
    weighted = [(word, tf * weight) for (word, tf), weight in zip(frequency.items(), rare)]
    weighted = [(word, round(weight, 6)) for word, weight in weighted if weight > 0]
    return sorted(weighted, key=lambda item: (-item[1], item[0]))[:count]


Terms = Tuple[Tokens, List[Tuple[str, float]]]


def text_terms(doc: Document) -> Terms:
    """The record's text tokenised into sentences once, and all its salient words best first: the
    rewrite and story features both read them (a second tokenisation was a fifth of their cost)."""
    tokens = tokenize(doc.text, doc.language)
    return tokens, salient_terms(tokens.words, doc.language)


def sentence_sets(doc: Document, terms: Terms, settings: Mapping[str, Any]) -> tuple[Sentences, list[str]]:
    """The text as sentences of content terms (entities as ``@canonical``), and its blocking keys."""
    tokens, salient = terms
    entities = sorted((entity["start"], (entity.get("canonical") or entity["text"]).casefold())
                      for entity in doc.entities)
    stem_prefix = settings["stem_prefix"]
    term_of = {word: _term(doc.language, word, stem_prefix) for word in set(tokens.words)}
    # Sentence i spans its words up to the next sentence's first; entities start at a token, so a
    # sentence holds those that start from its first character up to the next sentence's first.
    bounds = [*tokens.sentences, (len(tokens.words), len(doc.text))]
    sentences = []
    for (first, begin), (after, end) in zip(bounds, bounds[1:]):
        terms_in = {term for word in tokens.words[first:after] if (term := term_of[word])}
        terms_in.update(f"@{name}" for start, name in entities if begin <= start < end)
        if len(terms_in) >= settings["min_sentence_terms"]:
            sentences.append(frozenset(terms_in))
    # Blocks are per language: the comparison is of words, so a translation is not found as a rewrite.
    keys = sorted(f"{doc.language}:{word}" for word, _ in salient[:settings["block_keys"]])
    return tuple(sentences), keys


def sentence_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient of two sentences' terms."""
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def alignment(a: Sentences, b: Sentences, sentence_threshold: float) -> tuple[float, int]:
    """Order-preserving sentence alignment of two texts: (score 0..1 normalised by the shorter, pairs aligned).

    Sentences at least ``sentence_threshold`` similar may align; each aligned pair counts its
    similarity times its mean size, and the best monotone alignment is found by dynamic programming.
    """
    if not a or not b:
        return 0.0, 0
    previous = [(0.0, 0)] * (len(b) + 1)
    for sentence_a in a:
        current = [(0.0, 0)] * (len(b) + 1)
        for j, sentence_b in enumerate(b, start=1):
            similarity = sentence_similarity(sentence_a, sentence_b)
            best = max(previous[j], current[j - 1])
            if similarity >= sentence_threshold:
                gain = similarity * (len(sentence_a) + len(sentence_b)) / 2
                best = max(best, (previous[j - 1][0] + gain, previous[j - 1][1] + 1))
            current[j] = best
        previous = current
    shorter = min(sum(map(len, a)), sum(map(len, b)))
    return round(previous[-1][0] / shorter, 4), previous[-1][1]


def rewrite_score(a: Sentences, b: Sentences, settings: Mapping[str, Any]) -> float:
    """The alignment score, or 0 unless enough of the shorter text's sentences align.

    A rewrite carries most of its source sentence by sentence; a few shared sentences (a quote, a
    company's standard paragraph) or the same facts told in a different order do not make one.
    """
    score, aligned = alignment(a, b, settings["sentence_threshold"])
    if aligned < settings["min_aligned_sentences"] or aligned < settings["min_aligned_share"] * min(len(a), len(b)):
        return 0.0
    return score


def _blocks(element: tuple[Rank, tuple[list[str], Sentences]],
            with_features: bool) -> Iterator[tuple[str, Any]]:
    """A record in each of its blocks, with its features in streaming (a partner may be from an earlier
    window, its features not in this one; see :func:`transforms.dedup.block_entries`)."""
    doc_rank, features = element
    return block_entries(features[0], doc_rank, features, with_features)


def _verify_rewrite(key: str, features_a: tuple[list[str], Sentences], features_b: tuple[list[str], Sentences],
                    settings: Mapping[str, Any]) -> float | None:
    """A pair is scored in the first block the two share only, and kept when its score is high."""
    if not is_first_shared_key(key, features_a[0], features_b[0]):
        return None
    score = _score(features_a, features_b, settings)
    return score if score >= settings["threshold"] else None


def _score(features_a: tuple[list[str], Sentences], features_b: tuple[list[str], Sentences],
           settings: Mapping[str, Any]) -> float:
    return rewrite_score(features_a[1], features_b[1], settings)


REWRITES = Relation("rewrite_of", "rewrite_score")


class FindRewrites(beam.PTransform):
    """``(rank, (blocking keys, sentences))`` of records that are not copies (see :func:`sentence_sets`) ->
    ``(rewrite rank, (source rank, score))`` for every paraphrase.

    Blocks (shared salient words) -> pairs whose alignment score reaches the threshold -> connected
    components -> each member points to its component's canonical record.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__()
        self._settings = dict(config["rewrites"])
        self._ttl = relation_ttl_seconds(config)

    def expand(self, features):
        settings = self._settings
        score = partial(_score, settings=settings)
        verify = partial(_verify_rewrite, settings=settings)
        if is_windowed(features):  # streaming: rewrites of records from earlier windows too (see RelateAcrossWindows)
            return (features
                    | "BlockKeys" >> beam.FlatMap(_blocks, True)
                    | "Related" >> RelateAcrossWindows("rewrites", verify, score,
                                                       settings["max_block_neighbours"], self._ttl))
        edges = ({"keys": features | "BlockKeys" >> beam.FlatMap(_blocks, False), "features": features}
                 | "RewritePairs" >> BlockedPairs(verify, settings["max_block_neighbours"]))
        members = edges | "Clusters" >> Components()
        return {"pairs": members, "features": features} | "ScoreToCanonical" >> ScorePairs(score)
