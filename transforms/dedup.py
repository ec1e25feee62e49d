"""Near-duplicate copies: MinHash over word shingles, LSH banding, verified pairs, connected components.

A syndicated wire story reaches a feed many times with one body and different boilerplate; every
copy is kept and labelled ``duplicate_of`` its cluster's canonical member (earliest ``published``,
then smallest id) with ``duplicate_score``, the estimated Jaccard similarity of the two texts.

The whole-collection machinery here (blocking keys -> GroupByKey -> verified pairs -> connected
components, and the one join of all relations' labels back to the records by id) is shared by
:mod:`transforms.rewrites` and :mod:`transforms.stories`; each relation only supplies its blocking keys
and pair score, from the features :mod:`transforms.relations` computes. In a streaming run (windowed
documents) the relations span windows instead: keyed state per blocking key and a cross-window
union-find (:class:`RelateAcrossWindows`); the batch graph does not use them.
Signatures come from datasketch's seeded ``MinHash``; banding, neighbourhood pairing and
union-find are a few lines each, written here because they must run as Beam steps (datasketch's
``MinHashLSH`` is an in-memory index on one machine).
"""

from __future__ import annotations

import bisect
import logging
import unicodedata
import zlib
from functools import lru_cache, partial
from typing import Any, Callable, Hashable, Iterable, Iterator, Mapping, NamedTuple, Optional, Sequence, Tuple, TypeVar

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.coders import PickleCoder, VarIntCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import BagStateSpec, ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.transforms.window import GlobalWindows, TimestampedValue, WindowFn
from apache_beam.utils.timestamp import Timestamp
import numpy as np
import regex

from transforms.document import Document
from transforms.errors import ConfigError
from transforms.shard import ByKeyShard
from transforms.spill import JoinInParts, SpillDocuments
from transforms.stage import is_windowed, per_window

# (0 when dated else 1, published, id): sorting by it puts the canonical member of a cluster first —
# the earliest dated record, then the smallest id; undated records come after dated ones.
# ``published`` is compared as text, which orders ISO 8601 dates (what the metadata stage writes).
Rank = tuple[int, str, str]

_WORD = regex.compile(r"[\p{L}\p{N}]+(?:'[\p{L}]+)*")
_SCHEME = "affine32"
# A shingle's hash is a polynomial of its words' hashes (CRC-32 of each distinct word, in C), for all
# of a text's shingles at once in numpy, folded to the 32 bits of the affine32 scheme, which mixes
# every value (MurmurHash3's finalizer) before its permutations. Joining each shingle's words and
# hashing the text with datasketch's default SHA-1 took 0.71 ms a bench text, this 0.35 ms.
# Signatures, and so a few borderline estimates, differ from SHA-1's: the syndication benchmark's
# precision stayed 1.0 and its recall within the spread of its seeds (see bench/dedup.py).
_MULTIPLIER = np.uint64(0x100000001B3)  # FNV-1's 64-bit prime: odd, so no word's bits are lost
_LOW_BITS = np.uint64(0xFFFFFFFF)


def rank(doc: Document) -> Rank:
    """The deterministic precedence of a record inside any cluster (never its arrival order)."""
    return (0, doc.published, doc.id) if doc.published else (1, "", doc.id)


# ---------------------------------------------------------------------------------------------
# Pure parts: shingles, signatures, bands, estimated Jaccard, neighbourhood pairs, components.
# ---------------------------------------------------------------------------------------------

