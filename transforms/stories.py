"""Stories: different articles about one event, labelled with a shared ``story_id``.

Each record is described by a weighted vector of its canonical entities, salient words (term
frequency times general-language rarity from wordfreq) and title words, and by its date. Two
records are linked when the cosine similarity of their vectors reaches the threshold and their
dates lie within the time window (an undated record may link to any date); a story is a connected
component of links.
Candidate pairs share one of the records' top terms (blocking), never all pairs.

``story_id`` is the id of the story's first record (earliest ``published``, then smallest id): the
same on every run and worker count, and unchanged when later articles join the story. A record
that links to nothing is a story of its own.
"""

from __future__ import annotations

import math
import zlib
from datetime import date
from functools import partial
from typing import Any, Iterator, Mapping

import apache_beam as beam
import numpy as np

from transforms.dedup import (DISTINCT, Components, JoinIdentical, Rank, RelateAcrossWindows, Relation, VerifiedPairs,
                              block_entries, is_first_shared_key, relation_ttl_seconds)
from transforms.document import Document
from transforms.rewrites import rarities, salient_terms, tokenize
from transforms.stage import is_windowed

Vector = tuple[tuple[str, float], ...]
# (blocking keys, the unit-length vector packed by pack_vector, ordinal day or None)
StoryFeatures = tuple[tuple[str, ...], bytes, int | None]


def day(published: str | None) -> int | None:
    """The proleptic ordinal day of an ISO 8601 date or timestamp, None when absent or unreadable."""
    if not published:
        return None
    try:
        return date.fromisoformat(published[:10]).toordinal()
    except ValueError:
        return None


def story_vector(doc: Document, salient: list[tuple[str, float]], settings: Mapping[str, Any]) -> Vector:
    """Canonical entities (boosted), the most salient words (``salient``: see
    :func:`transforms.rewrites.text_terms`) and the title's words, weighted and scaled to unit length."""
    weights: dict[str, float] = {}
    labels = set(settings["entity_labels"])
    names = [(entity.get("canonical") or entity["text"]).casefold() for entity in doc.entities
             if entity["label"] in labels]
    words = sorted({word for name in names for word in name.split()})
    rare = dict(zip(words, rarities(words, doc.language)))
    for name in names:
        weights[f"@{name}"] = weights.get(f"@{name}", 0.0) + settings["entity_weight"] * max(
            (rare[word] for word in name.split()), default=0.0)
    for word, weight in salient[:settings["terms"]]:
        weights[word] = weights.get(word, 0.0) + weight
    # The headline names the event in a few words; the header stage (or the feed) took it out of the text.
    for word, weight in (title_terms(doc) if settings["title_weight"] else []):
        weights[word] = weights.get(word, 0.0) + settings["title_weight"] * weight
    norm = math.sqrt(sum(weight * weight for weight in weights.values()))
    if not norm:
        return ()
    return tuple(sorted((term, weight / norm) for term, weight in weights.items() if weight > 0))


def title_terms(doc: Document) -> list[tuple[str, float]]:
    """The content words of the record's title, each weighted by its count times its rarity."""
    return salient_terms(tokenize(doc.title, doc.language).words, doc.language) if doc.title else []


def pack_vector(vector: Vector) -> bytes:
    """A vector as its terms' 32-bit CRC hashes (ascending) followed by their weights as 32-bit floats.

    A record's features wait in every block of its terms (eight by default), and as ``(term, weight)``
    tuples they were 915 bytes a block, 439 packed: the story blocks of 100,000 bench documents were
    the relations' largest group. The cosine only needs to know which terms two records share; two
    terms of one record with the same hash share one entry, their weights added, and two records'
    different terms share a hash about once in 4 billion comparisons of a term.
    """
    hashes = np.fromiter((zlib.crc32(term.encode("utf-8")) for term, _ in vector), dtype=np.uint32,
                         count=len(vector))
    unique, slots = np.unique(hashes, return_inverse=True)
    weights = np.zeros(len(unique))
    np.add.at(weights, slots, [weight for _, weight in vector])
    return unique.astype("<u4").tobytes() + weights.astype("<f4").tobytes()


