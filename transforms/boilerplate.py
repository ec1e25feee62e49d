"""Boilerplate lines, three layers, every removal recorded with the rule that made it.

1. Rule packs (``configs/rules/boilerplate.yaml``): exact lines and anchored patterns.
2. A context-aware line classifier, jusText's idea applied to text lines instead of HTML blocks:
   each line is first rated on its own (length, stop-word density, final punctuation) as good,
   near-good, short or bad, then short and near-good lines take the class of their neighbours, so
   subheads, short quotes and one-sentence paragraphs between article lines stay while menus,
   link lists and footers around the article go. (jusText itself needs an HTML tree; the
   neighbour rules are re-implemented here over lines.) A page in none of the stop-word languages,
   and a line written without spaces between words (Chinese, Japanese), is rated by its sentence
   marks instead, a Chinese character or kana counting as a word. Last, the article block is the run of
   lines with the most prose net of the furniture in it (maximum subarray, as in Body Text
   Extraction), so teasers, comment threads and footers outside it go even when they read as prose;
   tables and lists of records (rows holding figures or one layout of fields) inside or closing
   the article cost nothing, so they stay with it.
3. Corpus-learned repeats (C4's cross-document idea): :class:`RepeatedLines` counts, over the
   whole input, in how many documents of one source each short line occurs; lines found in at
   least ``min_documents`` documents of the same source are boilerplate for this run. Within one
   page, a sentence printed twice (a gallery caption, a teaser) loses its second copy, and so does
   a paragraph whose sentences were nearly all printed before (the article again in metadata).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import posixpath
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, NamedTuple
from urllib.parse import urlsplit

import apache_beam as beam
import regex

from transforms.document import Document
from transforms.errors import ConfigError
from transforms.layout import Line, Removal, alternation, compile_rules, content_span, lines, remove
from transforms.rules import LINE_CACHE, MATCH_SECONDS

STAGE = "boilerplate"

_EDGE_PUNCT = " \t:.…|•·›»>-–—*[]()"
_TOKEN = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}'’-]*")
# A final sentence mark, also the full-width ones of Chinese and Japanese ("。", "！", "？").
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]」』）]*$")
_QUOTE = re.compile(r"[\"“”«»„]")

GOOD, NEARGOOD, SHORT, BAD = "good", "neargood", "short", "bad"

# Chinese characters and Japanese kana: each carries about a word, so a line of them is as long as
# one of WIDE_CHARS as many letters of a script written with spaces.
_WIDE = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
_LETTER = regex.compile(r"\p{L}")
WIDE_CHARS = 3


def _width(text: str, wide: int) -> int:
    """The length of a line in characters, a Chinese character or kana (``wide`` of them) counting WIDE_CHARS."""
    return len(text) + (WIDE_CHARS - 1) * wide


def _stop_words_file(code: str) -> Path:
    """Where spaCy keeps the stop-word list of language ``code`` (found without importing spaCy)."""
    spec = importlib.util.find_spec("spacy")
    if spec is None or spec.origin is None:
        raise ConfigError("boilerplate.classifier.languages", "spaCy is not installed")
    return Path(spec.origin).parent / "lang" / code / "stop_words.py"


def stop_words(code: str) -> frozenset[str]:
    """spaCy's stop-word list for language ``code``.

    Importing ``spacy.lang.<code>.stop_words`` runs the language package's ``__init__`` first
    (tokenizer exceptions, lemmatizer: seconds per language, 30 s for twelve), so the list's own
    module, a self-contained set literal, is executed alone.
    """
    path = _stop_words_file(code)
    spec = importlib.util.spec_from_file_location(f"_newsbeam_stop_words_{code}", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise ConfigError("boilerplate.classifier.languages", f"spaCy has no stop-word list for {code!r}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(module.STOP_WORDS)


def normalise_line(text: str) -> str:
    """The comparison form of a line: case-folded, white space collapsed, edge punctuation off."""
    # str.split() breaks on exactly the characters \s matches (str.isspace), and a space at an
    # edge is edge punctuation, so this equals collapsing \s+ to " " with a regex, three times faster.
    return " ".join(text.casefold().split()).strip(_EDGE_PUNCT)


# ---------------------------------------------------------------- layer 1: rule packs


class RulePacks:
    """Exact-line sets and anchored patterns of the boilerplate rule packs."""

    def __init__(self, data: Any, key: str) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("packs"), list):
            raise ConfigError(key, "needs a list 'packs' of {id, exact, patterns}")
        self.exact: dict[str, str] = {}
        self.patterns: list[tuple[str, Any]] = []
        self.ends_article: set[str] = set()
        pack_ids: set[str] = set()
        for index, pack in enumerate(data["packs"]):
            where = f"{key}.packs[{index}]"
            if not isinstance(pack, dict) or not isinstance(pack.get("id"), str):
                raise ConfigError(where, "a pack needs a string 'id'")
            unknown = sorted(set(pack) - {"id", "exact", "patterns", "ends_article"})
            if unknown:
                raise ConfigError(f"{where}.{unknown[0]}", "unknown key (a pack has id, exact, patterns, ends_article)")
            if not isinstance(pack.get("ends_article", False), bool):
                raise ConfigError(f"{where}.ends_article", "must be true or false")
            if pack["id"] in pack_ids:
                raise ConfigError(where, f"duplicate pack id {pack['id']!r}")
            pack_ids.add(pack["id"])
            exact = pack.get("exact", [])
            if not isinstance(exact, list) or not all(isinstance(line, str) for line in exact):
                raise ConfigError(f"{where}.exact", "must be a list of strings")
            for line in exact:
                # The first pack naming a line owns it, so the recorded rule does not depend on order.
                self.exact.setdefault(normalise_line(line), pack["id"])
            patterns = compile_rules(pack.get("patterns", []), f"{where}.patterns")
            self.patterns.extend(patterns)
            if pack.get("ends_article", False):
                self.ends_article.update([pack["id"], *(rule_id for rule_id, _ in patterns)])
        self.any_pattern = alternation([pattern for _, pattern in self.patterns])

    def match(self, text: str, normalised: str | None = None) -> str | None:
        """The rule id that names ``text`` (comparison form ``normalised``) as boilerplate, or None."""
        rule = self.exact.get(normalise_line(text) if normalised is None else normalised)
        if rule:
            return rule
        # Most lines match no pattern: one pass of the alternation rules them out (a timed match
        # per pattern per line was most of the stage's time); the first pattern that matches
        # names the rule, as before.
        if self.any_pattern is not None and not self.any_pattern.fullmatch(text, timeout=MATCH_SECONDS):
            return None
        for rule_id, pattern in self.patterns:
            if pattern.fullmatch(text, timeout=MATCH_SECONDS):
                return rule_id
        return None


# ---------------------------------------------------------------- layer 2: line classifier


class LineSignals(NamedTuple):
    """What the line classifier reads off a stripped line's text alone."""

    tokens: int  # words (_TOKEN runs of the case-folded line)
    stop_hits: tuple[int, ...]  # of those, how many each language's stop-word list holds (in config order)
    sentence: bool  # ends in a sentence mark
    wide: int  # Chinese characters and kana
    mostly_wide: bool  # at least half its letters are Chinese characters or kana