def words(text: str) -> list[str]:
    """Case-folded NFKC word tokens: punctuation, spacing and quote styles do not matter."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold().replace("’", "'"))


class _WordHashes(dict):
    """Word -> CRC-32 of its UTF-8, each word hashed once (a text's words are mostly met before),
    cleared when full as the other per-word caches are."""

    LIMIT = 1 << 16

    def __missing__(self, word: str) -> int:
        if len(self) >= self.LIMIT:
            self.clear()
        value = self[word] = zlib.crc32(word.encode("utf-8"))
        return value


_WORD_HASHES = _WordHashes()


def shingle_hashes(tokens: list[str], size: int) -> np.ndarray:
    """The 32-bit hash of each word ``size``-gram of ``tokens``, in text order (a text shorter than
    ``size`` words is one shingle): equal shingles hash alike, in any text and process."""
    if not tokens:
        return np.empty(0, dtype=np.uint32)
    hashes = np.fromiter(map(_WORD_HASHES.__getitem__, tokens), dtype=np.uint64, count=len(tokens))
    count = max(len(tokens) - size + 1, 1)
    combined = hashes[:count].copy()
    for offset in range(1, min(size, len(tokens))):
        combined = combined * _MULTIPLIER + hashes[offset:offset + count]  # wraps modulo 2**64
    return (((combined >> np.uint64(32)) ^ combined) & _LOW_BITS).astype(np.uint32)


@lru_cache(maxsize=None)
def _minhash() -> type:
    """datasketch's ``MinHash``, imported on first use, as spaCy is (transforms/rewrites.py): importing
    datasketch takes 0.3 s (SciPy, for its LSH), which the process that only builds the graph need not pay."""
    from datasketch import MinHash

    return MinHash


@lru_cache(maxsize=None)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The seeded hash permutations, drawn once per process and shared by every signature."""
    return _minhash()(num_perm=num_perm, seed=seed, scheme=_SCHEME).permutations


def signature(hashes: np.ndarray, num_perm: int, seed: int) -> bytes:
    """The MinHash signature of 32-bit hashes (:func:`shingle_hashes`) as bytes (``num_perm``
    little-endian uint32 values); a hash given twice counts once, as in a set."""
    sketch = _minhash()(num_perm=num_perm, seed=seed, scheme=_SCHEME, permutations=permutations(num_perm, seed),
                         hashfunc=int)  # the items are hashes already
    sketch.update_batch(hashes.tolist())
    return sketch.hashvalues.astype("<u4").tobytes()


def text_signature(text: str, settings: Mapping[str, Any]) -> bytes | None:
    """The signature of a text's word shingles (``dedup`` settings), None for a text without words."""
    hashes = shingle_hashes(words(text), settings["shingle_size"])
    return signature(hashes, settings["num_perm"], settings["seed"]) if len(hashes) else None


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


def is_first_shared_key(key: Any, keys_a: Sequence[Any], keys_b: Sequence[Any]) -> bool:
    """Whether ``key``, a blocking key of both records (each's keys sorted), is the smallest they share:
    a pair in several blocks is handled in that one only. Only the keys below it are compared (the
    whole sets were built for every candidate pair, 1.6% of a run)."""
    below_a = keys_a[:bisect.bisect_left(keys_a, key)]
    return not below_a or set(below_a).isdisjoint(keys_b[:bisect.bisect_left(keys_b, key)])


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


def block_pairs(block: tuple[Hashable, Iterable[tuple[Rank, Any]]], verify: Verify,
                window: int) -> Iterator[tuple[tuple[Rank, Rank], float]]:
    """A block's verified pairs (see :class:`VerifiedPairs`): a pair its earlier pairs already join is
    neither verified nor kept."""
    key, members = block
    forest = UnionFind()
    for (rank_a, payload_a), (rank_b, payload_b) in neighbour_pairs(members, window):
        if forest.find(rank_a) == forest.find(rank_b):
            continue
        score = verify(key, payload_a, payload_b)
        if score is not None:
            forest.union(rank_a, rank_b)
            yield (rank_a, rank_b), score


class VerifiedPairs(beam.PTransform):
    """``(block key, (rank, payload))`` -> ``((rank_a, rank_b), score)``: the pairs that connect each block.

    Members sharing a key are grouped (GroupByKey), paired within the block (see
    :func:`neighbour_pairs`) and kept when ``verify(key, payload_a, payload_b)`` gives a score. A relation
    needs only its components (:class:`Components`), not every pair's score, so a block keeps only the
    pairs that join two of its groups not yet joined, at most one fewer than its members, and does not
    verify the others: a pair left out joins two records that the block's kept pairs already join. A
    pair is kept from every block whose ``verify`` passes it, so a relation's ``verify`` passes a pair
    only in the first key the two share (:func:`is_first_shared_key`, :func:`first_shared_band`).
    Why the pairs are not grouped here: a syndicated article's copies share all their story keys, so
    the verified pairs grow with the square of its copies (the 100k-document bench corpus has stories
    of up to 483 records), and a group held them all in memory on the local runner.
    """

    def __init__(self, verify: Verify, window: int) -> None:
        super().__init__()
        self._verify = verify
        self._window = window

    def expand(self, keyed):
        return keyed | "Blocks" >> ByKeyShard(
            lambda: ("GroupBlocks" >> beam.GroupByKey()
                     | "PairWithinBlocks" >> beam.FlatMap(block_pairs, self._verify, self._window)))


def block_entries(keys: Iterable[Hashable], doc_rank: Rank, features: Any,
                  with_features: bool) -> Iterator[tuple[Hashable, Any]]:
    """A record in each of its blocks: its rank and features (what :class:`VerifiedPairs` and the streaming
    blocks pair), or its rank alone (:class:`BlockedPairs` sends the features later)."""
    for key in keys:
        yield key, ((doc_rank, features) if with_features else doc_rank)


def shared_blocks(block: tuple[Hashable, Iterable[Rank]]) -> Iterator[tuple[Rank, Hashable]]:
    """A block's members as ``(rank, key)``, none when it has only one: a pair needs two."""
    key, ranks = block
    ranks = list(ranks)
    if len(ranks) > 1:
        for doc_rank in ranks:
            yield doc_rank, key


def _features_in_blocks(element: tuple[Rank, Mapping[str, list[Any]]]) -> Iterator[tuple[Hashable, tuple[Rank, Any]]]:
    doc_rank, grouped = element
    for features in grouped["features"]:
        for key in grouped["blocks"]:
            yield key, (doc_rank, features)


class BlockedPairs(beam.PTransform):
    """``{"keys": (block key, rank), "features": (rank, features)}`` -> the verified pairs of
    :class:`VerifiedPairs`, each record's features sent only to its blocks of two or more members.

    The blocks are first grouped with ranks alone; a record's features then travel once to each block
    where they can meet another's (a join by rank). Why not the features in every block: most blocks of
    distinct articles have one member, and a record is in many blocks (a signature in 14 bands is
    6 kB). Why not pairs of ranks that then meet their features (two joins by rank): a syndicated
    story's near copies share their blocks, so the pairs grow with the square of the copies, each
    carrying a record's features (100,000 bench documents: 544,000 candidate pairs of 12,000 distinct
    signatures, the run's peak memory); a block pairs its members where they already are, and
    verifies only the pairs that connect it.
    """

    def __init__(self, verify: Verify, window: int) -> None:
        super().__init__()
        self._verify = verify
        self._window = window

    def expand(self, inputs):
        shared = inputs["keys"] | "SharedBlocks" >> ByKeyShard(
            lambda: "GroupRanks" >> beam.GroupByKey() | "TwoOrMore" >> beam.FlatMap(shared_blocks))
        return ({"features": inputs["features"], "blocks": shared}
                | "FeaturesToBlocks" >> ByKeyShard(lambda: "Join" >> beam.CoGroupByKey()
                                                   | "IntoBlocks" >> beam.FlatMap(_features_in_blocks))
                | "VerifiedPairs" >> VerifiedPairs(self._verify, self._window))


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

    Two joins by rank bring both records' features to each pair (a member and its cluster's canonical
    record), so features are never broadcast.
    """

    def __init__(self, score: Callable[[Any, Any], float]) -> None:
        super().__init__()
        self._score = score

    def expand(self, inputs):
        features = inputs["features"]
        with_member = ({"features": features, "pairs": inputs["pairs"]}
                       | "JoinMember" >> ByKeyShard(lambda: "Join" >> beam.CoGroupByKey()
                                                   | "ByTarget" >> beam.FlatMap(_pairs_by_first)))
        return ({"features": features, "pairs": with_member}
                | "JoinTarget" >> ByKeyShard(lambda: "Join" >> beam.CoGroupByKey()
                                             | "Score" >> beam.FlatMap(_score_second, self._score)))


def _relation_by_id(element: tuple[Rank, tuple[Rank, float]]) -> tuple[str, tuple[str, float]]:
    member, (target, score) = element
    return member[2], (target[2], score)


class Relation(NamedTuple):
    """Where a relation goes in a record: the field for the target's id, the field for the score
    (None: no score) and whether a record without the relation gets its own id (a story of one)."""

    target_field: str
    score_field: str | None = None
    self_default: bool = False


Labels = Mapping[str, Tuple[str, Optional[float]]]  # relation name -> (target id, score)


def _labels_by_id(element: tuple[str, Mapping[str, Iterable[Any]]]) -> tuple[str, dict[str, Any]]:
    doc_id, grouped = element
    return doc_id, {name: min(found) for name, found in grouped.items() if found}


def label(doc: Document, labels: Labels, relations: Mapping[str, Relation]) -> Document:
    """``doc`` with each relation's fields set from ``labels`` as ``relations`` says."""
    for name, relation in relations.items():
        found = labels.get(name)
        if found is not None:
            setattr(doc, relation.target_field, found[0])
            if relation.score_field is not None:
                setattr(doc, relation.score_field, found[1])
        elif relation.self_default:
            setattr(doc, relation.target_field, doc.id)
    return doc


