"""Seed relations end to end (``newsbeam run`` on two worker processes via the ``seed_run`` fixture)."""

import itertools

# The seeds' dates, as the header stage reads them: only 000 and 002 are dated.
PUBLISHED = {"000": "2023-05-24", "001": None, "002": "2023-05-24", "003": None, "004": None}


def _rewrite_pairs(records: dict) -> set[tuple[str, str]]:
    ids = {record["id"]: name for name, record in records.items()}
    return {(name, ids.get(record["rewrite_of"], record["rewrite_of"]))
            for name, record in records.items() if record["rewrite_of"] is not None}


def test_relations_seeds_rewrites_are_001_of_000_and_004_of_003_only(seed_records):
    assert {name: record["published"] for name, record in seed_records.items()} == PUBLISHED
    # A dated record precedes an undated one: 001 is the rewrite of 000. 003 and 004 are both undated,
    # so the smaller id is the earlier version (ids hash the checkout's path, so either may be).
    first, later = sorted(("003", "004"), key=lambda name: seed_records[name]["id"])
    assert _rewrite_pairs(seed_records) == {("001", "000"), (later, first)}
    for name, record in seed_records.items():
        if record["rewrite_of"] is not None:
            assert 0 < record["rewrite_score"] <= 1, name
        else:
            assert record["rewrite_score"] is None, name


def test_relations_seeds_are_one_story_named_by_the_first_seed(seed_records):
    assert {name: record["published"] for name, record in seed_records.items()} == PUBLISHED
    # The story is named by its earliest dated record: 000 or 002 (the same day), the smaller id.
    first = min(seed_records["000"]["id"], seed_records["002"]["id"])
    assert {record["story_id"] for record in seed_records.values()} == {first}


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
