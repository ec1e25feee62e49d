"""Near-duplicate copies: MinHash over word shingles, LSH banding, verified pairs, connected components.

A syndicated wire story reaches a feed many times with one body and different boilerplate; every
copy is kept and labelled ``duplicate_of`` its cluster's canonical member (earliest ``published``,
then smallest id) with ``duplicate_score``, the estimated Jaccard similarity of the two texts.

The whole-collection machinery here (blocking keys -> GroupByKey -> verified pairs -> connected
components -> join back by id) is shared by :mod:`transforms.rewrites` and :mod:`transforms.stories`;
each relation only supplies its features, blocking keys and pair score.
Signatures come from datasketch's seeded ``MinHash``; banding, neighbourhood pairing and
union-find are a few lines each, written here because they must run as Beam steps (datasketch's
``MinHashLSH`` is an in-memory index on one machine).
"""

from __future__ import annotations

import logging
import unicodedata
from functools import partial
from typing import Any, Callable, Hashable, Iterable, Iterator, Mapping, TypeVar

import apache_beam as beam
from apache_beam.metrics import Metrics
import numpy as np
import regex
from datasketch import MinHash

from transforms.document import Document
from transforms.errors import ConfigError
from transforms.stage import per_window

# (0 when dated else 1, published, id): sorting by it puts the canonical member of a cluster first —
# the earliest dated record, then the smallest id; undated records come after dated ones.
# ``published`` is compared as text, which orders ISO 8601 dates (what the metadata stage writes).
Rank = tuple[int, str, str]

_WORD = regex.compile(r"[\p{L}\p{N}]+(?:'[\p{L}]+)*")
_SCHEME = "affine32"


def rank(doc: Document) -> Rank:
    """The deterministic precedence of a record inside any cluster (never its arrival order)."""
    return (0, doc.published, doc.id) if doc.published else (1, "", doc.id)


# ---------------------------------------------------------------------------------------------
# Pure parts: shingles, signatures, bands, estimated Jaccard, neighbourhood pairs, components.
# ---------------------------------------------------------------------------------------------

def words(text: str) -> list[str]:
    """Case-folded NFKC word tokens: punctuation, spacing and quote styles do not matter."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold().replace("’", "'"))


def shingles(tokens: list[str], size: int) -> set[bytes]:
    """The set of word ``size``-grams (a text shorter than ``size`` words is one shingle)."""
    if not tokens:
        return set()
    if len(tokens) < size:
        return {" ".join(tokens).encode("utf-8")}
    return {" ".join(tokens[i:i + size]).encode("utf-8") for i in range(len(tokens) - size + 1)}


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The seeded hash permutations, drawn once per worker and shared by every signature."""
    return MinHash(num_perm=num_perm, seed=seed, scheme=_SCHEME).permutations


def signature(items: Iterable[bytes], num_perm: int, seed: int,
              perms: tuple[np.ndarray, np.ndarray] | None = None) -> bytes:
    """The MinHash signature of a set as bytes (``num_perm`` little-endian uint32 values)."""
    sketch = MinHash(num_perm=num_perm, seed=seed, scheme=_SCHEME,
                     permutations=perms if perms is not None else permutations(num_perm, seed))
    sketch.update_batch(sorted(items))
    return sketch.hashvalues.astype("<u4").tobytes()


def _values(sig: bytes) -> np.ndarray:
    return np.frombuffer(sig, dtype="<u4")


def band_keys(sig: bytes, bands: int) -> list[tuple[int, bytes]]:
    """LSH band keys: the signature cut into ``bands`` equal rows, each tagged with its band index."""
    rows = len(sig) // 4 // bands
    return [(band, sig[band * rows * 4:(band + 1) * rows * 4]) for band in range(bands)]


def first_shared_band(sig_a: bytes, sig_b: bytes, bands: int) -> int | None:
    """The lowest band in which two signatures agree (None if none): each pair is verified once."""
    a, b = _values(sig_a), _values(sig_b)
    rows = len(a) // bands
    agree = np.all((a[:rows * bands] == b[:rows * bands]).reshape(bands, rows), axis=1)
    return int(np.argmax(agree)) if agree.any() else None


