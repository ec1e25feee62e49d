"""The relation features step: each record's features, and those of identical texts remembered."""

from __future__ import annotations

import dataclasses

import pytest
from apache_beam.pvalue import TaggedOutput

from pipeline.config import load_config
from tests.conftest import SEEDS, vocabulary_held
from transforms import relations
from transforms.document import Document
from transforms.stories import day

SEED_TEXTS = [path.read_text("utf-8").strip() for path in sorted(SEEDS.glob("*.txt"))]


def _doc(name: str, text: str, **fields) -> Document:
    return dataclasses.replace(Document.from_raw(f"{name}.txt", text), language="en", **fields)


def _features_fn(reuse: int) -> relations._FeaturesFn:
    config = load_config()
    config["relations"]["reuse_texts"] = reuse
    fn = relations._FeaturesFn(config)
    fn.setup()
    return fn


def _outputs(fn: relations._FeaturesFn, doc: Document) -> dict:
    """Tag -> value of what the step gives for one document (the document itself under "docs")."""
    return {out.tag if isinstance(out, TaggedOutput) else "docs": out.value if isinstance(out, TaggedOutput) else out
            for out in fn.process(doc)}


@pytest.fixture
def counted_terms(monkeypatch):
    """How many times the step reads a text's words."""
    calls = []

    def text_terms(doc):
        calls.append(doc.id)
        return original(doc)

    original = relations.text_terms
    monkeypatch.setattr(relations, "text_terms", text_terms)
    return calls


def test_relations_features_of_identical_texts_are_read_once_and_equal_to_computed(counted_terms):
    # Each seed, and a syndicated copy of each: another id, title and date, the same clean text.
    docs = [_doc(f"seed{i}", text, title="Mishustin meets Xi", published="2023-12-20")
            for i, text in enumerate(SEED_TEXTS)]
    docs += [_doc(f"copy{i}", text, title="Russia and China sign deals", published="2023-12-21")
             for i, text in enumerate(SEED_TEXTS)]
    remembering, computing = _features_fn(16), _features_fn(0)
    remembered = [_outputs(remembering, doc) for doc in docs]
    assert len(counted_terms) == len(SEED_TEXTS)
    computed = [_outputs(computing, doc) for doc in docs]
    assert len(counted_terms) == len(SEED_TEXTS) + len(docs)
    assert remembered == computed
    seed, copy = remembered[0], remembered[len(SEED_TEXTS)]
    assert copy["signatures"][1] == seed["signatures"][1] and copy["rewrite_features"][1] == seed["rewrite_features"][1]
    # The story features read the record's own title and date.
    assert copy["story_features"][1] != seed["story_features"][1]
    assert copy["story_features"][1][2] == day("2023-12-21")


def test_relations_features_follow_each_records_own_entities(counted_terms):
    text = SEED_TEXTS[0]
    start = text.index("Mishustin")
    tagged = [{"start": start, "end": start + 9, "text": "Mishustin", "label": "PERSON",
               "canonical": "Mikhail Mishustin"}]
    fn = _features_fn(16)
    plain = _outputs(fn, _doc("plain", text))
    named = _outputs(fn, _doc("named", text, entities=tagged))
    assert len(counted_terms) == 2  # another entity list is another key
    assert named == {**_outputs(_features_fn(0), _doc("named", text, entities=tagged)), "docs": named["docs"]}
    assert any("@mikhail mishustin" in sentence for sentence in named["rewrite_features"][1][1])
    assert not any("@mikhail mishustin" in sentence for sentence in plain["rewrite_features"][1][1])


def test_relations_features_leave_no_new_words_in_the_tokenizer_vocabulary():
    """A record's unseen words are read (they are its most salient) and then leave spaCy's vocabulary
    as it was: without the memory zone every distinct word of a corpus stayed in each worker."""
    text = ("Zorbavian envoy Qwilliam Throckbottom met Plintaria's foreign minister in Karnstadt on Tuesday. "
            "Throckbottom said the Zorbavian talks on the Karnstadt pipeline would resume in March.")
    vocab = relations.tokenizer("en").vocab
    fn = _features_fn(0)
    before = vocabulary_held(vocab)
    found = _outputs(fn, _doc("novel", text, title="Throckbottom visits Karnstadt", published="2024-03-05"))
    assert vocabulary_held(vocab) == before
    assert "en:throckbottom" in found["rewrite_features"][1][0]
