"""Canonical entity names: stripping, short→full, aliases, gazetteer label fixes, run-wide variants."""

from __future__ import annotations

import copy

import pytest
from apache_beam.testing.util import assert_that, equal_to

import apache_beam as beam
from pipeline.config import load_config
from tests.conftest import local_pipeline
from transforms import canonical
from transforms.canonical import key, resolve_short, similar_given_names, strip_name, strip_titles, variant_map
from transforms.document import Document
from transforms.errors import ConfigError
from transforms.stage import DOCS, REJECTED


@pytest.fixture(scope="module")
def config() -> dict:
    return load_config()


@pytest.fixture(scope="module")
def canonicalize(config):
    return canonical.build(config)


def tagged(text: str, *mentions: tuple[str, str, int]) -> Document:
    """A document with entities given as (surface text, label, occurrence index of that text)."""
    doc = Document.from_raw("test.txt", text)
    for surface, label, occurrence in mentions:
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(surface, start + 1)
        doc.entities.append({"text": surface, "label": label, "start": start, "end": start + len(surface),
                             "raw_start": start, "raw_end": start + len(surface), "canonical": surface})
    doc.entities.sort(key=lambda entity: entity["start"])
    return doc


def names(doc: Document) -> list[tuple[str, str, str]]:
    return [(entity["text"], entity["label"], entity["canonical"]) for entity in doc.entities]


DETERMINERS = ("the", "a", "an")
POSSESSIVES = ("’s", "'s", "’", "'")


@pytest.mark.parametrize("name, expected", [
    ("the Brookings Institution", "Brookings Institution"),
    ("Chatham House’s", "Chatham House"),
    ("THE BRICS", "BRICS"),
    ("The United Nations", "United Nations"),
    ("Reuters'", "Reuters"),
    ("the  Kremlin's", "Kremlin"),
    # must not touch: a determiner that is part of the name, a lone word, inner possessives
    ("The Hague", "The Hague"),
    ("The New York Times", "The New York Times"),
    ("The", "The"),
    ("Chinese Communist Party’s Politburo", "Chinese Communist Party’s Politburo"),
    ("Ben Bland", "Ben Bland"),
])
def test_canonical_strip_name_determiners_and_possessives(name, expected):
    keep = frozenset({key("The Hague"), key("The New York Times")})
    assert strip_name(name, DETERMINERS, POSSESSIVES, keep) == expected


@pytest.mark.parametrize("name, expected", [
    ("Ryan Hass Fellow", "Ryan Hass"),
    ("President Emmanuel Macron", "Emmanuel Macron"),
    ("Ben Bland", "Ben Bland"),            # two words: never shortened
    ("Mao Ning", "Mao Ning"),
    ("Mary Chief Smith", "Mary Chief Smith"),  # a title word inside the name stays
])
def test_canonical_strip_titles(name, expected):
    assert strip_titles(name, frozenset({"fellow", "president", "chief"})) == expected


PLACES = frozenset({"jordan", "china", "kyiv"})
PERSON_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP"})


@pytest.mark.parametrize("name, label, fulls, expected", [
    ("Mishustin", "PERSON", {"PERSON": ["Mikhail Mishustin"]}, ("Mikhail Mishustin", "PERSON")),
    ("Mishustin", "ORG", {"PERSON": ["Mikhail Mishustin"]}, ("Mikhail Mishustin", "PERSON")),
    ("Xi", "PERSON", {"PERSON": ["Xi Jinping", "Li Qiang"]}, ("Xi Jinping", "PERSON")),
    ("Li", "PERSON", {"PERSON": ["Li Qiang", "Li Qiang He"]}, ("Li Qiang", "PERSON")),
    ("Brookings", "ORG", {"ORG": ["Brookings Institution"]}, ("Brookings Institution", "ORG")),
    ("SCO", "ORG", {"ORG": ["Shanghai Cooperation Organization"]}, ("Shanghai Cooperation Organization", "ORG")),
    # must not resolve: ambiguous, a place, a different kind, a word inside an organisation
    ("Li", "PERSON", {"PERSON": ["Li Qiang", "Li Hui"]}, ("Li", "PERSON")),
    ("Jordan", "GPE", {"PERSON": ["Michael Jordan"]}, ("Jordan", "GPE")),
    ("China", "GPE", {"ORG": ["Bank of China"]}, ("China", "GPE")),
    ("Mishustin", "DATE", {"PERSON": ["Mikhail Mishustin"]}, ("Mishustin", "DATE")),
    ("Institution", "ORG", {"ORG": ["Brookings Institution"]}, ("Institution", "ORG")),
    ("Qiang", "PERSON", {"PERSON": ["Li Qiang", "Wang Qiang"]}, ("Qiang", "PERSON")),
])
def test_canonical_resolve_short_mentions(name, label, fulls, expected):
    assert resolve_short(name, label, fulls, PLACES, PERSON_LABELS) == expected