def _label_from_view(doc: Document, labels: Mapping[str, Labels], relations: Mapping[str, Relation]) -> Document:
    return label(doc, labels.get(doc.id, {}), relations)


def _label_in_part(doc: Document, labels: Mapping[str, Labels], relations: Mapping[str, Relation]) -> Iterator[Document]:
    yield _label_from_view(doc, labels, relations)


def _doc_id(doc: Document) -> str:
    return doc.id


def _label_joined(element: tuple[str, Mapping[str, Iterable[Any]]],
                  relations: Mapping[str, Relation]) -> Iterator[Document]:
    _, grouped = element
    for labels in grouped["labels"] or [{}]:
        for doc in grouped["docs"]:
            yield label(doc, labels, relations)


class AttachRelations(beam.PTransform):
    """``{"docs": Document, name: (rank, (target rank, score)), ...}`` -> the documents, each relation's
    fields set as ``relations[name]`` says.

    The relations meet by id first (small: ids and scores of related records only). Over a batch
    whose documents wait on disk (``hold``: see :mod:`transforms.spill`) the labels reach them part by
    part (:class:`transforms.spill.JoinInParts`), and without ``hold`` as a side input, so the
    documents are never grouped; in streaming windows, by a join.
    """

    def __init__(self, relations: Mapping[str, Relation], hold: SpillDocuments | None = None) -> None:
        super().__init__()
        self._relations = dict(relations)
        self._hold = hold

    def expand(self, inputs):
        docs = inputs["docs"]
        labels = ({name: inputs[name] | f"ById[{name}]" >> beam.Map(_relation_by_id) for name in self._relations}
                  | "JoinRelations" >> beam.CoGroupByKey()
                  | "LabelsById" >> beam.Map(_labels_by_id))
        if is_windowed(docs):
            keyed = docs | "KeyById" >> beam.Map(lambda doc: (doc.id, doc))
            return ({"docs": keyed, "labels": labels}
                    | "JoinById" >> beam.CoGroupByKey()
                    | "SetFields" >> beam.FlatMap(_label_joined, self._relations))
        if self._hold is not None:
            return ({"items": docs, "table": labels}
                    | "SetFields" >> JoinInParts(self._hold, _doc_id, str, _label_in_part, self._relations))
        return docs | "SetFields" >> beam.Map(_label_from_view, beam.pvalue.AsDict(labels), self._relations)


