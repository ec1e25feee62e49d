import itertools
import random

import apache_beam as beam
import pytest
from apache_beam.pvalue import TaggedOutput
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import SEEDS, local_pipeline, relate
from transforms.dedup import (BlockedPairs, band_keys, block_pairs, check_config, components, estimated_jaccard,
                              first_shared_band, identical_copies, is_first_shared_key, neighbour_pairs, rank,
                              shared_blocks, shingle_hashes, signature, text_signature, words)
from transforms.document import Document
from transforms.errors import ConfigError

SETTINGS = {"shingle_size": 5, "num_perm": 112, "bands": 14, "seed": 1, "threshold": 0.8,
            "max_block_neighbours": 100}
WIRE = (SEEDS / "000_d76d141d1717eaa8.txt").read_text("utf-8").strip()
OTHER = (SEEDS / "002_12c1b7dc48657c40.txt").read_text("utf-8").strip()


def syndicated(body: str) -> str:
    """A copy as another site prints it: its own furniture around the body and one light edit."""
    edited = body.replace("Russian Prime Minister", "Russia's Prime Minister", 1)
    return f"World | Asia\n{edited}\nShare this article: Facebook Twitter Email\n© 2023 The Daily Courier"


@pytest.mark.parametrize("text, expected", [
    ("Xi Jinping met Mishustin.", ["xi", "jinping", "met", "mishustin"]),
    ("“Dear friend,” he said — twice!", ["dear", "friend", "he", "said", "twice"]),
    ("China’s  customs\nauthorities", ["china's", "customs", "authorities"]),
    ("China's customs", ["china's", "customs"]),
    ("ＦＵＬＬ width $200 billion", ["full", "width", "200", "billion"]),
    ("", []),
])
def test_dedup_words_ignore_case_punctuation_and_spacing(text, expected):
    assert words(text) == expected


def test_dedup_shingle_hashes_are_one_per_word_ngram_and_equal_for_equal_ngrams():
    def hashes(tokens: list[str], size: int) -> list[int]:
        return shingle_hashes(tokens, size).tolist()

    assert len(hashes(["a", "b", "c", "d"], 2)) == 3
    # "a b" twice: the same hash, wherever the words stand and whichever words surround them.
    first, second, third = hashes(["a", "b", "a", "b"], 2)
    assert first == third == hashes(["a", "b"], 2)[0] and second == hashes(["b", "a"], 2)[0]
    assert first != second  # the words' order counts
    assert hashes(["a", "b"], 5) == hashes(["a", "b"], 2)  # a shorter text is one shingle of its words
    assert hashes(["a b", "c"], 2) != hashes(["a", "b c"], 2)  # words, not their joined text
    assert hashes([], 5) == []
    tokens = words(WIRE)
    assert len(set(hashes(tokens, 5))) == len({tuple(tokens[i:i + 5]) for i in range(len(tokens) - 4)})