def estimated_jaccard(sig_a: bytes, sig_b: bytes) -> float:
    """The fraction of equal MinHash values: an unbiased estimate of the sets' Jaccard similarity."""
    return round(float(np.mean(_values(sig_a) == _values(sig_b))), 4)


def neighbour_pairs(members: Iterable[tuple[Rank, Any]], window: int) -> Iterator[tuple[tuple[Rank, Any], tuple[Rank, Any]]]:
    """Pairs of a block's members, each with its next ``window`` members in rank order.

    A small block yields all its pairs; a huge one (a very common key) yields O(n * window) pairs
    instead of O(n^2) — sorted-neighbourhood blocking. Chains of neighbours still connect a
    cluster of identical copies, so no member is lost from its component.
    """
    ordered = sorted(members, key=lambda member: member[0])
    for i, first in enumerate(ordered):
        for second in ordered[i + 1:i + 1 + window]:
            if first[0] != second[0]:
                yield first, second


def first_shared_key(keys_a: Iterable[Hashable], keys_b: Iterable[Hashable]) -> Hashable | None:
    """The smallest blocking key two records share: a pair in several blocks is handled in that one only."""
    shared = set(keys_a).intersection(keys_b)
    return min(shared) if shared else None


class UnionFind:
    """Disjoint sets whose root is always the smallest member, so the result ignores union order."""

    def __init__(self) -> None:
        self.parent: dict[Hashable, Hashable] = {}

    def find(self, node: Hashable) -> Hashable:
        parent = self.parent.setdefault(node, node)
        if parent == node:
            return node
        root = self.find(parent)
        self.parent[node] = root
        return root

    def union(self, a: Hashable, b: Hashable) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            low, high = sorted((root_a, root_b))
            self.parent[high] = low

    def roots(self) -> dict[Hashable, Hashable]:
        """Every node mapped to the smallest member of its component."""
        return {node: self.find(node) for node in list(self.parent)}


def components(edges: Iterable[tuple[Hashable, Hashable]]) -> dict[Hashable, Hashable]:
    """Connected components of an edge list: each node mapped to its component's smallest node."""
    forest = UnionFind()
    for a, b in edges:
        forest.union(a, b)
    return forest.roots()


# ---------------------------------------------------------------------------------------------
# Beam machinery shared by the three relations.
# ---------------------------------------------------------------------------------------------

Verify = Callable[[Hashable, Any, Any], "float | None"]


def _block_pairs(block: tuple[Hashable, Iterable[tuple[Rank, Any]]], verify: Verify,
                 window: int) -> Iterator[tuple[tuple[Rank, Rank], float]]:
    key, members = block
    for (rank_a, payload_a), (rank_b, payload_b) in neighbour_pairs(members, window):
        score = verify(key, payload_a, payload_b)
        if score is not None:
            yield (rank_a, rank_b), score


class VerifiedPairs(beam.PTransform):
    """``(block key, (rank, payload))`` -> ``((rank_a, rank_b), score)``, one per verified pair.

    Members sharing a key are grouped (GroupByKey), paired within the block (see
    :func:`neighbour_pairs`) and kept when ``verify(key, payload_a, payload_b)`` gives a score; a pair
    found in several blocks is kept once (its score is a function of the pair, so ``max`` is exact).
    """

    def __init__(self, verify: Verify, window: int) -> None:
        super().__init__()
        self._verify = verify
        self._window = window

    def expand(self, keyed):
        return (keyed
                | "GroupBlocks" >> beam.GroupByKey()
                | "PairWithinBlocks" >> beam.FlatMap(_block_pairs, self._verify, self._window)
                | "OncePerPair" >> beam.CombinePerKey(max))


