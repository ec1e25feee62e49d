from pathlib import Path

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import SEEDS, local_pipeline
from transforms.document import Document
from transforms.entities import same_text
from transforms.spill import JoinInParts, SpillDocuments, SpillFiles, part_of, read_parts, read_spilled
from transforms.textmap import Edit


def _seed_docs() -> list[Document]:
    docs = [Document.from_raw(str(path), path.read_text("utf-8")) for path in sorted(SEEDS.glob("*.txt"))]
    docs[0].edit([Edit(0, 4, "")])  # an edited document keeps its map through the files
    docs[1].entities = [{"text": "Xi", "label": "PERSON", "start": 0, "end": 2}]
    return docs


def _state(doc: Document) -> tuple:
    return doc.id, doc.text, doc.raw_span(0, 10), tuple(e["text"] for e in doc.entities)


def test_spill_gives_back_every_document_once_in_chunks_of_files(tmp_path):
    docs = _seed_docs()
    spill = tmp_path / "spill"
    with local_pipeline() as p:
        out = p | beam.Create(docs) | SpillDocuments(str(spill), chunk=2) | beam.Map(_state)
        assert_that(out, equal_to([_state(doc) for doc in docs]), label="documents")
    files = sorted(spill.iterdir())
    # Five documents, at most two a file; bundles may split them further but never lose or repeat one.
    assert len(files) >= 3
    assert sorted(doc.id for path in files for doc in read_spilled(str(path))) == sorted(doc.id for doc in docs)


def test_spill_read_spilled_of_an_empty_file_is_empty(tmp_path: Path):
    empty = tmp_path / "empty.pickle"
    empty.write_bytes(b"")
    assert list(read_spilled(str(empty))) == []


def test_spill_by_key_reads_each_part_as_one_group(tmp_path):
    """A keyed spill: a file holds one part's documents, and a part's files are read back together."""
    docs = _seed_docs()
    # Another outlet's file with a seed's text: in the seed's part, so read by the same worker.
    docs.append(Document.from_raw("copy.txt", docs[2].text))
    parts, key = 3, same_text
    spill = tmp_path / "spill"
    expected: dict[int, list[str]] = {}
    for doc in docs:
        expected.setdefault(key(doc) % parts, []).append(doc.id)
    with local_pipeline() as p:
        groups = (p | beam.Create(docs) | SpillFiles(str(spill), chunk=2, key=key, parts=parts)
                  | beam.GroupByKey() | beam.Map(lambda part: (part[0], sorted(d.id for d in read_parts(part)))))
        assert_that(groups, equal_to([(part, sorted(ids)) for part, ids in expected.items()]), label="parts")
        back = p | "Again" >> beam.Create(docs) | SpillDocuments(str(tmp_path / "again"), key=key) | beam.Map(_state)
        assert_that(back, equal_to([_state(doc) for doc in docs]), label="documents")
    for path in spill.iterdir():
        assert len({key(doc) % parts for doc in read_spilled(str(path))}) == 1, path


def test_spill_join_in_parts_brings_each_item_the_entries_of_its_part_only(tmp_path):
    # Relation labels for 300 records, a third of them labelled: each record meets its own label,
    # and the table a worker holds for it is its part's, never the whole table.
    ids = [f"doc-{i:03d}" for i in range(300)]
    labels = {doc_id: ("duplicate_of", f"canonical-{doc_id}") for doc_id in ids[::3]}
    labels["doc-999"] = ("duplicate_of", "a record with no item")  # an entry no item asks for: dropped

    def apply(item, table):
        in_part = {key for key in labels if part_of(key) == part_of(item)}
        yield item, table.get(item), set(table) == in_part and len(table) < len(labels)

    with local_pipeline() as p:
        joined = ({"items": p | "Items" >> beam.Create(ids), "table": p | "Labels" >> beam.Create(sorted(labels.items()))}
                  | JoinInParts(SpillDocuments(str(tmp_path)), str, str, apply))
        assert_that(joined, equal_to([(doc_id, labels.get(doc_id), True) for doc_id in ids]), label="CheckJoined")