def test_canonical_document_short_to_full_and_aliases(canonicalize):
    text = ("Russian Prime Minister Mikhail Mishustin met Xi Jinping. Mishustin said Nato and the G-7 "
            "misread the Group of Seven's statement, and Xi agreed. The U.S. and the United States "
            "of America differ only in spelling; Zelenskiy of Ukraine spoke to the Russian Federation.")
    doc = canonicalize(tagged(text, ("Mikhail Mishustin", "PERSON", 0), ("Xi Jinping", "PERSON", 0),
                              ("Mishustin", "ORG", 1), ("Nato", "ORG", 0), ("the G-7", "ORG", 0),
                              ("the Group of Seven's", "ORG", 0), ("Xi", "PERSON", 1),
                              ("The U.S.", "GPE", 0), ("the United States of America", "GPE", 0),
                              ("Zelenskiy", "PERSON", 0), ("Ukraine", "GPE", 0),
                              ("the Russian Federation", "GPE", 0)))
    assert [(n[2], n[1]) for n in names(doc)] == [
        ("Mikhail Mishustin", "PERSON"), ("Xi Jinping", "PERSON"), ("Mikhail Mishustin", "PERSON"),
        ("NATO", "ORG"), ("G7", "ORG"), ("G7", "ORG"), ("Xi Jinping", "PERSON"),
        ("United States", "GPE"), ("United States", "GPE"), ("Volodymyr Zelensky", "PERSON"),
        ("Ukraine", "GPE"), ("Russia", "GPE")]
    # surface text and offsets are never changed by canonicalisation
    assert all(doc.text[e["start"]:e["end"]] == e["text"] for e in doc.entities)


@pytest.mark.parametrize("text, mention, label, expected_label", [
    ("Kyiv welcomed the plan cautiously.", "Kyiv", "PERSON", "GPE"),
    ("The Chinese will have access to Vladivostok again.", "Vladivostok", "PERSON", "GPE"),
    ("according to China's official news agency Xinhua.", "Xinhua", "PERSON", "ORG"),
    ("Exports will rise, according to Interfax, a Russian news agency.", "Interfax", "GPE", "ORG"),
    ("Data came from Kyodo on Monday.", "Kyodo", "PERSON", "ORG"),
    ("Officials in Germany said so.", "Germany", "ORG", "GPE"),
    # must not touch: a place named in a person's name, a person, ", the ... news agency reported"
    ("Victoria Nuland arrived. Victoria said the talks went well.", "Victoria", "PERSON", "PERSON"),
    ("Ben Bland said Japan would not change course.", "Ben Bland", "PERSON", "PERSON"),
    ("supplying equipment to Russia, the Interfax news agency reported.", "Russia", "GPE", "GPE"),
    ("The Cold War shaped memories in the region.", "The Cold War", "EVENT", "EVENT"),
])
def test_canonical_gazetteer_label_fixes(canonicalize, text, mention, label, expected_label):
    mentions = [(mention, label, 0)]
    if mention == "Victoria":
        mentions = [("Victoria Nuland", "PERSON", 0), ("Victoria", "PERSON", 1)]
    doc = canonicalize(tagged(text, *mentions))
    assert doc.entities[-1]["label"] == expected_label


def test_canonical_gazetteers_are_read_once_and_left_as_read(config, canonicalize):
    population = config["entities"]["canonical"]["place_min_population"]
    places, countries = canonical.place_names(population), canonical.country_names()
    assert canonical.place_names(population) is places and canonical.country_names() is countries
    doc = canonicalize(tagged("Victoria Nuland flew from Washington to Kyiv, the Interfax news agency reported. "
                              "The United States and Britain said Victoria would meet Zelensky.",
                              ("Victoria Nuland", "PERSON", 0), ("Washington", "GPE", 0), ("Kyiv", "GPE", 0),
                              ("Interfax", "ORG", 0), ("The United States", "GPE", 0), ("Britain", "GPE", 0),
                              ("Victoria", "PERSON", 1), ("Zelensky", "PERSON", 0)))
    assert ("The United States", "GPE", "United States") in names(doc)
    # Every instance of the stage in the process reads these two: the stage must leave them as read.
    assert places == canonical.place_names.__wrapped__(population)
    assert countries == canonical.country_names.__wrapped__()


