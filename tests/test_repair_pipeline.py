"""The repair stage in Beam: the corpus-names aggregate, the stage with its side input, the seeds end to end."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from pipeline.config import load_config
from tests.conftest import local_pipeline
from transforms import repair
from transforms.document import Document
from transforms.repair_glued import CorpusNames
from transforms.stage import DOCS, REJECTED, DocumentStage

CONFIG = load_config()
BODY = ("Chinese leader Xi Jinping met Russian Prime Minister Mikhail Mishustin, and Xi praised the visit, "
        "officials said on Wednesday.")
# "Rutte" is used mid-sentence only in the other documents: the corpus, not this document, shows it is a name.
GLUED = "Officials said the talks with Ruttewho leads the alliance went well in Brussels on Tuesday."
NAMED = ["Officials said Dutch leader Mark Rutte spoke in Brussels on Tuesday.",
         "Analysts said that Mark Rutte would travel to Kyiv, officials said."]
GLUED_WORDS = ["Jinpingoffered", "Shanghaibefore", "Qiangwho", "Novakin", "HassFellow", "Chinagiven", "Nationsthere",
               "OrganizationTHE", "G20according"]


def test_repair_corpus_names_counts_documents_not_occurrences():
    docs = [Document.from_raw("a.txt", BODY), Document.from_raw("b.txt", BODY.replace("Mishustin", "Li Qiang")),
            Document.from_raw("c.txt", "Officials met Xi Jinping, Xi said, and Xi left.")]
    with local_pipeline() as p:
        names = p | beam.Create(docs) | CorpusNames(min_docs=2)
        # Xi is used three times in c.txt but counts once; Mishustin, Li and Qiang are in one document only.
        assert_that(names, equal_to([("Jinping", 3), ("Xi", 3), ("Russian", 2), ("Prime", 2), ("Minister", 2),
                                     ("Mikhail", 2), ("Wednesday", 2)]), label="names")


def test_repair_stage_uses_the_corpus_names_side_input():
    docs = [Document.from_raw("glued.txt", GLUED)] + [Document.from_raw(f"n{i}.txt", t) for i, t in enumerate(NAMED)]
    with local_pipeline() as p:
        created = p | beam.Create(docs)
        names = beam.pvalue.AsDict(created | "Names" >> CorpusNames(min_docs=2))
        out = created | "Repair" >> DocumentStage(repair.STAGE, repair.build, CONFIG, names)
        texts = out[DOCS] | beam.Map(lambda doc: doc.text)
        assert_that(texts, equal_to([GLUED.replace("Ruttewho", "Rutte who")] + NAMED), label="texts")
        assert_that(out[REJECTED], equal_to([]), label="rejected")


def test_repair_seeds_end_to_end(seed_run, seed_records):
    record = seed_records["002"]
    pairs = {(item["before"], item["after"]) for item in record["repairs"] if item["kind"] == "glued_word"}
    for before, after in [("Jinpingoffered", "Jinping offered"), ("Shanghaibefore", "Shanghai before"),
                          ("Qiangwho", "Qiang who"), ("Novakin", "Novak in"), ("HassFellow", "Hass Fellow"),
                          ("Chinagiven", "China given"), ("Nationsthere", "Nations there"),
                          ("OrganizationTHE", "Organization THE"), ("G20according", "G20 according")]:
        assert (before, after) in pairs
    for key, seed in seed_records.items():
        for glued in GLUED_WORDS:
            assert glued not in seed["text"], (key, glued)
    assert "China and Russia strengthened" in record["text"]
    assert record["mt_suspect"] is True
    assert {"there_for_and", "lawyer_for_advocates"} <= {item["rule"] for item in record["mt_evidence"]}
    assert "midst of war in Ukraine" in seed_records["003"]["text"]
    assert "memories of the Cold War" in seed_records["000"]["text"]
    # Clean, edited copies of the story are left as they are.
    assert seed_records["001"]["repairs"] == [] and seed_records["004"]["repairs"] == []
    assert not any(seed["mt_suspect"] for key, seed in seed_records.items() if key != "002")
    counted = seed_run["summary"]["repairs"]
    assert counted["glued_word"] == sum(1 for seed in seed_records.values() for item in seed["repairs"]
                                        if item["kind"] == "glued_word")
    assert counted["mt_artifact"] >= 3