class _ForestFn(beam.CombineFn):
    """Union-find over edges, merged across workers; the forest holds edge endpoints only."""

    def create_accumulator(self) -> UnionFind:
        return UnionFind()

    def add_input(self, forest: UnionFind, edge: tuple[Rank, Rank]) -> UnionFind:
        forest.union(*edge)
        return forest

    def merge_accumulators(self, forests: Iterable[UnionFind]) -> UnionFind:
        merged = UnionFind()
        for forest in forests:
            for node, parent in forest.parent.items():
                merged.union(node, parent)
        return merged

    def extract_output(self, forest: UnionFind) -> list[tuple[Rank, Rank]]:
        return sorted(forest.roots().items())


def _members(assignment: list[tuple[Rank, Rank]]) -> Iterator[tuple[Rank, Rank]]:
    for node, root in assignment:
        if node != root:
            yield node, root


class Components(beam.PTransform):
    """Verified edges ``((rank_a, rank_b), score)`` -> ``(member rank, canonical rank)`` for non-canonical members.

    Why one combine and not iterative label propagation: only the edges' endpoints (ranks, never
    documents, texts or signatures) reach the union-find, and combiner lifting builds partial forests
    on every worker before the merge, so the final step holds one entry per record that has a
    verified match — in news, a small fraction of the collection — while the documents themselves
    stay distributed. Label propagation would need a data-dependent number of shuffle rounds (the
    components' diameter), which a Beam graph cannot express without a fixed, possibly too small,
    bound. The canonical member is the smallest rank, so the result does not depend on edge order.
    """

    def expand(self, edges):
        # Streaming: one forest per window and none for a window without edges (the default, an
        # empty forest, labels nothing, so the result is the same).
        ends = edges | "EdgeEnds" >> beam.Keys()
        return (ends
                | "UnionFind" >> per_window(beam.CombineGlobally(_ForestFn()), ends)
                | "ToMembers" >> beam.FlatMap(_members)
                | "Spread" >> beam.Reshuffle())


def _pairs_by_first(element) -> Iterator[tuple[Rank, tuple[Rank, Any]]]:
    _, grouped = element
    for feature in grouped["features"]:
        for other in grouped["pairs"]:
            yield other, (element[0], feature)


def _score_second(element, score: Callable[[Any, Any], float]) -> Iterator[tuple[Rank, tuple[Rank, float]]]:
    target, grouped = element
    for feature in grouped["features"]:
        for member, member_feature in grouped["pairs"]:
            yield member, (target, score(member_feature, feature))


class ScorePairs(beam.PTransform):
    """``{"pairs": (rank_a, rank_b), "features": (rank, feature)}`` -> ``(rank_a, (rank_b, score))``.

    Two joins by rank bring both records' features to the pair, so features are never broadcast and
    each travels twice, whatever the number of blocks its record is in.
    """

    def __init__(self, score: Callable[[Any, Any], float]) -> None:
        super().__init__()
        self._score = score

    def expand(self, inputs):
        features = inputs["features"]
        with_member = ({"features": features, "pairs": inputs["pairs"]}
                       | "JoinMember" >> beam.CoGroupByKey()
                       | "ByTarget" >> beam.FlatMap(_pairs_by_first))
        return ({"features": features, "pairs": with_member}
                | "JoinTarget" >> beam.CoGroupByKey()
                | "Score" >> beam.FlatMap(_score_second, self._score))


def _relation_by_id(element: tuple[Rank, tuple[Rank, float]]) -> tuple[str, tuple[str, float]]:
    member, (target, score) = element
    return member[2], (target[2], score)


def _attach(element, target_field: str, score_field: str | None, self_default: bool) -> Iterator[Document]:
    doc_id, grouped = element
    relations = sorted(grouped["relation"])
    for doc in grouped["doc"]:
        if relations:
            target, score = relations[0]
            setattr(doc, target_field, target)
            if score_field is not None:
                setattr(doc, score_field, score)
        elif self_default:
            setattr(doc, target_field, doc_id)
        yield doc


