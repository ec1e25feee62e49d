"""Relations that span windows in the streaming graph (issue #6): the stateful steps' pure parts, the
transform on the local runner, and the streaming graph over the seeds spread over two windows."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import apache_beam as beam
import orjson
from apache_beam.io import fileio
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import FixedWindows, TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from pipeline.config import load_config
from pipeline.graph import build
from pipeline.runners import CachedViewOptions, make_runner
from tests.conftest import SEEDS, BoundedMatch, local_pipeline, name_ranked_after
from transforms.dedup import RelateAcrossWindows, RelationForest, block_edges, join_block, relation_ttl_seconds
from transforms.document import document_id

S = 1_000_000  # microseconds per second


def _r(name: str, dated: bool = True) -> tuple:
    return (0, "2023-05-24", name) if dated else (1, "", name)


def test_dedup_join_block_in_rank_order_meets_the_cap_previous_members_and_keeps_the_largest():
    stored = []
    met = []
    for i, name in enumerate("abcdef"):
        partners, stored = join_block(stored, (_r(name), name, i * S), cap=3)
        met.append("".join(member[1] for member in partners))
    # What neighbour_pairs gives the last member of a batch block: its `cap` predecessors in rank order.
    assert met == ["", "a", "ab", "abc", "bcd", "cde"]
    assert [member[1] for member in stored] == ["d", "e", "f"]


def test_dedup_join_block_out_of_order_member_meets_neighbours_on_both_sides():
    stored = [(_r(name), name, 0) for name in "abdefg"]
    partners, kept = join_block(stored, (_r("c"), "c", S), cap=2)
    assert [member[1] for member in partners] == ["a", "b", "d", "e"]
    assert [member[1] for member in kept] == ["f", "g"]


def test_dedup_join_block_ignores_a_redelivered_member():
    stored = [(_r("a"), "a", 0), (_r("b"), "b", S)]
    assert join_block(stored, (_r("b"), "b", S), cap=5) == ([], stored)


def test_dedup_join_block_forgets_members_older_than_the_ttl():
    stored = [(_r("a"), "a", 0), (_r("b"), "b", 50 * S)]
    partners, kept = join_block(stored, (_r("c"), "c", 100 * S), cap=5, ttl_micros=60 * S)
    assert [member[1] for member in partners] == ["b"]
    assert [member[1] for member in kept] == ["b", "c"]
    # A member that arrives late (older than a stored one) is compared only within the ttl too.
    partners, _ = join_block(kept, (_r("a0"), "a0", 30 * S), cap=5, ttl_micros=60 * S)
    assert [member[1] for member in partners] == ["b"]


def test_dedup_block_edges_verify_pairs_in_rank_order():
    seen = []

    def verify(key, first, second):
        seen.append((key, first, second))
        return 1.0 if first[0] == second[0] else None

    new = (_r("c"), "xc", 5 * S)
    partners = [(_r("a"), "xa", 0), (_r("d"), "yd", 9 * S)]
    edges = list(block_edges("k", new, partners, verify))
    assert seen == [("k", "xa", "xc"), ("k", "xc", "yd")]
    assert edges == [(_r("a"), "xa", 0, _r("c"), "xc", 5 * S)]


def _edge(a: str, b: str, time_a: int, time_b: int) -> tuple:
    return (_r(a), f"f{a}", time_a * S, _r(b), f"f{b}", time_b * S)


def _score(member, canonical):
    return f"{member}~{canonical}"


def test_dedup_relation_forest_follows_a_chain_through_an_earlier_window():
    forest = RelationForest()
    # Window 1 [0, 10): A~B. Window 2 [10, 20): C~B only, B's document is from window 1.
    assert forest.add_window([_edge("a", "b", 1, 2)], 0, _score) == [(_r("b"), (_r("a"), "fb~fa"))]
    assert forest.add_window([_edge("b", "c", 2, 12)], 10 * S, _score) == [(_r("c"), (_r("a"), "fc~fa"))]
    # Only canonical records keep their features (to score later members against them).
    assert forest.features == {_r("a"): "fa"}


def test_dedup_relation_forest_ignores_edge_order_within_a_window():
    edges = [_edge("b", "c", 11, 12), _edge("c", "d", 12, 13), _edge("a", "d", 1, 13), _edge("e", "f", 14, 15)]
    results = set()
    for order in itertools.permutations(edges):
        forest = RelationForest()
        forest.add_window([_edge("a", "x", 1, 2)], 0, None)
        results.add(tuple(forest.add_window(order, 10 * S, None)))
    assert results == {((_r("b"), (_r("a"), None)), (_r("c"), (_r("a"), None)), (_r("d"), (_r("a"), None)),
                        (_r("f"), (_r("e"), None)))}
    assert forest.features == {}  # no score, no features kept


def test_dedup_relation_forest_later_canonical_does_not_relabel_earlier_records():
    forest = RelationForest()
    forest.add_window([_edge("b", "c", 1, 2)], 0, None)
    # A arrives in window 2 with the smallest rank: it is canonical, but B and C were written already.
    assert forest.add_window([_edge("a", "c", 12, 2)], 10 * S, None) == []
    assert forest.add_window([_edge("c", "d", 2, 22)], 20 * S, None) == [(_r("d"), (_r("a"), None))]


def test_dedup_relation_forest_expires_stale_components_only():
    forest = RelationForest()
    forest.add_window([_edge("a", "b", 1, 2), _edge("c", "d", 3, 4)], 0, _score)
    forest.add_window([_edge("d", "e", 4, 95)], 90 * S, _score)
    forest.expire(50 * S)
    assert set(forest.forest.parent) == {_r("c"), _r("d"), _r("e")}
    assert set(forest.features) == {_r("c")}


def test_dedup_relation_ttl_reads_streaming_relation_state_days():
    assert relation_ttl_seconds({"streaming": {"relation_state_days": 0.5}}) == 43200
    assert relation_ttl_seconds({"streaming": {"relation_state_days": 0}}) == 0


def _with_window(element, window=beam.DoFn.WindowParam):
    return int(window.start), element[0][2], element[1][0][2], element[1][1]


def test_streaming_relations_label_records_in_their_arrival_window():
    # Block "k": a (window 0) ~ b (window 10) ~ c (window 20); "z" is unrelated (its own block).
    # Arrival order is shuffled: edges go to the later member's window whatever the processing order.
    arrivals = [("k", "c", 25), ("k", "b", 12), ("z", "z", 14), ("k", "a", 3), ("k", "b2", 11)]

    def verify(key, first, second):
        return 1.0

    with local_pipeline() as root:
        related = (root
                   | beam.Create(arrivals)
                   | "Stamp" >> beam.Map(lambda item: TimestampedValue((item[0], (_r(item[1]), f"f{item[1]}")),
                                                                       item[2]))
                   | "Windows" >> beam.WindowInto(FixedWindows(10))
                   | RelateAcrossWindows("test", verify, _score, cap=10, ttl_seconds=3600)
                   | beam.Map(_with_window))
        assert_that(related, equal_to([(10, "b", "a", "fb~fa"), (10, "b2", "a", "fb2~fa"),
                                       (20, "c", "a", "fc~fa")]), label="CheckArrivalWindows")


def _bounded_match(monkeypatch) -> None:
    # As tests/test_dataflow.py: the poll ends and each file's modification time chooses its window.
    monkeypatch.setattr(fileio, "MatchContinuously", BoundedMatch)


RELATION_FIELDS = ("duplicate_of", "duplicate_score", "rewrite_of", "rewrite_score", "story_id")


def _run(landing: Path, out: Path, streaming: bool) -> dict[str, list[dict]]:
    """The graph over ``landing`` on the local runner -> records by window (``""`` for a batch)."""
    config = load_config(overrides=["streaming.window_seconds=5", "streaming.poll_seconds=1"])
    options = CachedViewOptions(["--direct_num_workers=1", "--direct_running_mode=in_memory"])
    with beam.Pipeline(runner=make_runner(options), options=options) as root:
        build(root, str(landing / "*.txt"), str(out), config, {"version": "test", "config_hash": "test"},
              streaming=streaming)
    windows: dict[str, list[dict]] = {}
    for path in out.glob("records-*.jsonl"):
        window = path.name.split("-", 1)[1].rsplit("-", 3)[0] if streaming else ""
        windows.setdefault(window, []).extend(orjson.loads(line) for line in path.read_bytes().splitlines())
    return windows


def _relations(records: list[dict]) -> dict[str, tuple]:
    return {Path(r["source"]).name: tuple(r[field] for field in RELATION_FIELDS) for r in records}


def test_streaming_relations_span_windows_as_in_a_batch(tmp_path, monkeypatch):
    _bounded_match(monkeypatch)
    landing = tmp_path / "landing"
    landing.mkdir()
    seeds = {path.name[:3]: path.read_bytes() for path in sorted(SEEDS.glob("*.txt"))}

    def named_after(stem: str, data: bytes, earlier: str) -> str:
        # A file name whose record id sorts after ``earlier``'s (the name decides the rank order here).
        return name_ranked_after(landing, stem, data, ids[earlier])

    ids: dict[str, str] = {}
    names = {"000": "000.txt", "002": "002.txt", "003": "003.txt"}
    for seed, name in names.items():
        ids[seed] = document_id(str(landing / name), seeds[seed].decode("utf-8"))
    # Rank order: 000 and 002 are dated (2023-05-24), then the undated 003, 001, 004 by id. The first
    # window gets 000, 002 and 003, the second 001 and 004 (named to rank after 003: arrival in rank
    # order), a syndicated copy of 000 (named to rank after 000, so that 000 stays the canonical) and an
    # unrelated text.
    names["001"] = named_after("001", seeds["001"], "003")
    names["004"] = named_after("004", seeds["004"], "003")
    copy = named_after("000-copy", seeds["000"], "000")
    files = {name: seeds[seed] for seed, name in names.items()}
    files[copy] = seeds["000"]
    files["weather.txt"] = ("Mild weather is expected across the region this week\n\nForecasters said on "
                            "Monday that temperatures would stay above the seasonal average, with light "
                            "rain in the north.\n\n" * 3).encode()
    start = (int(Timestamp.now().seconds()) // 60 - 10) * 60  # ten minutes ago, a window boundary
    second = {names["001"], names["004"], copy, "weather.txt"}
    for name, data in files.items():
        (landing / name).write_bytes(data)
        os.utime(landing / name, (start + 10 * (name in second),) * 2)
    windows = _run(landing, tmp_path / "out", streaming=True)
    assert len(windows) == 2
    first_window, second_window = (windows[key] for key in sorted(windows))
    assert sorted(Path(r["source"]).name for r in first_window) == ["000.txt", "002.txt", "003.txt"]
    by_name = {Path(r["source"]).name: r for r in first_window + second_window}
    assert {seed: by_name[name]["id"] for seed, name in names.items() if seed in ids} == ids
    # The copy points at the record of the earlier window, scored against it.
    assert by_name[copy]["duplicate_of"] == ids["000"] and by_name[copy]["duplicate_score"] >= 0.8
    assert [name for name, r in by_name.items() if r["duplicate_of"] is not None] == [copy]
    # The seeds' rewrite pairs, both across the windows, as in the batch (tests/test_relations_seeds.py).
    assert {name: r["rewrite_of"] for name, r in by_name.items() if r["rewrite_of"] is not None} == \
        {names["001"]: ids["000"], names["004"]: ids["003"]}
    assert all(0 < by_name[names[seed]]["rewrite_score"] <= 1 for seed in ("001", "004"))
    # One story for the five seeds and the copy, named by its first record (000 or 002, the two dated
    # the same day: the smaller id); the weather joins nothing.
    first = min(ids["000"], ids["002"])
    assert {name: r["story_id"] for name, r in by_name.items() if name != "weather.txt"} == \
        {name: first for name in by_name if name != "weather.txt"}
    weather = by_name["weather.txt"]
    assert (weather["duplicate_of"], weather["rewrite_of"], weather["story_id"]) == (None, None, weather["id"])
    # The same input as one batch: the same relations, scores included.
    batch = _run(landing, tmp_path / "batch", streaming=False)[""]
    assert _relations(first_window + second_window) == _relations(batch)


def test_streaming_relations_in_one_window_equal_the_batch_records(tmp_path, monkeypatch):
    _bounded_match(monkeypatch)
    landing = tmp_path / "landing"
    landing.mkdir()
    start = (int(Timestamp.now().seconds()) // 60 - 10) * 60
    for path in SEEDS.glob("*.txt"):
        for name in (path.name, f"copy-{path.name}"):
            (landing / name).write_bytes(path.read_bytes())
            os.utime(landing / name, (start, start))
    streamed = _run(landing, tmp_path / "out", streaming=True)
    assert len(streamed) == 1
    batch = _run(landing, tmp_path / "batch", streaming=False)[""]
    key = lambda record: record["id"]  # noqa: E731
    assert sorted(next(iter(streamed.values())), key=key) == sorted(batch, key=key)
    assert sum(r["duplicate_of"] is not None for r in batch) == 5