class LineClassifier:
    """jusText-style classes for text lines, decided on the line, then its neighbours, then its block."""

    def __init__(self, section: Mapping[str, Any]) -> None:
        self.enabled: bool = section["enabled"]
        # spaCy ships stop-word lists for many languages (no model needed); a page is rated with the
        # list that covers most of its words, so non-English news is not all "low density".
        self.stop_words = [(code, stop_words(code)) for code in section["languages"]]
        # Per stop word, whether each list holds it (1 or 0, in list order): a line's hits per
        # language are these vectors summed over its tokens, one pass whatever the languages.
        self.stop_vectors: dict[str, tuple[int, ...]] = {
            word: tuple(int(word in words) for _, words in self.stop_words)
            for word in frozenset().union(*(words for _, words in self.stop_words))}
        self.no_hits = (0,) * len(self.stop_words)  # the hits of a line without stop words
        self.length_low: int = section["length_low"]
        self.length_high: int = section["length_high"]
        self.stopwords_floor: float = section["stopwords_floor"]
        self.stopwords_low: float = section["stopwords_low"]
        self.stopwords_high: float = section["stopwords_high"]
        self.prose_min_words: int = section["prose_min_words"]
        self.stopwords_coverage: float = section["stopwords_coverage"]
        self.unmarked_min_words: int = section["unmarked_min_words"]
        self.line_cost: int = section["line_cost"]
        self.block_share: float = section["block_share"]
        self.keep_in_block: frozenset[str] = frozenset(section["keep_in_block"])
        self.record_rows: int = section["record_rows"]
        self.article_min_chars: int = section["article_min_chars"]
        self.before_headline_factor: float = section["before_headline_factor"]
        # What the classifier reads off a line depends on its text alone: read once per distinct
        # line (rules.LINE_CACHE); a page's language is then the sum of its lines' stop-word hits.
        self.signals = functools.lru_cache(maxsize=LINE_CACHE)(self._signals)

    def _signals(self, text: str) -> LineSignals:
        """The :class:`LineSignals` of a stripped line."""
        tokens = _TOKEN.findall(text.casefold())
        hits = tuple(map(sum, zip(*filter(None, map(self.stop_vectors.get, tokens))))) or self.no_hits
        wide = len(_WIDE.findall(text))
        return LineSignals(len(tokens), hits, bool(_SENTENCE_END.search(text)), wide,
                           bool(wide) and 2 * wide >= len(_LETTER.findall(text)))

    def stop_list(self, lines: list[LineSignals]) -> int | None:
        """Index in ``stop_words`` of the list covering most of the page's tokens (its ``lines``' signals;
        first listed language on a tie), or None when it covers under ``stopwords_coverage`` of them:
        the page is in none of the languages (Korean, Arabic, ...)."""
        covered = [sum(hits) for hits in zip(*(line.stop_hits for line in lines))] or [0] * len(self.stop_words)
        best = max(range(len(covered)), key=covered.__getitem__)  # max keeps the first of equals
        return best if covered[best] >= self.stopwords_coverage * sum(line.tokens for line in lines) else None

    def rate(self, text: str, line: LineSignals, stop_list: int | None) -> tuple[str, str]:
        """``(class, feature)`` of one line on its own: its ``text`` and :class:`LineSignals` ``line``,
        on a page rated with the stop words of ``stop_words[stop_list]``.

        When ``stop_list`` is None (the page is in no listed language) or the line is mostly
        Chinese characters or kana (words not separated by spaces, so not countable), a line
        ending in a sentence mark counts as dense prose and any other line as having no stop words.
        """
        if not line.tokens:
            return BAD, "no_words"
        sentence, wide = line.sentence, line.wide
        if stop_list is None or line.mostly_wide:
            density = self.stopwords_high if sentence else 0.0
        else:
            density = line.stop_hits[stop_list] / line.tokens
        width = _width(text, wide)
        if width < self.length_low:
            # A short line that reads as a sentence (final mark, enough words and stop words) is
            # prose — a one-sentence paragraph or a short quote — and only its context can drop it.
            # A sentence ending in a colon announces a list or a quote ("The new rules are:").
            # (A Chinese character or kana counts as a word.)
            if ((sentence or text.endswith(("：", ":"))) and line.tokens + wide >= self.prose_min_words
                    and density >= self.stopwords_low):
                return NEARGOOD, "short_sentence"
            return SHORT, "short"
        if not sentence and width < self.length_high:
            if line.tokens >= self.unmarked_min_words and density >= self.stopwords_high:
                # Too long for a headline and as dense as prose: a sentence that lost its final
                # mark (a lead or a caption scraped without it); its neighbours decide.
                return NEARGOOD, "unmarked_sentence"
            # Headline-like (link titles, subheads): kept only inside the article.
            return SHORT, "headline"
        if density >= self.stopwords_high:
            return GOOD, "prose"
        if density >= self.stopwords_floor:
            return NEARGOOD, "near_prose"
        return BAD, "stopwords"

    def classify(self, texts: list[str], start: int = 0, breaks: frozenset[int] = frozenset(),
                 furniture: frozenset[int] = frozenset()) -> list[tuple[str, str]]:
        """Final ``(class, feature)`` per line: rated alone, then by context, then by block.

        ``start`` is the first line after the headline when the page repeats it (the article
        follows its headline); the article block is looked for from there. ``breaks`` are lines
        that follow an end-of-article marker (a comment section's heading): no block spans them.
        ``furniture`` are lines that follow any line a rule removed: no list runs past one.
        """
        signals = [self.signals(text) for text in texts]
        stop_list = self.stop_list(signals)
        rated = [self.rate(text, line, stop_list) for text, line in zip(texts, signals)]
        initial = [cls for cls, _ in rated]
        if GOOD not in initial:
            # Nothing reads as article prose: no evidence of where the article is, so keep all.
            return [(GOOD, feature) for _, feature in rated]
        final = _in_context(initial)
        features = [feature for _, feature in rated]
        self._main_block(texts, signals, initial, final, features, start, breaks, furniture)
        # A dropped line is recorded with the feature that decided it (short, headline, off_block, ...).
        return list(zip(final, features))

    def _main_block(self, texts: list[str], signals: list[LineSignals], initial: list[str], final: list[str],
                    features: list[str], start: int, breaks: frozenset[int], furniture: frozenset[int]) -> None:
        """Keep only the article: the run of lines with the most prose net of the furniture in it.

        A line scores its length when it is prose (good or near-good alone, good in context) and
        ``-line_cost`` when not; runs with the highest totals are found by Kadane's scan (the
        maximum-subarray idea of Finn et al.'s Body Text Extraction, on lines). A table, a list or
        an embed inside the article costs less than the prose around it earns, so the article is
        not split there, while a stretch of menus or link titles cuts off teasers and footers
        beyond it. Lists announced by a colon and tables of records (:func:`_record_runs`) cost
        nothing. The article is the first run from ``start`` (after the repeated headline)
        weighing at least ``block_share`` of the heaviest, joined with each neighbouring run that
        earns more than the lines between cost; nothing spans a break. Runs after the first break
        (a comment thread) are not candidates when ``article_min_chars`` of prose come before it,
        and runs before ``start`` are when they outweigh those after it ``before_headline_factor``
        times (the headline was printed again after the article). Inside it, lines whose own
        class is in ``keep_in_block`` are kept, and so are the rows of its lists and tables; good
        lines outside it are dropped.
        """
        scores: list[int] = []
        # A line ending in a colon and the items of the list it announces (tour dates, steps,
        # ingredients, deals) cost nothing, so the list neither splits the article nor is cut
        # from its end.
        listed = [False] * len(final)
        announced = False
        for i in range(len(final)):
            if i in breaks or i in furniture or initial[i] in (GOOD, BAD):
                announced = False
            if texts[i].endswith((":", "：")) and initial[i] != BAD:
                announced = True
            listed[i] = announced
        for first, last in _record_runs(texts, initial, breaks | furniture, self.record_rows):
            # A table or a list of records (tour dates, results, prices) costs nothing either, nor
            # does its heading, the short line right before it ("Tour dates", "Defensive line").
            if first > 0 and initial[first - 1] == SHORT and first not in breaks | furniture:
                first -= 1
            for i in range(first, last + 1):
                listed[i] = True
        for i, cls in enumerate(final):
            if initial[i] in (GOOD, NEARGOOD) and cls == GOOD:
                scores.append(_width(texts[i], signals[i].wide))
            else:
                scores.append(0 if listed[i] else -self.line_cost)
        segments = _segments(scores, start, breaks)
        # The article comes before its comment thread: when at least article_min_chars of prose
        # follow the headline before the first end-of-article marker, no run after that marker is
        # taken for the article (one may still join it).
        closing = min((i for i in breaks if i > start), default=len(scores))
        candidates = segments
        if start and any(last < closing and score >= self.article_min_chars for score, _, last in segments):
            candidates = [segment for segment in segments if segment[2] < closing]
        # A page may repeat its headline after the article (a recipe card, a related link): a run
        # before the repeat weighing before_headline_factor times the heaviest after it is the article.
        before = _segments(scores[:start], 0, breaks) if start else []
        if before and (not candidates or max(score for score, _, _ in before)
                       > self.before_headline_factor * max(score for score, _, _ in candidates)):
            segments, candidates = before + segments, before
        if not segments:
            return
        heaviest = max(score for score, _, _ in candidates)
        main = segments.index(next(segment for segment in candidates
                                   if segment[0] >= self.block_share * heaviest))

        def joins(left: int, right: int, other: int) -> bool:
            """Whether segment ``other`` (``left`` or ``right``) earns more than the gap to it costs."""
            gap = range(segments[left][2] + 1, segments[right][1])
            return (not any(i in breaks for i in gap) and segments[right][1] not in breaks
                    and segments[other][0] + sum(scores[i] for i in gap) >= 0)

        low = high = main
        while high + 1 < len(segments) and joins(high, high + 1, high + 1):
            high += 1
        while low > 0 and joins(low - 1, low, low - 1):
            low -= 1
        first, last = segments[low][1], segments[high][2]
        while last + 1 < len(final) and listed[last + 1]:
            last += 1
        for i, cls in enumerate(final):
            if first <= i <= last:
                # A table row stays even when it rated bad alone (figures, few stop words).
                if cls != GOOD and (initial[i] in self.keep_in_block or listed[i]):
                    final[i] = GOOD
            elif cls == GOOD:
                final[i] = BAD
                features[i] = "off_block"