def test_dedup_signature_is_seeded_and_estimates_jaccard():
    tokens = words(WIRE)
    full = shingle_hashes(tokens, 5)
    half = shingle_hashes(tokens[: len(tokens) // 2], 5)
    true_jaccard = len(set(full.tolist()) & set(half.tolist())) / len(set(full.tolist()) | set(half.tolist()))
    assert signature(full, 112, 1) == signature(full, 112, 1)
    assert signature(full, 112, 1) != signature(full, 112, 2)
    assert len(signature(full, 112, 1)) == 112 * 4
    assert abs(estimated_jaccard(signature(full, 112, 1), signature(half, 112, 1)) - true_jaccard) < 0.15
    assert estimated_jaccard(signature(full, 112, 1), signature(shingle_hashes(words(OTHER), 5), 112, 1)) < 0.1


def test_dedup_band_keys_cut_the_signature_into_rows():
    sig = signature(shingle_hashes(words(WIRE), 5), 112, 1)
    keys = band_keys(sig, 14)
    assert [band for band, _ in keys] == list(range(14))
    assert all(len(rows) == 8 * 4 for _, rows in keys)
    assert b"".join(rows for _, rows in keys) == sig


@pytest.mark.parametrize("edit, shares_band", [
    (lambda text: text, True),
    (syndicated, True),
    (lambda text: OTHER, False),
])
def test_dedup_first_shared_band_finds_copies_not_other_articles(edit, shares_band):
    a = signature(shingle_hashes(words(WIRE), 5), 112, 1)
    b = signature(shingle_hashes(words(edit(WIRE)), 5), 112, 1)
    band = first_shared_band(a, b, 14)
    assert (band is not None) == shares_band
    if band is not None:
        assert band_keys(a, 14)[band] == band_keys(b, 14)[band]
        assert all(band_keys(a, 14)[earlier] != band_keys(b, 14)[earlier] for earlier in range(band))


def test_dedup_neighbour_pairs_cap_large_blocks():
    members = [((1, "", f"{i:02d}"), None) for i in range(10)]
    assert len(list(neighbour_pairs(members, 100))) == 45
    capped = list(neighbour_pairs(reversed(members), 2))
    assert len(capped) == 9 + 8
    assert all(a[0] < b[0] for a, b in capped)


def test_dedup_spanning_block_pairs_keep_the_components_and_verify_fewer_pairs():
    # Twelve records in one block; records whose numbers are congruent modulo 3 verify as related.
    members = [((0, "2023-05-24", f"{i:02d}"), i) for i in range(12)]
    asked = []

    def verify(key, a, b):
        asked.append((a, b))
        return 0.9 if a % 3 == b % 3 else None

    every = [((a[0], b[0]), 0.9) for a, b in neighbour_pairs(members, 100) if verify("term", a[1], b[1])]
    asked.clear()
    spanning = list(block_pairs(("term", reversed(members)), verify, 100))
    assert len(every) == 3 * 6
    assert len(spanning) == 3 * 3 and len(asked) < 66
    assert components(pair for pair, _ in spanning) == components(pair for pair, _ in every)
    assert len(set(components(pair for pair, _ in every).values())) == 3


def _same_parity(key, a, b):
    return 0.9 if a % 2 == b % 2 else None


def test_dedup_blocked_pairs_bring_features_to_shared_blocks_and_keep_the_connecting_pairs():
    ranks = [(0, "2023-05-24", f"r{i}") for i in range(6)]
    # A block of one never pairs, so its member's features do not go there.
    assert list(shared_blocks(("solo", [ranks[0]]))) == []
    assert list(shared_blocks(("all", ranks[:2]))) == [(ranks[0], "all"), (ranks[1], "all")]
    with local_pipeline() as p:
        keys = p | "Keys" >> beam.Create([("all", r) for r in ranks] + [("solo", ranks[0]), ("odd", ranks[1])])
        features = p | "Features" >> beam.Create([(r, i) for i, r in enumerate(ranks)])
        pairs = {"keys": keys, "features": features} | BlockedPairs(_same_parity, 100)
        # Records of one parity are related; a pair the block's earlier pairs join is not kept again.
        assert_that(pairs, equal_to([((ranks[0], ranks[2]), 0.9), ((ranks[0], ranks[4]), 0.9),
                                     ((ranks[1], ranks[3]), 0.9), ((ranks[1], ranks[5]), 0.9)]),
                    label="CheckConnectingPairs")


@pytest.mark.parametrize("edges, expected", [
    ([("b", "c"), ("a", "b")], {"a": "a", "b": "a", "c": "a"}),
    ([("d", "e"), ("a", "c")], {"a": "a", "c": "a", "d": "d", "e": "d"}),
    ([("c", "d"), ("a", "b"), ("b", "d")], {"a": "a", "b": "a", "c": "a", "d": "a"}),
    ([], {}),
])
def test_dedup_components_root_is_smallest_member_in_any_edge_order(edges, expected):
    for order in itertools.permutations(edges):
        assert components(order) == expected


def test_dedup_identical_copies_join_the_first_which_alone_goes_through_the_bands():
    sig = text_signature(WIRE, SETTINGS)
    ranks = [(0, "2023-05-25", "b"), (1, "", "a"), (0, "2023-05-24", "c")]
    out = list(identical_copies((sig, ranks)))
    first = (0, "2023-05-24", "c")
    assert [o.value for o in out if isinstance(o, TaggedOutput)] == [(first, sig)]
    assert sorted(o for o in out if not isinstance(o, TaggedOutput)) == [
        ((first, (0, "2023-05-25", "b")), 1.0), ((first, (1, "", "a")), 1.0)]


def test_dedup_rank_puts_earliest_dated_then_smallest_id_first():
    docs = [Document(id="b", source="s", published="2023-05-24"),
            Document(id="a", source="s", published=None),
            Document(id="c", source="s", published="2023-05-23"),
            Document(id="a2", source="s", published="2023-05-24")]
    assert [doc.id for doc in sorted(docs, key=rank)] == ["c", "a2", "b", "a"]


def test_dedup_check_config_requires_bands_dividing_permutations():
    check_config({"dedup": SETTINGS})
    with pytest.raises(ConfigError, match="dedup.bands"):
        check_config({"dedup": {**SETTINGS, "bands": 15}})


def _doc(name: str, text: str, published: str | None) -> Document:
    return Document.from_raw(f"feed/{name}.txt", text, published=published)


def test_dedup_pipeline_labels_copies_of_the_earliest_record_and_leaves_others():
    original = _doc("original", WIRE, "2023-05-24")
    copy = _doc("copy", syndicated(WIRE), "2023-05-25")
    exact = _doc("exact", WIRE, None)
    other = _doc("other", OTHER, "2023-05-24")
    docs = [copy, exact, other, original]
    random.Random(7).shuffle(docs)
    with local_pipeline() as p:
        out = (relate(p, docs, dedup=SETTINGS)
               | beam.Map(lambda d: (d.id, d.duplicate_of, d.duplicate_score is not None
                                     and d.duplicate_score >= 0.8)))
        assert_that(out, equal_to([(original.id, None, False), (copy.id, original.id, True),
                                   (exact.id, original.id, True), (other.id, None, False)]), label="relations")


def test_dedup_pipeline_exact_copy_scores_one_and_threshold_is_a_setting():
    first = _doc("first", WIRE, "2023-05-24")
    second = _doc("second", WIRE, "2023-05-24")
    near = _doc("near", syndicated(WIRE), "2023-05-24")
    # One text, one date: the smaller id is the canonical. Ids hash the fixed paths: feed/second.txt's
    # (af962d…) sorts before feed/first.txt's (e3b4cc…).
    assert second.id < first.id
    canonical, later = second, first
    strict = {**SETTINGS, "threshold": 1.0}
    with local_pipeline() as p:
        out = (relate(p, [first, second, near], dedup=strict)
               | beam.Map(lambda d: (d.id, d.duplicate_of, d.duplicate_score)))
        assert_that(out, equal_to([(canonical.id, None, None), (later.id, canonical.id, 1.0),
                                   (near.id, None, None)]), label="strict")


def test_dedup_guarded_failure_keeps_the_document_out_of_the_relation_only():
    from transforms.dedup import guarded

    doc = Document.from_raw("odd.txt", "Talks in Beijing on Wednesday ended without a deal.")

    def explode(_doc):
        raise UnicodeError("tokenizer choked")

    assert guarded("stories", explode, doc) is None
    assert guarded("stories", lambda d: len(d.text), doc) == len(doc.text)


def test_dedup_is_first_shared_key_judges_a_pair_in_its_smallest_shared_block():
    # Story blocking keys of four reports of the Mishustin visit (sorted, as the features hold them).
    keys = [("beijing", "jinping", "mishustin", "russia", "xi"),
            ("beijing", "china", "mishustin", "visit", "xi"),
            ("li", "mishustin", "qiang"),
            ("agreements", "mishustin", "russia", "shanghai", "trade")]
    assert is_first_shared_key("beijing", keys[0], keys[1])
    assert not is_first_shared_key("mishustin", keys[0], keys[1])
    assert not is_first_shared_key("xi", keys[0], keys[1])
    assert is_first_shared_key("mishustin", keys[0], keys[2])
    assert not is_first_shared_key("russia", keys[0], keys[3])
    judged = 0
    for a in keys:
        for b in keys:
            shared = set(a) & set(b)
            for key in shared:
                assert is_first_shared_key(key, a, b) == (key == min(shared))
                judged += is_first_shared_key(key, a, b)
    assert judged == 16  # each ordered pair of the four (all share "mishustin") in exactly one block