# ---------------------------------------------------------------------------------------------
# Streaming: relations that span windows (issue #6), with keyed state instead of per-window groups.
# ---------------------------------------------------------------------------------------------
#
# In a streaming run the documents come in fixed windows and each window's records are written when
# the window closes, so a record can only be labelled in the window it arrived in. To relate it to
# records of earlier windows, two stateful steps run in the global window (state must outlive a
# window) and their results are put back into the documents' windows:
#
# 1. ``JoinStoredMembers``, keyed by blocking key (an LSH band bucket, a salient word, a story term):
#    the state is the block's members seen so far (rank, features, event time), at most ``cap`` of
#    them. An arriving member is verified against the stored members nearest to it in rank order,
#    which is what :func:`neighbour_pairs` gives it in a batch, and each verified edge carries both
#    records' features (the older record's document was written with an earlier window and is not in
#    this window) and the event time of the LATER of the two members: the edge belongs to the window
#    where the second of the pair arrived, whichever of the two a worker happened to process first.
# 2. ``ClusterAcrossWindows``, one key: a union-find over every edge seen (ranks only, plus the
#    features of each component's canonical record, to score a member against it). Edges are
#    buffered and applied window by window, in event-time order, by a timer at each window's end, so
#    the order edges reach the worker does not matter; then every record that arrived in that window
#    and has an edge gets its component's canonical (the smallest rank, as in a batch). A chain through
#    earlier windows is followed: A~B in window 1 and C~B in window 2 give C the canonical A.
#
# A record's relation is as of its arrival: records of earlier windows are not rewritten (their
# files are written). Batch and streaming give the same relations when records arrive in rank order
# (the canonical, earliest-published copy first, as syndication does) and no block exceeds ``cap``
# (tests/test_streaming_relations.py). Otherwise a record gets the canonical known when its window
# closes: a record that arrives before its canonical is labelled with the best it has met (or
# nothing), and a record whose only link to a cluster arrives in a later window stays unlabelled.
# Edges of a window whose timer has already fired (late data) reach the forest but their labels are
# late for the documents' window and are dropped, like the late documents themselves.
#
# State growth: step 1 holds at most ``cap`` members per blocking key ever seen; step 2 holds one entry
# per record that has an edge (plus the canonical records' features). With ``ttl_seconds`` (the config's
# ``streaming.relation_state_days``) a block forgets members older than that, an idle block's state is
# cleared by an event-time timer, and a component whose newest member is older than that is dropped
# from the forest; 0 keeps everything (state grows with the stream).