_DIGIT = re.compile(r"\d")
# What separates the fields of a record: "June 9 – Tampa, FL @ Amphitheatre", "VIP : 60,000₩", "63 85%".
_FIELD_MARK = re.compile(r"[–—:@|%$€£¥₩/()\[\]]| - ")


def _record_runs(texts: list[str], initial: list[str], stops: frozenset[int] | set[int],
                 least: int) -> list[tuple[int, int]]:
    """``(first, last)`` of each run of at least ``least`` consecutive record lines.

    A record line is not good prose on its own (near-good, short, headline-like or few stop words),
    has at least three words and marks off fields (a dash, colon, @, %, currency, slash or bracket); a run of
    them is a table or a list of records when most of its lines hold a figure (dates, scores,
    prices) or share one layout of field marks ("Spain (Group F): 11th appearance"), so neither
    a menu nor a list of headlines is one. No run crosses a line in ``stops`` (after a removed
    furniture line or an end-of-article marker).
    """
    runs: list[tuple[int, int]] = []
    first = None
    for i, text in enumerate(texts + [""]):
        record = (i < len(texts) and initial[i] != GOOD and len(text.split()) >= 3
                  and _FIELD_MARK.search(text) is not None)
        if first is not None and (not record or i in stops):
            rows = texts[first:i]
            layouts = Counter("".join(_FIELD_MARK.findall(row)) for row in rows)
            if len(rows) >= least and 2 * max(sum(_DIGIT.search(row) is not None for row in rows),
                                               layouts.most_common(1)[0][1]) >= len(rows):
                runs.append((first, i - 1))
            first = None
        if record and first is None:
            first = i
    return runs


