"""Relations between records: one features pass, the three relations, one join of labels to records.

Every record's features for all three relations come from one pass over its text (one spaCy
tokenisation serves rewrites and stories); duplicates (:mod:`transforms.dedup`), rewrites
(:mod:`transforms.rewrites`) and stories (:mod:`transforms.stories`) are then found from those
features alone, and the records get all their labels in one step (:class:`transforms.dedup.AttachRelations`):
whole records were grouped once per relation, and on the in-process runner each such group held the
whole collection in memory, on a cluster each was a shuffle of every record. Rewrite features are
given for every record, copies too (an identical text's remembered, see :class:`_FeaturesFn`),
because the copies are only known once the duplicates are;
over a batch they wait on disk until then, like the documents (the largest features, 2.5 kB a record).
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, NamedTuple

import apache_beam as beam
from apache_beam import pvalue
from cachetools import LRUCache

from transforms.dedup import (DUPLICATES, AttachRelations, FindDuplicates, Rank, guarded, permutations, rank,
                              text_signature)
from transforms.document import Document, text_key
from transforms.frequency import use_cache
from transforms.rewrites import REWRITES, FindRewrites, Sentences, sentence_sets, text_terms, tokenizer
from transforms.shard import ByKeyShard
from transforms.spill import JoinInParts, SpillDocuments
from transforms.stories import STORIES, FindStories, story_features

_SIGNATURES, _REWRITE_FEATURES, _STORY_FEATURES = "signatures", "rewrite_features", "story_features"
_RELATIONS = {"duplicates": DUPLICATES, "rewrites": REWRITES, "stories": STORIES}


class _TextFeatures(NamedTuple):
    """What a record's features take from its text, language and entities alone (None: failed, or
    nothing to take part with)."""

    signature: bytes | None
    rewrite: tuple[Sentences, list[str]] | None
    salient: list[tuple[str, float]] | None  # the words the story vector weighs


def _text_features_key(doc: Document) -> tuple[bytes, str | None, tuple[tuple[int, str], ...]]:
    """Everything :class:`_TextFeatures` depend on: the text, its language and its entities' places and names."""
    return text_key(doc.text), doc.language, tuple((entity["start"], entity.get("canonical") or entity["text"])
                                                   for entity in doc.entities)


class _FeaturesFn(beam.DoFn):
    """Document -> the document, and tagged ``(rank, features)`` for each relation it can take part in.

    A record whose features for one relation fail (see :func:`transforms.dedup.guarded`) is still a
    record and still takes part in the other relations. The features that depend on the text alone
    are remembered for the ``relations.reuse_texts`` texts met last: a syndicated copy, once cleaned,
    has its original's text, and computing them was most of the step's time. The story features read
    the record's title and date too, so they are computed for each record.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._settings = {name: dict(config[name]) for name in ("dedup", "rewrites", "stories")}
        self._reuse = config["relations"]["reuse_texts"]
        self._frequency_cache = config["relations"]["frequency_cache"]

    def setup(self) -> None:
        # Per worker, not on the first element: the hash permutations and spaCy's English tables.
        permutations(self._settings["dedup"]["num_perm"], self._settings["dedup"]["seed"])
        tokenizer(None)
        use_cache(self._frequency_cache)
        # One per DoFn instance (each is used by one thread at a time), as the NER stage's.
        self._known = LRUCache(maxsize=self._reuse) if self._reuse else None

    def _text_features(self, doc: Document) -> _TextFeatures:
        signature = guarded("dedup", lambda d: text_signature(d.text, self._settings["dedup"]), doc)
        terms = guarded("terms", text_terms, doc)
        if terms is None:
            return _TextFeatures(signature, None, None)
        rewrite = guarded("rewrites", lambda d: sentence_sets(d, terms, self._settings["rewrites"]), doc)
        # The story vector weighs only the first ``terms`` of the salient words.
        return _TextFeatures(signature, rewrite, terms[1][:self._settings["stories"]["terms"]])

    def process(self, doc: Document) -> list[Any]:
        # In a spaCy memory zone: the words a record adds to the blank tokenizer's vocabulary are
        # dropped after it, where every distinct word of the corpus stayed for the worker's life (the
        # caches in transforms/rewrites.py keep what was read from them, as plain strings).
        with tokenizer(doc.language).memory_zone():
            return list(self._outputs(doc))

    def _outputs(self, doc: Document) -> Iterator[Any]:
        key = _text_features_key(doc) if self._known is not None else None
        features = self._known.get(key) if key is not None else None
        if features is None:
            features = self._text_features(doc)
            # Only what did not fail is remembered: a copy of a failing text fails, and is counted, again.
            if key is not None and None not in features:
                self._known[key] = features
        doc_rank = rank(doc)
        if features.signature is not None:
            yield pvalue.TaggedOutput(_SIGNATURES, (doc_rank, features.signature))
        if features.rewrite is not None and features.rewrite[0]:
            sentences, keys = features.rewrite
            yield pvalue.TaggedOutput(_REWRITE_FEATURES, (doc_rank, (keys, sentences)))
        if features.salient is not None:
            story = guarded("stories", lambda d: story_features(d, features.salient, self._settings["stories"]), doc)
            if story is not None:
                yield pvalue.TaggedOutput(_STORY_FEATURES, (doc_rank, story))
        yield doc


def _not_a_copy(element: tuple[Any, Mapping[str, list[Any]]]) -> Iterator[tuple[Any, Any]]:
    """A record's rewrite features unless it is a near-duplicate copy: a copy is already related."""
    doc_rank, grouped = element
    if not grouped["copies"]:
        for features in grouped["features"]:
            yield doc_rank, features