Member = Tuple[Rank, Any, int]  # (rank, features, event time in microseconds)
Edge = Tuple[Rank, Any, int, Rank, Any, int]  # both members, the smaller rank first
Score = Callable[[Any, Any], Optional[float]]
_MICROS = 1_000_000


def join_block(stored: list[Member], new: Member, cap: int,
               ttl_micros: int = 0) -> tuple[list[Member], list[Member]]:
    """A block's stored members (sorted by rank) and an arriving one -> (its partners, the members kept).

    Partners are the ``cap`` stored members on each side of the newcomer in rank order (its batch
    neighbours; with arrivals in rank order, the ``cap`` members before it), leaving out those more
    than ``ttl_micros`` apart from it in event time (0: no limit). Kept: the ``cap`` largest ranks, the
    neighbours of the records still to come (new records have the latest dates), without members more
    than ``ttl_micros`` older than the newest one.
    A record already stored (delivered again) has no partners and changes nothing.
    """
    if any(member[0] == new[0] for member in stored):
        return [], stored
    if ttl_micros and stored:
        newest = max(new[2], max(member[2] for member in stored))
        stored = [member for member in stored if member[2] + ttl_micros >= newest]
    at = bisect.bisect_left([member[0] for member in stored], new[0])
    partners = [member for member in stored[max(0, at - cap):at + cap]
                if not ttl_micros or abs(member[2] - new[2]) <= ttl_micros]
    kept = stored[:at] + [new] + stored[at:]
    return partners, kept[max(0, len(kept) - cap):] if cap > 0 else []


def block_edges(key: Hashable, new: Member, partners: Iterable[Member], verify: Verify) -> Iterator[Edge]:
    """The newcomer's verified edges, each as (smaller-rank member, larger-rank member).

    ``verify`` sees the pair in rank order, as in a batch, so the result is the batch's for the pair.
    """
    for partner in partners:
        first, second = sorted((partner, new), key=lambda member: member[0])
        if verify(key, first[1], second[1]) is not None:
            yield (*first, *second)