def _nearest(classes: list[str], skip: tuple[str, ...], step: int) -> list[str]:
    """Per line, the class of the nearest line before (step -1) or after (+1) it not in ``skip``.

    The page edges count as boilerplate, as in jusText.
    """
    out = [BAD] * len(classes)
    current = BAD
    order = range(len(classes)) if step < 0 else range(len(classes) - 1, -1, -1)
    for i in order:
        out[i] = current
        if classes[i] not in skip:
            current = classes[i]
    return out


def _in_context(initial: list[str]) -> list[str]:
    """jusText's context-sensitive pass: short and near-good lines take their neighbours' class."""
    before, after = _nearest(initial, (SHORT, NEARGOOD), -1), _nearest(initial, (SHORT, NEARGOOD), 1)
    before_near, after_near = _nearest(initial, (SHORT,), -1), _nearest(initial, (SHORT,), 1)
    final = list(initial)
    for i, cls in enumerate(initial):
        if cls == SHORT:
            if before[i] == after[i] == GOOD:
                final[i] = GOOD
            elif before[i] == after[i] == BAD:
                final[i] = BAD
            # Between good and bad text, a short line stays when a near-good line is next to it
            # on the bad side (the article's last short paragraphs before its footer).
            elif (before[i] == BAD and before_near[i] == NEARGOOD) or (after[i] == BAD and after_near[i] == NEARGOOD):
                final[i] = GOOD
            else:
                final[i] = BAD
        elif cls == NEARGOOD:
            final[i] = BAD if before[i] == after[i] == BAD else GOOD
    return final