def _original(element: tuple[Rank, Any], copies: Mapping[Rank, Any]) -> Iterator[tuple[Rank, Any]]:
    """A record's ``(rank, features)`` unless they are a copy's (the copies keyed by rank)."""
    if element[0] not in copies:
        yield element


def _rank_id(rank: Rank) -> str:
    return rank[2]


def _features_id(element: tuple[Rank, Any]) -> str:
    return _rank_id(element[0])


class _SkipCopies(beam.PTransform):
    """``{"features": (rank, rewrite features), "copies": (rank, (canonical rank, score))}`` -> the
    rewrite features of the records that are not copies.

    With ``hold`` (a batch) the features wait where the documents do (see :mod:`transforms.spill`),
    and the copies, ranks and scores of related records only, reach them part by part
    (:class:`transforms.spill.JoinInParts`); without it (streaming windows, or a batch whose documents
    wait where the runner keeps them) the two meet in a join by rank. At 100,000 bench records the
    features were 342 MiB grouped for that join, and held in memory from the features step until then.
    """

    def __init__(self, hold: SpillDocuments | None) -> None:
        super().__init__()
        self._hold = hold

    def expand(self, inputs):
        if self._hold is None:
            return inputs | "JoinCopies" >> ByKeyShard(lambda: "Join" >> beam.CoGroupByKey()
                                                       | "SkipCopies" >> beam.FlatMap(_not_a_copy))
        return ({"items": inputs["features"], "table": inputs["copies"]}
                | "SkipCopies" >> JoinInParts(self._hold, _features_id, _rank_id, _original))


class RelateDocuments(beam.PTransform):
    """Documents -> the same documents labelled ``duplicate_of``, ``rewrite_of`` and ``story_id`` (with scores).

    ``hold``: where the documents of a batch, and their rewrite features, wait while the relations
    are found (see :mod:`transforms.spill`); by default they wait where the runner keeps them.
    """

    def __init__(self, config: Mapping[str, Any], hold: SpillDocuments | None = None) -> None:
        super().__init__()
        self._config = config
        self._hold = hold

    def expand(self, docs):
        features = (docs | "ComputeFeatures" >> beam.ParDo(_FeaturesFn(self._config))
                    .with_outputs(_SIGNATURES, _REWRITE_FEATURES, _STORY_FEATURES, main="docs"))
        duplicates = features[_SIGNATURES] | "FindDuplicates" >> FindDuplicates(self._config)
        originals = ({"features": features[_REWRITE_FEATURES], "copies": duplicates}
                     | "Originals" >> _SkipCopies(self._hold))
        rewrites = originals | "FindRewrites" >> FindRewrites(self._config)
        stories = features[_STORY_FEATURES] | "FindStories" >> FindStories(self._config)
        return ({"docs": features.docs, "duplicates": duplicates, "rewrites": rewrites, "stories": stories}
                | "Label" >> AttachRelations(_RELATIONS, self._hold))
