"""Boilerplate lines, three layers, every removal recorded with the rule that made it.

1. Rule packs (``configs/rules/boilerplate.yaml``): exact lines and anchored patterns.
2. A context-aware line classifier, jusText's idea applied to text lines instead of HTML blocks:
   each line is first rated on its own (length, stop-word density, final punctuation) as good,
   near-good, short or bad, then short and near-good lines take the class of their neighbours, so
   subheads, short quotes and one-sentence paragraphs between article lines stay while menus,
   link lists and footers around the article go. (jusText itself needs an HTML tree; the
   neighbour rules are re-implemented here over lines.)
3. Corpus-learned repeats (C4's cross-document idea): :class:`RepeatedLines` counts, over the
   whole input, in how many documents of one source each short line occurs; lines found in at
   least ``min_documents`` documents of the same source are boilerplate for this run.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import urlsplit

import apache_beam as beam
import regex
import spacy

from transforms.document import Document
from transforms.errors import ConfigError
from transforms.layout import Line, Removal, compile_rules, content_span, lines, remove
from transforms.rules import MATCH_SECONDS

STAGE = "boilerplate"

_EDGE_PUNCT = " \t:.…|•·›»>-–—*[]()"
_SPACE = re.compile(r"\s+")
_TOKEN = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}'’-]*")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")
_QUOTE = re.compile(r"[\"“”«»„]")

GOOD, NEARGOOD, SHORT, BAD = "good", "neargood", "short", "bad"


def normalise_line(text: str) -> str:
    """The comparison form of a line: case-folded, white space collapsed, edge punctuation off."""
    return _SPACE.sub(" ", text.casefold()).strip(_EDGE_PUNCT)


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

    def match(self, text: str) -> str | None:
        """The rule id that names ``text`` as boilerplate, or None."""
        rule = self.exact.get(normalise_line(text))
        if rule:
            return rule
        for rule_id, pattern in self.patterns:
            if pattern.fullmatch(text, timeout=MATCH_SECONDS):
                return rule_id
        return None


# ---------------------------------------------------------------- layer 2: line classifier


class LineClassifier:
    """jusText-style classes for text lines, decided on the line, then its neighbours, then its block."""

    def __init__(self, section: Mapping[str, Any]) -> None:
        self.enabled: bool = section["enabled"]
        # spaCy ships stop-word lists for many languages (no model needed); a page is rated with the
        # list that covers most of its words, so non-English news is not all "low density".
        self.stop_words = [(code, frozenset(spacy.util.get_lang_class(code).Defaults.stop_words))
                           for code in section["languages"]]
        self.length_low: int = section["length_low"]
        self.length_high: int = section["length_high"]
        self.stopwords_floor: float = section["stopwords_floor"]
        self.stopwords_low: float = section["stopwords_low"]
        self.stopwords_high: float = section["stopwords_high"]
        self.prose_min_words: int = section["prose_min_words"]
        self.max_gap_lines: int = section["max_gap_lines"]
        self.block_share: float = section["block_share"]
        self.extend_gap_lines: int = section["extend_gap_lines"]
        self.extend_min_density: float = section["extend_min_density"]

    def stop_list(self, tokens: list[list[str]]) -> frozenset[str]:
        """The stop-word list covering most tokens of the page (first listed language on a tie)."""
        flat = [token for line in tokens for token in line]
        best = max(self.stop_words, key=lambda item: sum(token in item[1] for token in flat))
        return best[1]

    def rate(self, text: str, tokens: list[str], stop_words: frozenset[str]) -> tuple[str, str]:
        """``(class, feature)`` of one line on its own."""
        if not tokens:
            return BAD, "no_words"
        density = sum(token in stop_words for token in tokens) / len(tokens)
        sentence = bool(_SENTENCE_END.search(text))
        if len(text) < self.length_low:
            # A short line that reads as a sentence (final mark, enough words and stop words) is
            # prose — a one-sentence paragraph or a short quote — and only its context can drop it.
            if sentence and len(tokens) >= self.prose_min_words and density >= self.stopwords_low:
                return NEARGOOD, "short_sentence"
            return SHORT, "short"
        if not sentence and len(text) < self.length_high:
            # Headline-like (link titles, subheads): kept only inside the article.
            return SHORT, "headline"
        if density >= self.stopwords_high:
            return GOOD, "prose"
        if density >= self.stopwords_floor:
            return NEARGOOD, "near_prose"
        return BAD, "stopwords"

    def classify(self, texts: list[str], start: int = 0, breaks: frozenset[int] = frozenset()) -> list[tuple[str, str]]:
        """Final ``(class, feature)`` per line: short and near-good lines follow their context.

        ``start`` is the first line after the headline when the page repeats it (the article
        follows its headline); the article block is looked for from there. ``breaks`` are lines
        that follow an end-of-article marker (a comment section's heading): no run spans them.
        """
        tokens = [_TOKEN.findall(text.casefold()) for text in texts]
        stop_words = self.stop_list(tokens)
        rated = [self.rate(text, line_tokens, stop_words) for text, line_tokens in zip(texts, tokens)]
        initial = [cls for cls, _ in rated]
        if GOOD not in initial:
            # Nothing reads as article prose: no evidence of where the article is, so keep all.
            return [(GOOD, feature) for _, feature in rated]
        final = list(initial)

        def neighbour(index: int, step: int, skip: tuple[str, ...]) -> str:
            index += step
            while 0 <= index < len(initial):
                if initial[index] not in skip:
                    return initial[index]
                index += step
            return BAD  # the page edges count as boilerplate, as in jusText

        for i, cls in enumerate(initial):
            if cls != SHORT:
                continue
            before = neighbour(i, -1, (SHORT, NEARGOOD))
            after = neighbour(i, 1, (SHORT, NEARGOOD))
            if before == after == GOOD:
                final[i] = GOOD
            elif before == after == BAD:
                final[i] = BAD
            elif (before == BAD and neighbour(i, -1, (SHORT,)) == NEARGOOD) or (
                    after == BAD and neighbour(i, 1, (SHORT,)) == NEARGOOD):
                final[i] = GOOD
            else:
                final[i] = BAD
        for i, cls in enumerate(initial):
            if cls == NEARGOOD:
                before = neighbour(i, -1, (SHORT, NEARGOOD))
                after = neighbour(i, 1, (SHORT, NEARGOOD))
                final[i] = BAD if before == after == BAD else GOOD
        features = [feature for _, feature in rated]
        self._main_block(texts, initial, final, features, start, breaks)
        # A dropped line is recorded with the feature that decided it (short, headline, off_block, ...).
        return list(zip(final, features))

    def _main_block(self, texts: list[str], initial: list[str], final: list[str], features: list[str],
                    start: int, breaks: frozenset[int]) -> None:
        """Keep only the article, dropping good lines outside it (teasers, comments, footers).

        Prose lines (good or near-good on their own) at most ``max_gap_lines`` other lines apart
        form runs. A run weighs its good text times the square of its density (good text over all
        text of its span), so that comment threads (user, date, votes between comments) and teaser
        lists (headline, one sentence) weigh less than an article of the same length. The article
        is the first run from ``start`` weighing at least ``block_share`` of the heaviest, extended
        over neighbouring dense runs (density >= ``extend_min_density``) at most
        ``extend_gap_lines`` away, as when a list or an embed splits the article.
        """
        runs: list[list[int]] = []
        gap = self.max_gap_lines + 1
        for i, cls in enumerate(initial):
            if i in breaks:
                gap = self.max_gap_lines + 1
            if cls in (GOOD, NEARGOOD):
                if gap > self.max_gap_lines:
                    runs.append([])
                runs[-1].append(i)
                gap = 0
            else:
                gap += 1
        if len(runs) < 2:
            return

        def density(run: list[int]) -> float:
            good = sum(len(texts[i]) for i in run if final[i] == GOOD)
            span = sum(len(texts[i]) for i in range(run[0], run[-1] + 1))
            return good / span if span else 0.0

        weights = [sum(len(texts[i]) for i in run if final[i] == GOOD) * density(run) ** 2 for run in runs]
        candidates = [r for r, run in enumerate(runs) if run[-1] >= start] or list(range(len(runs)))
        heaviest = max(weights[r] for r in candidates)
        main = next(r for r in candidates if weights[r] >= self.block_share * heaviest)

        def joins(left: int, right: int, other: int) -> bool:
            return (runs[right][0] - runs[left][-1] - 1 <= self.extend_gap_lines
                    and density(runs[other]) >= self.extend_min_density)

        low = high = main
        while high + 1 < len(runs) and joins(high, high + 1, high + 1):
            high += 1
        while low > 0 and runs[low - 1][-1] >= start and joins(low - 1, low, low - 1):
            low -= 1
        first, last = runs[low][0], runs[high][-1]
        for i, cls in enumerate(final):
            if cls == GOOD and not first <= i <= last:
                final[i] = BAD
                features[i] = "off_block"


# ---------------------------------------------------------------- layer 3: corpus repeats


def source_group(doc: Document) -> str:
    """Where a document comes from: the URL's host when known, else the input file's directory."""
    if doc.url:
        host = urlsplit(doc.url).hostname
        if host:
            return host.removeprefix("www.")
    return posixpath.dirname(doc.source)


def line_fingerprint(text: str) -> str:
    """A stable fingerprint of a line's comparison form (same on every worker and run)."""
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


class Boilerplate:
    """The three layers, built once per worker."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        section = config["boilerplate"]
        self.rules = RulePacks(config["files"][section["rules_file"]],
                               f"boilerplate.rules_file ({section['rules_file']})")
        self.classifier = LineClassifier(section["classifier"])
        self.repeats = section["repeats"]

    def strip(self, doc: Document, repeated: Mapping[str, int]) -> Document:
        found: list[Removal] = []
        rest: list[Line] = []
        breaks: set[int] = set()
        group = source_group(doc) if repeated else ""
        for line in lines(doc.text):
            if line.blank:
                continue
            text = line.stripped
            rule = self.rules.match(text)
            if rule is None and repeated and f"{group}|{line_fingerprint(text)}" in repeated:
                rule = "corpus_repeat"
            if rule is not None:
                found.append(Removal(*content_span(line), "boilerplate", rule))
                if rule in self.rules.ends_article:
                    breaks.add(len(rest))
            else:
                rest.append(line)
        if self.classifier.enabled and rest:
            start = _after_headline(doc, rest)
            for line, (cls, feature) in zip(rest, self.classifier.classify([line.stripped for line in rest], start,
                                                                                frozenset(breaks))):
                if cls == BAD:
                    found.append(Removal(*content_span(line), "boilerplate", f"classifier:{feature}"))
        remove(doc, found)
        return doc


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
    stage = Boilerplate(config)
    classifier = stage.classifier
    if not 0 < classifier.length_low <= classifier.length_high:
        raise ConfigError("boilerplate.classifier.length_low", "must be positive and at most length_high")
    if not 0 <= classifier.stopwords_floor <= classifier.stopwords_low <= classifier.stopwords_high <= 1:
        raise ConfigError("boilerplate.classifier.stopwords_low",
                          "need 0 <= stopwords_floor <= stopwords_low <= stopwords_high <= 1")
    if stage.repeats["min_documents"] < 2:
        raise ConfigError("boilerplate.repeats.min_documents", "a repeat needs at least 2 documents")