def _segments(scores: list[int], start: int, breaks: frozenset[int]) -> list[tuple[int, int, int]]:
    """``(score, first, last)`` of the maximal-scoring runs of lines from ``start``, in page order.

    From each positive line a running total is kept until it falls to zero, the page ends or a
    break; the best prefix is a run, and the scan resumes after it, so prose after a costly
    stretch that did not exhaust the total still forms a run of its own.
    """
    found: list[tuple[int, int, int]] = []
    i = start
    while i < len(scores):
        if scores[i] <= 0:
            i += 1
            continue
        total, best = 0, (0, i, i)
        for j in range(i, len(scores)):
            if j > i and j in breaks:
                break
            total += scores[j]
            if total <= 0:
                break
            if total > best[0]:
                best = (total, i, j)
        found.append(best)
        i = best[2] + 1
    return found


# ---------------------------------------------------------------- layer 3: corpus repeats


def source_group(doc: Document) -> str:
    """Where a document comes from: the URL's host when known, else the input file's directory."""
    if doc.url:
        try:
            host = urlsplit(doc.url).hostname
        except ValueError:  # a feed's URL urllib cannot split ("http://[bad"): grouped as if it had none
            host = None
        if host:
            return host.removeprefix("www.")
    return posixpath.dirname(doc.source)