class RelationForest:
    """The cross-window union-find of step 2: parents, each record's newest event time, canonical features."""

    def __init__(self) -> None:
        self.forest = UnionFind()
        self.seen: dict[Rank, int] = {}
        self.features: dict[Rank, Any] = {}

    def add_window(self, edges: Iterable[Edge], window_start: int,
                   score: Score | None) -> list[tuple[Rank, tuple[Rank, float | None]]]:
        """Apply one window's edges; -> ``(member, (canonical, score))`` for its records that are not canonical.

        The result depends on the set of edges only (roots are the smallest rank). A member is
        labelled when it arrived in this window (its event time is at or after ``window_start``).
        """
        arrived: dict[Rank, Any] = {}
        known: dict[Rank, Any] = {}
        for rank_a, features_a, time_a, rank_b, features_b, time_b in edges:
            self.forest.union(rank_a, rank_b)
            for node, features, time in ((rank_a, features_a, time_a), (rank_b, features_b, time_b)):
                known[node] = features
                self.seen[node] = max(self.seen.get(node, time), time)
                if time >= window_start:
                    arrived[node] = features
        roots = {node: self.forest.find(node) for node in known}
        if score is not None:  # a relation without a score (stories) keeps no features
            for root in set(roots.values()):
                self.features.setdefault(root, known.get(root))
            for node in [node for node in self.features if self.forest.find(node) != node]:
                del self.features[node]  # only canonical records keep their features
        related = []
        for node in sorted(arrived):
            root = roots[node]
            if root != node:
                value = score(arrived[node], self.features[root]) if score is not None else None
                related.append((node, (root, value)))
        return related

    def expire(self, cutoff: int) -> None:
        """Drop every component whose newest record is older than ``cutoff`` (microseconds)."""
        newest: dict[Rank, int] = {}
        roots = self.forest.roots()
        for node, root in roots.items():
            newest[root] = max(newest.get(root, self.seen[node]), self.seen[node])
        for node, root in roots.items():
            if newest[root] < cutoff:
                del self.forest.parent[node], self.seen[node]
                self.features.pop(node, None)


def _state_key(element: tuple[Hashable, tuple[Rank, Any]]) -> tuple[str, tuple[Hashable, Rank, Any]]:
    # State is keyed by an encoded key with a deterministic coder (str); the key itself travels along
    # for ``verify`` (duplicates check the band index, the others the first shared key).
    key, (doc_rank, features) = element
    return repr(key), (key, doc_rank, features)


# The local runner keeps the timers a bundle sets in one buffer per timer name, not per step: two
# stateful steps with the same timer name in one fused stage lose each other's timers (in streaming the
# three relations' steps are fused into one stage, and a relation's labels went missing). So each
# relation's steps are built with timer names of their own.

def _block_state_fn(relation: str, verify: Verify, cap: int, ttl_seconds: int) -> beam.DoFn:
    """Step 1 of :class:`RelateAcrossWindows` for ``relation``, its timer named after it (see above)."""

    class _BlockStateFn(beam.DoFn):
        """Step 1: ``(state key, (block key, rank, features))`` -> verified edges, timestamped by the later member."""

        MEMBERS = ReadModifyWriteStateSpec("members", PickleCoder())
        EXPIRE = TimerSpec(f"expire-{relation}", TimeDomain.WATERMARK)

        def __init__(self, verify: Verify, cap: int, ttl_seconds: int) -> None:
            self._verify = verify
            self._cap = cap
            self._ttl = ttl_seconds * _MICROS

        def process(self, element, timestamp=beam.DoFn.TimestampParam,
                    members=beam.DoFn.StateParam(MEMBERS), expire=beam.DoFn.TimerParam(EXPIRE)):
            _, (key, doc_rank, features) = element
            new = (doc_rank, features, timestamp.micros)
            partners, kept = join_block(members.read() or [], new, self._cap, self._ttl)
            members.write(kept)
            if self._ttl:  # an idle block forgets its members once the newest has expired
                expire.set(Timestamp(micros=max(member[2] for member in kept) + self._ttl))
            for edge in block_edges(key, new, partners, self._verify):
                yield TimestampedValue(edge, Timestamp(micros=max(edge[2], edge[5])))

        @on_timer(EXPIRE)
        def expire_members(self, fired=beam.DoFn.TimestampParam, members=beam.DoFn.StateParam(MEMBERS)):
            kept = [member for member in members.read() or [] if member[2] + self._ttl > fired.micros]
            if kept:
                members.write(kept)
            else:
                members.clear()

    return _BlockStateFn(verify, cap, ttl_seconds)


def _one_forest(edge: Edge) -> tuple[int, Edge]:
    return 0, edge


