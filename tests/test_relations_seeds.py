"""Seed relations end to end (``newsbeam run`` on two worker processes via the ``seed_run`` fixture)."""

import itertools

from transforms.dedup import rank
from transforms.document import Document


def _rank(record: dict) -> tuple:
    return rank(Document(id=record["id"], source=record["source"], published=record["published"]))


def _rewrite_pairs(records: dict) -> set[tuple[str, str]]:
    ids = {record["id"]: name for name, record in records.items()}
    return {(name, ids.get(record["rewrite_of"], record["rewrite_of"]))
            for name, record in records.items() if record["rewrite_of"] is not None}


def test_relations_seeds_rewrites_are_001_of_000_and_004_of_003_only(seed_records):
    expected = set()
    for a, b in (("000", "001"), ("003", "004")):
        first, later = sorted((a, b), key=lambda name: _rank(seed_records[name]))
        expected.add((later, first))
    assert _rewrite_pairs(seed_records) == expected
    for name, record in seed_records.items():
        if record["rewrite_of"] is not None:
            assert 0 < record["rewrite_score"] <= 1, name
        else:
            assert record["rewrite_score"] is None, name


def test_relations_seeds_are_one_story_named_by_the_first_seed(seed_records):
    first = min(seed_records.values(), key=_rank)
    assert {record["story_id"] for record in seed_records.values()} == {first["id"]}


def test_relations_seeds_no_seed_is_a_near_duplicate(seed_records):
    assert len(seed_records) == 5
    for record in seed_records.values():
        assert record["duplicate_of"] is None and record["duplicate_score"] is None


def test_relations_seeds_summary_counts_clusters(seed_run):
    clusters = seed_run["summary"]["clusters"]
    assert clusters["story_id"] == {"clusters": 1, "size_distribution": {"5": 1}}
    assert clusters["rewrite_of"] == {"clusters": 2, "size_distribution": {"2": 2}}
    assert "duplicate_of" not in clusters


def test_relations_seeds_ids_never_point_outside_the_run(seed_records):
    ids = {record["id"] for record in seed_records.values()}
    for record, field in itertools.product(seed_records.values(), ("duplicate_of", "rewrite_of", "story_id")):
        assert record[field] is None or record[field] in ids