@functools.lru_cache(maxsize=LINE_CACHE)
def line_fingerprint(text: str) -> str:
    """A stable fingerprint of a line's comparison form (same on every worker and run).

    Cached: the repeat count and the stage both ask for it, over lines that most pages share."""
    return hashlib.blake2b(normalise_line(text).encode("utf-8"), digest_size=8).hexdigest()


def repeat_candidates(text: str, max_words: int) -> Iterator[str]:
    """Fingerprints of the lines of ``text`` that may count as repeats, each once."""
    seen: set[str] = set()
    for line in lines(text):
        stripped = line.stripped
        # Long lines are prose and quoted speech is content: a quote two stories share must stay.
        if not stripped or len(stripped.split()) > max_words or _QUOTE.search(stripped):
            continue
        fingerprint = line_fingerprint(stripped)
        if fingerprint not in seen:
            seen.add(fingerprint)
            yield fingerprint


def repeat_keys(doc: Document, section: Mapping[str, Any]) -> list[str]:
    """``"<source group>|<fingerprint>"`` for each repeat candidate of one document, sorted."""
    if not section["enabled"]:
        return []
    group = source_group(doc)
    return sorted(f"{group}|{fp}" for fp in repeat_candidates(doc.text, section["max_words"]))


def count_repeats(docs: Iterable[Document], section: Mapping[str, Any]) -> dict[str, int]:
    """The corpus aggregate without Beam (for benchmarks): key -> documents, thresholded."""
    counts: dict[str, int] = {}
    for doc in docs:
        for key in repeat_keys(doc, section):
            counts[key] = counts.get(key, 0) + 1
    return {key: n for key, n in sorted(counts.items()) if n >= section["min_documents"]}


class RepeatedLines(beam.PTransform):
    """``(key, documents)`` for lines repeated in at least ``min_documents`` documents of one source.

    Each document contributes each of its line keys once, so the count is of distinct documents,
    and counting is order-independent: the result is the same on any runner and worker count.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__()
        self._section = config["boilerplate"]["repeats"]

    def expand(self, docs):
        section = self._section
        return (docs
                | "LineKeys" >> beam.FlatMap(repeat_keys, section)
                | "CountDocuments" >> beam.combiners.Count.PerElement()
                | "KeepRepeated" >> beam.Filter(lambda item, least: item[1] >= least, section["min_documents"]))


# ---------------------------------------------------------------- the stage


class LineFacts(NamedTuple):
    """What a stripped line's text alone decides, the same on every page that prints it."""

    key: str  # comparison form (normalise_line)
    rule: str | None  # the rule-pack rule that names it, or None
    words: int
    sentences: frozenset[str]  # _sentences(key), for lines of at least page_min_words words