def _forest_state_fn(relation: str, windowfn: WindowFn, score: Score | None, ttl_seconds: int) -> beam.DoFn:
    """Step 2 of :class:`RelateAcrossWindows` for ``relation``, its timer named after it (see above)."""

    class _ForestStateFn(beam.DoFn):
        """Step 2: ``(0, edge)`` -> ``(member, (canonical, score))``, emitted at the end of the member's window.

        Edges wait in ``pending`` until the watermark passes their window's end (one timer, always at the
        earliest pending window's end), then each window is applied in event-time order.
        """

        FOREST = ReadModifyWriteStateSpec("forest", PickleCoder())
        PENDING = BagStateSpec("pending", PickleCoder())
        NEXT = ReadModifyWriteStateSpec("next_flush", VarIntCoder())
        FLUSH = TimerSpec(f"flush-{relation}", TimeDomain.WATERMARK)

        def __init__(self, windowfn: WindowFn, score: Score | None, ttl_seconds: int) -> None:
            self._windowfn = windowfn
            self._score = score
            self._ttl = ttl_seconds * _MICROS

        def _window(self, micros: int):
            # Fixed windows: one window per timestamp.
            return next(iter(self._windowfn.assign(WindowFn.AssignContext(Timestamp(micros=micros)))))

        def _flush_time(self, micros: int) -> Timestamp:
            # A window's last millisecond (timers have millisecond precision), inside the window.
            return Timestamp(micros=self._window(micros).end.micros - 1000)

        def process(self, element, timestamp=beam.DoFn.TimestampParam, pending=beam.DoFn.StateParam(PENDING),
                    next_flush=beam.DoFn.StateParam(NEXT), flush=beam.DoFn.TimerParam(FLUSH)):
            pending.add((timestamp.micros, element[1]))
            due = self._flush_time(timestamp.micros)
            scheduled = next_flush.read()
            if scheduled is None or due.micros < scheduled:
                next_flush.write(due.micros)
                flush.set(due)

        @on_timer(FLUSH)
        def flush_windows(self, fired=beam.DoFn.TimestampParam, forest_state=beam.DoFn.StateParam(FOREST),
                          pending=beam.DoFn.StateParam(PENDING), next_flush=beam.DoFn.StateParam(NEXT),
                          flush=beam.DoFn.TimerParam(FLUSH)):
            waiting = list(pending.read())
            by_window: dict[int, list[Edge]] = {}
            later = []
            for time, edge in waiting:
                start = self._window(time).start.micros
                if start <= fired.micros:
                    by_window.setdefault(start, []).append(edge)
                else:
                    later.append((time, edge))
            forest = forest_state.read() or RelationForest()
            for start in sorted(by_window):
                stamp = self._flush_time(start)
                for related in forest.add_window(by_window[start], start, self._score):
                    yield TimestampedValue(related, stamp)
            if self._ttl:
                forest.expire(fired.micros - self._ttl)
            forest_state.write(forest)
            pending.clear()
            if later:
                for waiting_edge in later:
                    pending.add(waiting_edge)
                due = self._flush_time(min(time for time, _ in later))
                next_flush.write(due.micros)
                flush.set(due)
            else:
                next_flush.clear()

    return _ForestStateFn(windowfn, score, ttl_seconds)


class RelateAcrossWindows(beam.PTransform):
    """Streaming: ``(block key, (rank, features))`` in fixed windows -> ``(member, (canonical, score))`` in them.

    ``verify(key, features_a, features_b)`` keeps a pair (not None) as in :class:`VerifiedPairs`;
    ``score(member features, canonical features)`` is the relation's score (None for no score);
    ``cap`` bounds a block's stored members (the relation's ``max_block_neighbours``); ``relation``
    names the stateful steps' timers.
    """

    def __init__(self, relation: str, verify: Verify, score: Score | None, cap: int, ttl_seconds: int = 0) -> None:
        super().__init__()
        self._relation = relation
        self._verify = verify
        self._score = score
        self._cap = cap
        self._ttl = int(ttl_seconds)

    def expand(self, keyed):
        windowfn = keyed.windowing.windowfn
        edges = (keyed
                 | "StateKeys" >> beam.Map(_state_key).with_output_types(Tuple[str, Any])
                 | "ToGlobalWindow" >> beam.WindowInto(GlobalWindows())
                 | "JoinStoredMembers"
                 >> beam.ParDo(_block_state_fn(self._relation, self._verify, self._cap, self._ttl))
                 .with_input_types(Tuple[str, Any]))
        return (edges
                | "OneForest" >> beam.Map(_one_forest).with_output_types(Tuple[int, Any])
                | "ClusterAcrossWindows"
                >> beam.ParDo(_forest_state_fn(self._relation, windowfn, self._score, self._ttl))
                .with_input_types(Tuple[int, Any])
                | "ToWindows" >> beam.WindowInto(windowfn))