class AttachRelation(beam.PTransform):
    """``{"docs": Document, "relation": (rank, (target rank, score))}`` -> the documents with the fields set.

    ``self_default`` gives a record with no relation its own id (a story of one).
    """

    def __init__(self, target_field: str, score_field: str | None = None, self_default: bool = False) -> None:
        super().__init__()
        self._fields = (target_field, score_field, self_default)

    def expand(self, inputs):
        keyed = inputs["docs"] | "KeyById" >> beam.Map(lambda doc: (doc.id, doc))
        relation = inputs["relation"] | "RelationById" >> beam.Map(_relation_by_id)
        return ({"doc": keyed, "relation": relation}
                | "JoinById" >> beam.CoGroupByKey()
                | "SetFields" >> beam.FlatMap(_attach, *self._fields))


T = TypeVar("T")
_LOG = logging.getLogger(__name__)


def guarded(relation: str, compute: Callable[[Document], T], doc: Document) -> T | None:
    """A document's features for one relation, or None when computing them fails.

    Relations are found over the whole collection, where a dead-letter output would have to be
    threaded through every join; a document whose features fail still becomes a record, it only
    takes part in no relation of this kind, and the failure is logged and counted.
    """
    try:
        return compute(doc)
    except Exception as error:  # noqa: BLE001 - one odd document must not stop the run
        Metrics.counter("newsbeam", f"{relation}.features_failed").inc()
        _LOG.warning("%s: no features for %s: %s: %s", relation, doc.source, type(error).__name__, error)
        return None


# ---------------------------------------------------------------------------------------------
# The duplicate relation.
# ---------------------------------------------------------------------------------------------

def check_config(config: Mapping[str, Any]) -> None:
    """Bands must cut the signature into equal rows."""
    settings = config["dedup"]
    if settings["num_perm"] % settings["bands"]:
        raise ConfigError("dedup.bands", f"must divide dedup.num_perm ({settings['num_perm']}) evenly")


class _SignatureFn(beam.DoFn):
    """Document -> ``(rank, signature)``; the permutations are drawn once per worker in ``setup``."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._settings = dict(settings)
        self._perms: tuple[np.ndarray, np.ndarray] | None = None

    def setup(self) -> None:
        self._perms = permutations(self._settings["num_perm"], self._settings["seed"])

    def process(self, doc: Document) -> Iterator[tuple[Rank, bytes]]:
        found = guarded("dedup", self._signature, doc)
        if found is not None:
            yield rank(doc), found

    def _signature(self, doc: Document) -> bytes | None:
        items = shingles(words(doc.text), self._settings["shingle_size"])
        return signature(items, self._settings["num_perm"], self._settings["seed"], self._perms) if items else None


def _verify_copy(key: tuple[int, bytes], sig_a: bytes, sig_b: bytes, bands: int, threshold: float) -> float | None:
    """A pair is scored only in its first shared band, and kept when its estimated Jaccard is high."""
    if first_shared_band(sig_a, sig_b, bands) != key[0]:
        return None
    score = estimated_jaccard(sig_a, sig_b)
    return score if score >= threshold else None


def _band_members(element: tuple[Rank, bytes], bands: int) -> Iterator[tuple[tuple[int, bytes], tuple[Rank, bytes]]]:
    doc_rank, sig = element
    for key in band_keys(sig, bands):
        yield key, (doc_rank, sig)


class FindDuplicates(beam.PTransform):
    """Documents -> the same documents, near-duplicate copies labelled ``duplicate_of`` + ``duplicate_score``."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__()
        self._settings = dict(config["dedup"])

    def expand(self, docs):
        settings = self._settings
        signatures = docs | "Signatures" >> beam.ParDo(_SignatureFn(settings))
        edges = (signatures
                 | "BandKeys" >> beam.FlatMap(_band_members, settings["bands"])
                 | "CandidatePairs" >> VerifiedPairs(
                     partial(_verify_copy, bands=settings["bands"], threshold=settings["threshold"]),
                     settings["max_block_neighbours"]))
        members = edges | "Clusters" >> Components()
        scored = {"pairs": members, "features": signatures} | "ScoreToCanonical" >> ScorePairs(estimated_jaccard)
        return {"docs": docs, "relation": scored} | "Label" >> AttachRelation("duplicate_of", "duplicate_score")
