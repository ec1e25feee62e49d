from pathlib import Path

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import SEEDS, local_pipeline
from transforms.document import Document
from transforms.spill import SpillDocuments, read_spilled
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