class Boilerplate:
    """The three layers, built once per worker."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        section = config["boilerplate"]
        self.rules = RulePacks(config["files"][section["rules_file"]],
                               f"boilerplate.rules_file ({section['rules_file']})")
        self.classifier = LineClassifier(section["classifier"])
        self.page_repeat_min_words: int = section["repeats"]["page_min_words"]
        self.page_sentence_share: float = section["repeats"]["page_sentence_share"]
        # What a line's text alone decides is worked out once per distinct line (rules.LINE_CACHE).
        self.facts = functools.lru_cache(maxsize=LINE_CACHE)(self._facts)

    def _facts(self, text: str) -> LineFacts:
        """The :class:`LineFacts` of a stripped line."""
        key = normalise_line(text)
        words = len(text.split())
        parts = _sentences(key) if words >= self.page_repeat_min_words else frozenset()
        return LineFacts(key, self.rules.match(text, key), words, parts)

    def strip(self, doc: Document, repeated: Mapping[str, int]) -> Document:
        found: list[Removal] = []
        rest: list[Line] = []
        texts: list[str] = []  # the stripped text of each line in rest
        breaks: set[int] = set()
        furniture: set[int] = set()
        group = source_group(doc) if repeated else ""
        seen: set[str] = set()
        seen_sentences: set[str] = set()
        for line in lines(doc.text):
            text = line.stripped
            if not text:
                continue
            facts = self.facts(text)
            rule = facts.rule
            if rule is None and repeated and f"{group}|{line_fingerprint(text)}" in repeated:
                rule = "corpus_repeat"
            if rule is None and facts.words >= self.page_repeat_min_words:
                # A whole sentence printed twice on one page is a gallery caption or a teaser
                # repeating the article, never new text: its first occurrence stays. So is a
                # line of sentences at least page_sentence_share of which the page printed
                # before (the article again as one paragraph in the page's metadata).
                key, parts = facts.key, facts.sentences
                again = len(parts) >= 2 and len(parts & seen_sentences) >= self.page_sentence_share * len(parts)
                rule = "page_repeat" if key in seen or again else None
                seen.add(key)
                seen_sentences.update(parts)
            if rule is not None:
                found.append(Removal(*content_span(line), "boilerplate", rule))
                furniture.add(len(rest))
                if rule in self.rules.ends_article:
                    breaks.add(len(rest))
            else:
                rest.append(line)
                texts.append(text)
        if self.classifier.enabled and rest:
            start = _after_headline(doc, rest)
            classes = self.classifier.classify(texts, start, frozenset(breaks), frozenset(furniture))
            for line, (cls, feature) in zip(rest, classes):
                if cls == BAD:
                    # One string object per rule: a spilled page's pickle holds it once, not once
                    # per removed line (the page's pickle 13% smaller, 10% faster to load).
                    found.append(Removal(*content_span(line), "boilerplate", sys.intern(f"classifier:{feature}")))
        remove(doc, found)
        return doc


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])[\"'”’»)\]]*\s+")


def _sentences(normalised: str) -> frozenset[str]:
    """The sentences of a line's comparison form that have at least three words."""
    return frozenset(part.strip(_EDGE_PUNCT) for part in _SENTENCE_SPLIT.split(normalised) if len(part.split()) >= 3)


def _after_headline(doc: Document, rest: list[Line]) -> int:
    """Index in ``rest`` of the first line after the page's first repeat of the headline (0 if none)."""
    anchors = [item["raw_end"] for item in doc.removed if item["kind"] == "title" and item["rule"] == "title_repeat"]
    if not anchors:
        return 0
    anchor = min(anchors)
    for index, line in enumerate(rest):
        if doc.raw_span(line.start, line.end)[0] >= anchor:
            return index
    return 0


def build(config: Mapping[str, Any]):
    """The boilerplate stage's function; its side input is :class:`RepeatedLines`' result as a dict."""
    stage = Boilerplate(config)

    def boilerplate(doc: Document, repeated: Mapping[str, int] | None = None) -> Document:
        return stage.strip(doc, repeated or {})

    return boilerplate


def check_config(config: Mapping[str, Any]) -> None:
    """Cheap start-time checks: packs well formed, patterns compile, stop-word lists exist, bounds."""
    section = config["boilerplate"]
    RulePacks(config["files"][section["rules_file"]], f"boilerplate.rules_file ({section['rules_file']})")
    classifier = section["classifier"]
    for code in classifier["languages"]:
        if not _stop_words_file(code).is_file():
            raise ConfigError("boilerplate.classifier.languages", f"spaCy has no stop-word list for {code!r}")
    if not 0 < classifier["length_low"] <= classifier["length_high"]:
        raise ConfigError("boilerplate.classifier.length_low", "must be positive and at most length_high")
    if classifier["before_headline_factor"] < 1:
        raise ConfigError("boilerplate.classifier.before_headline_factor", "must be at least 1")
    if not 0 <= classifier["stopwords_floor"] <= classifier["stopwords_low"] <= classifier["stopwords_high"] <= 1:
        raise ConfigError("boilerplate.classifier.stopwords_low",
                          "need 0 <= stopwords_floor <= stopwords_low <= stopwords_high <= 1")
    if section["repeats"]["min_documents"] < 2:
        raise ConfigError("boilerplate.repeats.min_documents", "a repeat needs at least 2 documents")
