"""Documents that wait on disk, not in memory, where a batch run needs a result of the whole collection.

Four steps of a batch run need something only the whole collection gives: boilerplate needs the lines
repeated across documents, repair the names seen across the run, canonical names the run-wide name
variants, and every record its relations. Each such result is a side input, and Beam's local runner
holds every document in memory until it is ready (and again at every shuffle of documents, and where
the records meet the rejected entries before the one sink), so a run's memory grew with its size.
Here the documents go to files in the run's staging folder, at most ``chunk`` per file, and only the
files' names wait; the step after the barrier reads them back. The files are spread over the workers
(a ``Reshuffle`` of names), which is also how one large input file is shared out. Distributed runners
shuffle to disk anyway; there the cost is one write and one read of each document per barrier.
Written by hand because Beam has no disk-backed barrier for the local runner.
"""

from __future__ import annotations

import pickle
import uuid
from typing import Iterator

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms.window import GlobalWindows

from transforms.document import Document

# Documents per file. The local runner deals whole files out to its workers in turn, and each bundle
# ends with a part-filled file, so files of 200 left one of two workers a fifth of the NER stage
# alone on 1,000 documents (65 against 45 CPU seconds); with 50 the two were within 2%. A run of
# 100,000 documents writes about 2,000 files per barrier, a few hundred kB each.
CHUNK = 50
_LENGTH = 8  # bytes of the little-endian length before each pickled document


class _SpillFn(beam.DoFn):
    """Documents -> the names of the files holding them (batch only: the names are in the global window)."""

    def __init__(self, directory: str, chunk: int) -> None:
        self._directory = directory
        self._chunk = chunk

    def start_bundle(self) -> None:
        self._handle = None
        self._path = ""
        self._count = 0

    def process(self, doc: Document) -> Iterator[str]:
        if self._handle is None:
            # A random name: a retried bundle writes a new file, and only names emitted are read.
            self._path = FileSystems.join(self._directory, f"{uuid.uuid4().hex}.pickle")
            self._handle = FileSystems.create(self._path)
        data = pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL)
        self._handle.write(len(data).to_bytes(_LENGTH, "little"))
        self._handle.write(data)
        self._count += 1
        if self._count == self._chunk:
            yield self._close()

    def finish_bundle(self):
        if self._handle is not None:
            yield GlobalWindows.windowed_value(self._close())

    def _close(self) -> str:
        self._handle.close()
        path, self._handle, self._count = self._path, None, 0
        return path


def read_spilled(path: str) -> Iterator[Document]:
    """The documents of one spill file, in the order written."""
    with FileSystems.open(path, compression_type="uncompressed") as handle:
        data = memoryview(handle.read())
    position = 0
    while position < len(data):
        size = int.from_bytes(data[position:position + _LENGTH], "little")
        position += _LENGTH
        yield pickle.loads(data[position:position + size])
        position += size


class SpillFiles(beam.PTransform):
    """Documents -> the names of files under ``directory`` holding them (:func:`read_spilled` reads one)."""

    def __init__(self, directory: str, chunk: int = CHUNK) -> None:
        super().__init__()
        self._directory = directory
        self._chunk = chunk

    def expand(self, docs):
        return docs | "WriteFiles" >> beam.ParDo(_SpillFn(self._directory, self._chunk))


class SpillDocuments(SpillFiles):
    """Documents -> the same documents, written to files under ``directory``, read back after a shuffle of the names.

    Any picklable elements can wait this way (the relations' rewrite features do).
    """

    def expand(self, docs):
        return super().expand(docs) | "SpreadFiles" >> beam.Reshuffle() | "ReadFiles" >> beam.FlatMap(read_spilled)