def test_canonical_non_names_keep_their_text(canonicalize):
    doc = canonicalize(tagged("Trade could reach $200 billion, up 40% from the same period in 2022.",
                              ("$200 billion", "MONEY", 0), ("40%", "PERCENT", 0),
                              ("the same period in 2022", "DATE", 0)))
    assert [n[2] for n in names(doc)] == ["$200 billion", "40%", "the same period in 2022"]


@pytest.mark.parametrize("a, b, similar", [
    ("Mijal", "Mikhail", True),
    ("Dmitri", "Dmitry", True),
    ("Sergey", "Sergei", True),
    ("Joe", "Jill", False),
    ("Ben", "Bob", False),
    ("Alexander", "Oleksandr", False),  # different initials: not merged by this rule
])
def test_canonical_similar_given_names(a, b, similar):
    assert similar_given_names(a, b, 0.6) is similar


def test_canonical_variant_map_resolves_to_more_frequent_form():
    counts = {"Mikhail Mishustin": 12, "Mijal Mishustin": 3, "Dmitri Peskov": 4, "Dmitry Peskov": 9,
              "Joe Biden": 7, "Jill Biden": 2, "Li Qiang": 5, "Wang Qiang": 1, "Mishustin": 4}
    assert variant_map(counts, 0.6) == {"Dmitri Peskov": "Dmitry Peskov", "Mijal Mishustin": "Mikhail Mishustin"}


def test_canonical_variant_map_is_order_independent_with_ties():
    counts = {"Sergey Lavrov": 3, "Sergei Lavrov": 3}
    reverse = dict(reversed(list(counts.items())))
    assert variant_map(counts, 0.6) == variant_map(reverse, 0.6) == {"Sergey Lavrov": "Sergei Lavrov"}


def test_canonical_resolve_variants_pipeline(config):
    def person_doc(source: str, *people: str) -> Document:
        doc = Document.from_raw(source, " ".join(people))
        doc.entities = [{"text": p, "label": "PERSON", "start": 0, "end": len(p), "raw_start": 0,
                         "raw_end": len(p), "canonical": p} for p in people]
        return doc

    docs = [person_doc("a", "Mikhail Mishustin", "Mikhail Mishustin"), person_doc("b", "Mijal Mishustin"),
            person_doc("c", "Mikhail Mishustin", "Ben Bland")]
    with local_pipeline() as p:
        out = p | beam.Create(docs) | canonical.ResolveVariants(config)
        assert_that(out[DOCS] | beam.Map(lambda d: (d.source, [e["canonical"] for e in d.entities])),
                    equal_to([("a", ["Mikhail Mishustin"] * 2), ("b", ["Mikhail Mishustin"]),
                              ("c", ["Mikhail Mishustin", "Ben Bland"])]), label="variants")
        assert_that(out[REJECTED], equal_to([]), label="none_rejected")


def test_canonical_check_config_rejects_conflicting_aliases(config):
    bad = copy.deepcopy(config)
    aliases = bad["files"][bad["entities"]["canonical"]["aliases_file"]]["aliases"]
    aliases.append({"canonical": "Nato Alliance", "variants": ["NATO"]})
    with pytest.raises(ConfigError, match="already maps"):
        canonical.check_config(bad)


def test_canonical_check_config_rejects_bad_pattern(config):
    bad = copy.deepcopy(config)
    bad["files"][bad["entities"]["canonical"]["rules_file"]]["agency_context"]["before"] = "(unclosed"
    with pytest.raises(ConfigError, match="agency_context.before"):
        canonical.check_config(bad)


@pytest.mark.parametrize("name, value", [("person_titles", None), ("news_agencies", "Reuters"),
                                         ("determiners", ["the", False])])
def test_canonical_check_config_names_a_bad_word_list(config, name, value):
    # Read by every worker when it sets up the stage: a bad list must stop the run at start instead.
    bad = copy.deepcopy(config)
    rules = bad["files"][bad["entities"]["canonical"]["rules_file"]]
    if value is None:
        del rules[name]
    else:
        rules[name] = value
    with pytest.raises(ConfigError) as error:
        canonical.check_config(bad)
    assert error.value.key.endswith(f":{name}")
