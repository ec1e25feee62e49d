"""Relations between records: one features pass, the three relations, one join of labels to records.

Every record's features for all three relations come from one pass over its text (one spaCy
tokenisation serves rewrites and stories); duplicates (:mod:`transforms.dedup`), rewrites
(:mod:`transforms.rewrites`) and stories (:mod:`transforms.stories`) are then found from those
features alone, and the records get all their labels in one step (:class:`transforms.dedup.AttachRelations`):
whole records were grouped once per relation, and on the in-process runner each such group held the
whole collection in memory, on a cluster each was a shuffle of every record. Rewrite features are
computed for every record, copies too, because the copies are only known once the duplicates are;
over a batch they wait on disk until then, like the documents (the largest features, 2.5 kB a record).
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import apache_beam as beam
from apache_beam import pvalue

from transforms.dedup import DUPLICATES, AttachRelations, FindDuplicates, guarded, permutations, rank, text_signature
from transforms.document import Document
from transforms.rewrites import REWRITES, FindRewrites, sentence_sets, text_terms, tokenizer
from transforms.shard import ByKeyShard
from transforms.stories import STORIES, FindStories, story_features

_SIGNATURES, _REWRITE_FEATURES, _STORY_FEATURES = "signatures", "rewrite_features", "story_features"
_RELATIONS = {"duplicates": DUPLICATES, "rewrites": REWRITES, "stories": STORIES}


class _FeaturesFn(beam.DoFn):
    """Document -> the document, and tagged ``(rank, features)`` for each relation it can take part in.

    A record whose features for one relation fail (see :func:`transforms.dedup.guarded`) is still a
    record and still takes part in the other relations.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._settings = {name: dict(config[name]) for name in ("dedup", "rewrites", "stories")}

    def setup(self) -> None:
        # Per worker, not on the first element: the hash permutations and spaCy's English tables.
        permutations(self._settings["dedup"]["num_perm"], self._settings["dedup"]["seed"])
        tokenizer(None)

    def process(self, doc: Document) -> Iterator[Any]:
        doc_rank = rank(doc)
        signature = guarded("dedup", lambda d: text_signature(d.text, self._settings["dedup"]), doc)
        if signature is not None:
            yield pvalue.TaggedOutput(_SIGNATURES, (doc_rank, signature))
        terms = guarded("terms", text_terms, doc)
        if terms is not None:
            rewrite = guarded("rewrites", lambda d: sentence_sets(d, terms, self._settings["rewrites"]), doc)
            if rewrite is not None and rewrite[0]:
                sentences, keys = rewrite
                yield pvalue.TaggedOutput(_REWRITE_FEATURES, (doc_rank, (keys, sentences)))
            story = guarded("stories", lambda d: story_features(d, terms[1], self._settings["stories"]), doc)
            if story is not None:
                yield pvalue.TaggedOutput(_STORY_FEATURES, (doc_rank, story))
        yield doc


def _not_a_copy(element: tuple[Any, Mapping[str, list[Any]]]) -> Iterator[tuple[Any, Any]]:
    """A record's rewrite features unless it is a near-duplicate copy: a copy is already related."""
    doc_rank, grouped = element
    if not grouped["copies"]:
        for features in grouped["features"]:
            yield doc_rank, features


def _original(element: tuple[Any, Any], copies: Mapping[Any, Any]) -> bool:
    """Whether a record's ``(rank, features)`` are not a copy's (the copies keyed by rank)."""
    return element[0] not in copies


class _SkipCopies(beam.PTransform):
    """``{"features": (rank, rewrite features), "copies": (rank, (canonical rank, score))}`` -> the
    rewrite features of the records that are not copies.

    With ``hold`` (a batch) the features wait where the documents do (see :mod:`transforms.spill`),
    and the copies, ranks and scores of related records only, reach them as a side input; without it
    (streaming windows, or a batch whose documents wait where the runner keeps them) the two meet in a
    join by rank. At 100,000 bench records the features were
    342 MiB grouped for that join, and held in memory from the features step until then.
    """

    def __init__(self, hold: beam.PTransform | None) -> None:
        super().__init__()
        self._hold = hold

    def expand(self, inputs):
        if self._hold is None:
            return inputs | "JoinCopies" >> ByKeyShard(lambda: "Join" >> beam.CoGroupByKey()
                                                       | "SkipCopies" >> beam.FlatMap(_not_a_copy))
        return (inputs["features"]
                | "Hold" >> self._hold
                | "SkipCopies" >> beam.Filter(_original, pvalue.AsDict(inputs["copies"])))


class RelateDocuments(beam.PTransform):
    """Documents -> the same documents labelled ``duplicate_of``, ``rewrite_of`` and ``story_id`` (with scores).

    ``hold``: where the documents of a batch, and their rewrite features, wait while the relations
    are found (see :mod:`transforms.spill`); by default they wait where the runner keeps them.
    """

    def __init__(self, config: Mapping[str, Any], hold: beam.PTransform | None = None) -> None:
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
