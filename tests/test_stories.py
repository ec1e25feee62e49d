import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import local_pipeline, relate, seed
from transforms.document import Document
from transforms.rewrites import text_terms
from transforms.stories import cosine, day, linked, pack_vector, story_features, story_vector, within_window

SETTINGS = {"entity_labels": ["PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "FAC"], "entity_weight": 1.0,
            "terms": 40, "title_weight": 2.0, "block_keys": 8, "threshold": 0.5, "window_days": 3,
            "max_block_neighbours": 50}
UNRELATED = (
    "Gaming used to be so simple. We'd buy a game, sit down in front of a console or PC, grind our way to "
    "the end, then repeat. Now we spend money over and over on virtual perks. We play on phones and tablets "
    "while socializing with far-flung friends. Google's Stadia streams games from data centers, Microsoft's "
    "xCloud lets Xbox owners play on Android phones, and Apple Arcade charges a monthly subscription for a "
    "catalog of ad-free titles. Developers keep updating their biggest hits with new maps, missions and "
    "characters, so there is no end.")
FLOODS = (
    "Heavy rain flooded the northern Italian region of Emilia-Romagna, killing at least nine people and "
    "forcing thousands from their homes. Rivers burst their banks in Cesena, Faenza and Forli, and the Formula "
    "One Grand Prix at Imola was cancelled. Civil protection officials said more rain was expected.")


@pytest.mark.parametrize("published, expected", [
    ("2023-05-24", 738664),
    ("2023-05-24T09:30:00+00:00", 738664),
    ("2023-05-27", 738667),
    (None, None),
    ("May 24", None),
])
def test_stories_day_reads_iso_dates_only(published, expected):
    assert day(published) == expected


@pytest.mark.parametrize("a, b, window, expected", [
    (738664, 738667, 3, True),
    (738664, 738668, 3, False),
    (738668, 738664, 3, False),
    (None, 738664, 3, True),
    (738664, 738664, 0, True),
])
def test_stories_time_window(a, b, window, expected):
    assert within_window(a, b, window) == expected


def _doc(name: str, text: str, published: str | None = None, **fields) -> Document:
    return Document.from_raw(f"feed/{name}.txt", text, published=published, **fields)


def _features(doc: Document) -> tuple:
    return story_features(doc, text_terms(doc)[1], SETTINGS)


def test_stories_vector_is_unit_length_and_boosts_canonical_entities():
    entity = {"text": "Mishustin", "label": "PERSON", "start": 0, "end": 9, "raw_start": 0, "raw_end": 9,
              "canonical": "Mikhail Mishustin"}
    doc = _doc("a", seed("000"), entities=[entity])
    vector = dict(story_vector(doc, text_terms(doc)[1], SETTINGS))
    assert abs(sum(weight * weight for weight in vector.values()) - 1.0) < 1e-9
    assert "@mikhail mishustin" in vector
    dated = _doc("b", seed("000"), entities=[{**entity, "label": "DATE"}])
    assert dict(story_vector(dated, text_terms(dated)[1], SETTINGS)).get("@mikhail mishustin") is None


def test_stories_vector_weighs_the_title_words():
    # The flood report's headline says what its body does not: a valley.
    body = FLOODS
    plain = dict(story_vector(_doc("a", body), text_terms(_doc("a", body))[1], SETTINGS))
    titled_doc = _doc("a", body, title="Rain swamps the Po valley")
    titled = dict(story_vector(titled_doc, text_terms(titled_doc)[1], SETTINGS))
    assert "valley" not in plain and titled["valley"] > 0
    # A word of both the title and the body weighs more, against a word of the body only, than in the body alone.
    assert titled["rain"] / titled["imola"] > plain["rain"] / plain["imola"]
    ignored = dict(story_vector(titled_doc, text_terms(titled_doc)[1], {**SETTINGS, "title_weight": 0.0}))
    assert ignored == plain


@pytest.mark.parametrize("first, second, same_story", [
    ("000", "002", True),
    ("001", "003", True),
    ("002", "004", True),
    ("000", UNRELATED, False),
    ("003", FLOODS, False),
])
def test_stories_linked_same_event_not_unrelated(first, second, same_story):
    a = _features(_doc("a", seed(first), "2023-05-24"))
    b = _features(_doc("b", seed(second) if second.isdigit() else second, "2023-05-24"))
    assert (linked(a, b, SETTINGS) is not None) == same_story


def _plain_cosine(a, b) -> float:
    other = dict(b)
    return sum(weight * other.get(term, 0.0) for term, weight in a)


@pytest.mark.parametrize("first, second", [("000", "002"), ("001", "004"), ("003", UNRELATED)])
def test_stories_packed_vectors_keep_the_cosine_of_their_terms(first, second):
    a, b = (_doc(name, seed(text) if text.isdigit() else text) for name, text in (("a", first), ("b", second)))
    vector_a, vector_b = (story_vector(doc, text_terms(doc)[1], SETTINGS) for doc in (a, b))
    packed_a, packed_b = pack_vector(vector_a), pack_vector(vector_b)
    assert len(packed_a) == 8 * len(vector_a)
    assert cosine(packed_a, packed_b) == pytest.approx(_plain_cosine(vector_a, vector_b), abs=1e-4)
    assert cosine(packed_a, packed_a) == pytest.approx(1.0, abs=1e-4)


def test_stories_packed_vector_adds_the_weights_of_terms_with_one_hash():
    # "plumless" and "buckeroo" have the same CRC-32: one entry, holding both weights.
    packed = pack_vector((("buckeroo", 0.6), ("plumless", 0.8)))
    assert len(packed) == 8
    assert cosine(packed, pack_vector((("plumless", 1.0),))) == pytest.approx(1.4, abs=1e-4)


def test_stories_linked_needs_dates_within_window():
    a = _features(_doc("a", seed("000"), "2023-05-24"))
    b = _features(_doc("b", seed("002"), "2023-06-24"))
    assert cosine(a[1], b[1]) >= SETTINGS["threshold"]
    assert linked(a, b, SETTINGS) is None


def test_stories_pipeline_one_story_for_the_seeds_and_none_for_unrelated():
    seeds = [_doc(number, seed(number), published) for number, published in
             (("000", "2023-05-24"), ("001", "2023-05-25"), ("002", "2023-05-24"), ("003", "2023-05-23"),
              ("004", "2023-05-24"))]
    unrelated = _doc("gaming", UNRELATED, "2023-05-24")
    floods = _doc("floods", FLOODS, "2023-05-23")
    late = _doc("late", seed("002"), "2023-07-01")  # same words, weeks later: a different event
    first = seeds[3].id  # the earliest dated seed names the story
    expected = [(doc.id, first) for doc in seeds] + [(unrelated.id, unrelated.id), (floods.id, floods.id),
                                                     (late.id, late.id)]
    with local_pipeline() as p:
        out = relate(p, [late, *seeds, unrelated, floods], stories=SETTINGS) | beam.Map(lambda d: (d.id, d.story_id))
        assert_that(out, equal_to(expected), label="story_id")


def test_stories_pipeline_undated_records_join_by_content():
    dated = _doc("000", seed("000"), "2023-05-24")
    undated = _doc("001", seed("001"))
    unrelated = _doc("gaming", UNRELATED)
    first = dated.id
    with local_pipeline() as p:
        out = relate(p, [undated, unrelated, dated], stories=SETTINGS) | beam.Map(lambda d: (d.id, d.story_id))
        assert_that(out, equal_to([(dated.id, first), (undated.id, first), (unrelated.id, unrelated.id)]),
                    label="CheckStoryIds")


def test_stories_pipeline_identical_copies_are_one_story_and_texts_without_terms_none():
    copies = [_doc(f"wire{n}", seed("002"), "2023-05-24") for n in range(3)]
    later = _doc("wire-later", seed("002"), "2023-05-26")  # other features (the day), compared in the blocks
    empty = [_doc(f"empty{n}", "It is what it is, and that is all there was.", "2023-05-24") for n in range(2)]
    first = min(copies, key=lambda doc: doc.id).id
    expected = [(doc.id, first) for doc in (*copies, later)] + [(doc.id, doc.id) for doc in empty]
    with local_pipeline() as p:
        out = relate(p, [later, *empty, *copies], stories=SETTINGS) | beam.Map(lambda d: (d.id, d.story_id))
        assert_that(out, equal_to(expected), label="story_id")