def relation_ttl_seconds(config: Mapping[str, Any]) -> int:
    """``streaming.relation_state_days`` in seconds (0: relation state is kept for ever)."""
    return int(round(float(config["streaming"]["relation_state_days"]) * 86400))


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


def _verify_copy(key: tuple[int, bytes], sig_a: bytes, sig_b: bytes, bands: int, threshold: float) -> float | None:
    """A pair is scored only in its first shared band, and kept when its estimated Jaccard is high."""
    if first_shared_band(sig_a, sig_b, bands) != key[0]:
        return None
    score = estimated_jaccard(sig_a, sig_b)
    return score if score >= threshold else None


DISTINCT = "distinct"


def identical_copies(group: tuple[Any, Iterable[Rank]]
                     ) -> Iterator[pvalue.TaggedOutput | tuple[tuple[Rank, Rank], float]]:
    """Records with equal features (a signature, a story vector) -> an edge from each to the first of
    them (by rank), and that first record's ``(rank, features)`` tagged ``distinct``: the one that stands
    for them in the blocks."""
    features, ranks = group
    first, *others = sorted(ranks)
    yield pvalue.TaggedOutput(DISTINCT, (first, features))
    for other in others:
        yield (first, other), 1.0


class JoinIdentical(beam.PTransform):
    """``(rank, features)`` -> ``edges``: ``((first rank, rank), 1.0)`` joining records with equal features to
    the first of them, and ``distinct``: ``(first rank, features)`` once per distinct features.

    Only the distinct features need to go through a relation's blocks: a syndicated body under other
    boilerplate gives the same features again and again (in the 10k bench corpus 9,916 records have
    2,191 distinct signatures), and every pair of its copies met in each block they share. Equal
    features are so always joined (each relation's verification passes two equal features), and a
    block's neighbourhood (``max_block_neighbours``) is counted in distinct features: the result is
    the same whenever blocks are within it.
    """

    def expand(self, features):
        return (features
                | "ByFeatures" >> beam.KvSwap()
                | "GroupIdentical" >> beam.GroupByKey()
                | "StarOfIdentical" >> beam.FlatMap(identical_copies).with_outputs(DISTINCT, main="edges"))


def _band_members(element: tuple[Rank, bytes], bands: int,
                  with_signature: bool) -> Iterator[tuple[tuple[int, bytes], Any]]:
    """A record in each of its band blocks, with its signature in streaming (see :func:`block_entries`)."""
    doc_rank, sig = element
    return block_entries(band_keys(sig, bands), doc_rank, sig, with_signature)


DUPLICATES = Relation("duplicate_of", "duplicate_score")


class FindDuplicates(beam.PTransform):
    """``(rank, signature)`` (see :func:`text_signature`) -> ``(copy rank, (canonical rank, estimated Jaccard))``
    for every near-duplicate copy; the canonical record of a cluster has no entry."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__()
        self._settings = dict(config["dedup"])
        self._ttl = relation_ttl_seconds(config)

    def expand(self, signatures):
        settings = self._settings
        verify = partial(_verify_copy, bands=settings["bands"], threshold=settings["threshold"])
        if is_windowed(signatures):  # streaming: copies of records from earlier windows too (see RelateAcrossWindows)
            return (signatures
                    | "BandKeys" >> beam.FlatMap(_band_members, settings["bands"], True)
                    | "Related" >> RelateAcrossWindows("duplicates", verify, estimated_jaccard,
                                                       settings["max_block_neighbours"], self._ttl))
        # Only distinct signatures go through the bands (see JoinIdentical): the pairs of identical copies
        # in each band they shared were most of the stage's memory (10k bench corpus: 3.3 million pairs
        # for 268,000 distinct ones).
        exact = signatures | "Identical" >> JoinIdentical()
        distinct = exact[DISTINCT]
        near = ({"keys": distinct | "BandKeys" >> beam.FlatMap(_band_members, settings["bands"], False),
                 "features": distinct}
                | "NearPairs" >> BlockedPairs(verify, settings["max_block_neighbours"]))
        edges = (exact.edges, near) | "AllEdges" >> beam.Flatten()
        members = edges | "Clusters" >> Components()
        return {"pairs": members, "features": signatures} | "ScoreToCanonical" >> ScorePairs(estimated_jaccard)