def _unpacked(packed: bytes) -> tuple[np.ndarray, np.ndarray]:
    count = len(packed) // 8
    return (np.frombuffer(packed, dtype="<u4", count=count),
            np.frombuffer(packed, dtype="<f4", count=count, offset=4 * count).astype(np.float64))


def cosine(a: bytes, b: bytes) -> float:
    """Cosine similarity of two packed unit vectors (see :func:`pack_vector`)."""
    hashes_a, weights_a = _unpacked(a)
    hashes_b, weights_b = _unpacked(b)
    _, in_a, in_b = np.intersect1d(hashes_a, hashes_b, assume_unique=True, return_indices=True)
    return round(float(np.dot(weights_a[in_a], weights_b[in_b])), 4)


def within_window(day_a: int | None, day_b: int | None, window_days: int) -> bool:
    """Dates at most ``window_days`` apart; an unknown date does not keep records apart."""
    return day_a is None or day_b is None or abs(day_a - day_b) <= window_days


def story_features(doc: Document, salient: list[tuple[str, float]], settings: Mapping[str, Any]) -> StoryFeatures:
    """Blocking keys (the heaviest terms), the packed vector and the day of one record."""
    vector = story_vector(doc, salient, settings)
    heaviest = sorted(vector, key=lambda item: (-item[1], item[0]))[:settings["block_keys"]]
    # Tuples and bytes throughout: equal features are grouped as a key (see FindStories), on every runner.
    return tuple(sorted(term for term, _ in heaviest)), pack_vector(vector), day(doc.published)


def linked(a: StoryFeatures, b: StoryFeatures, settings: Mapping[str, Any]) -> float | None:
    """The pair's similarity when the two records belong to one story, else None."""
    if not within_window(a[2], b[2], settings["window_days"]):
        return None
    similarity = cosine(a[1], b[1])
    return similarity if similarity >= settings["threshold"] else None


def _story_blocks(element: tuple[Rank, StoryFeatures]) -> Iterator[tuple[str, tuple[Rank, StoryFeatures]]]:
    doc_rank, features = element
    return block_entries(features[0], doc_rank, features, True)


def _verify(key: str, a: StoryFeatures, b: StoryFeatures, settings: Mapping[str, Any]) -> float | None:
    """Each pair is judged in the block of its smallest shared key only."""
    return linked(a, b, settings) if is_first_shared_key(key, a[0], b[0]) else None


def _no_score(element: tuple[Rank, Rank]) -> tuple[Rank, tuple[Rank, None]]:
    return element[0], (element[1], None)


STORIES = Relation("story_id", self_default=True)


class FindStories(beam.PTransform):
    """``(rank, story features)`` (see :func:`story_features`) -> ``(member rank, (first record's rank, None))``
    for every record of a story of two or more; a record without an entry is a story of its own."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__()
        self._settings = dict(config["stories"])
        self._ttl = relation_ttl_seconds(config)

    def expand(self, features):
        settings = self._settings
        if is_windowed(features):  # streaming: stories that began in earlier windows too (see RelateAcrossWindows)
            return (features
                    | "BlockKeys" >> beam.FlatMap(_story_blocks)
                    | "Related" >> RelateAcrossWindows("stories", partial(_verify, settings=settings), None,
                                                       settings["max_block_neighbours"], self._ttl))
        # Records with equal features (copies of one text, published the same day) are one story, and
        # only one of them goes through the blocks (see JoinIdentical); a record without terms has no
        # blocks and links to nothing, also when another has none.
        exact = (features
                 | "WithTerms" >> beam.Filter(lambda element: bool(element[1][0]))
                 | "Identical" >> JoinIdentical())
        linked_pairs = (exact[DISTINCT]
                        | "BlockKeys" >> beam.FlatMap(_story_blocks)
                        | "CandidatePairs" >> VerifiedPairs(partial(_verify, settings=settings),
                                                            settings["max_block_neighbours"]))
        return ((exact.edges, linked_pairs)
                | "AllEdges" >> beam.Flatten()
                | "Clusters" >> Components()
                | "NoScore" >> beam.Map(_no_score))
