"""Documents that wait on disk, not in memory, where a batch run needs a result of the whole collection.

Four steps of a batch run need something only the whole collection gives: boilerplate needs the lines
repeated across documents, repair the names seen across the run, canonical names the run-wide name
variants, and every record its relations. The first three are side inputs (the relations reach the
records part by part instead, :class:`JoinInParts`), and Beam's local runner holds every document in
memory until such a result is ready (and again at every shuffle of documents, and where the records
meet the rejected entries before the one sink), so a run's memory grew with its size.
Here the documents go to files in the run's staging folder, at most ``chunk`` per file, and only the
files' names wait; the step after the barrier reads them back. The files are spread over the workers
(a ``Reshuffle`` of names), which is also how one large input file is shared out. A keyed spill sends
the documents of one key to one worker instead (NER waits this way, so that the copies of a text meet).
Distributed runners shuffle to disk anyway; there the cost is one write and one read of each document
per barrier.
Written by hand because Beam has no disk-backed barrier for the local runner.
"""

from __future__ import annotations

import pickle
import uuid
from typing import Any, Callable, Iterable, Iterator, Mapping

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms.window import GlobalWindows

from transforms.document import Document
from transforms.shard import shard_of

# Documents per file. The local runner deals whole files out to its workers in turn, and each bundle
# ends with a part-filled file, so files of 200 left one of two workers a fifth of the NER stage
# alone on 1,000 documents (65 against 45 CPU seconds); with 50 the two were within 2%. A run of
# 100,000 documents writes about 2,000 files per barrier, a few hundred kB each.
CHUNK = 50
# Parts of a keyed spill (see SpillDocuments): enough to share out evenly among the local runner's
# workers (each takes whole parts, in turn), few enough that a bundle's files are not mostly tiny.
PARTS = 64
_LENGTH = 8  # bytes of the little-endian length before each pickled document


class _SpillFn(beam.DoFn):
    """Documents -> the names of the files holding them (batch only: the names are in the global window).

    With ``key`` (a document -> int), a document goes to the file of its part (``key % parts``) and
    each name comes out as ``(part, name)``.
    """

    def __init__(self, directory: str, chunk: int, key: Callable[[Document], int] | None, parts: int) -> None:
        self._directory = directory
        self._chunk = chunk
        self._key = key
        self._parts = parts

    def start_bundle(self) -> None:
        self._open: dict[int, tuple[str, Any]] = {}  # part -> (path, handle)
        self._counts: dict[int, int] = {}

    def process(self, doc: Document) -> Iterator[Any]:
        part = self._key(doc) % self._parts if self._key is not None else 0
        if part not in self._open:
            # A random name: a retried bundle writes a new file, and only names emitted are read.
            path = FileSystems.join(self._directory, f"{uuid.uuid4().hex}.pickle")
            self._open[part], self._counts[part] = (path, FileSystems.create(path)), 0
        data = pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL)
        handle = self._open[part][1]
        handle.write(len(data).to_bytes(_LENGTH, "little"))
        handle.write(data)
        self._counts[part] += 1
        if self._counts[part] == self._chunk:
            yield self._close(part)

    def finish_bundle(self):
        for part in sorted(self._open):
            yield GlobalWindows.windowed_value(self._close(part))

    def _close(self, part: int) -> Any:
        path, handle = self._open.pop(part)
        handle.close()
        return (part, path) if self._key is not None else path


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


def read_parts(part: tuple[int, Iterable[str]]) -> Iterator[Document]:
    """The documents of one part's files (a keyed spill's group), file by file."""
    for path in sorted(part[1]):
        yield from read_spilled(path)


class SpillFiles(beam.PTransform):
    """Documents -> the names of files under ``directory`` holding them (:func:`read_spilled` reads one).

    With ``key``, ``(part, name)`` pairs: the documents of a file all have the same ``key % parts``.
    """

    def __init__(self, directory: str, chunk: int = CHUNK, key: Callable[[Document], int] | None = None,
                 parts: int = PARTS) -> None:
        super().__init__()
        self._directory = directory
        self._chunk = chunk
        self._key = key
        self._parts = parts

    def expand(self, docs):
        return docs | "WriteFiles" >> beam.ParDo(_SpillFn(self._directory, self._chunk, self._key, self._parts))


class SpillDocuments(SpillFiles):
    """Documents -> the same documents, written to files under ``directory``, read back after a shuffle of the names.

    Any picklable elements can wait this way. With ``key``, the documents of one part (``key % parts``)
    are read back by one worker, one part after another: documents with the same key (entities: the
    same text) meet in one worker, next to one another.
    """

    def expand(self, docs):
        names = super().expand(docs)
        if self._key is None:
            return names | "SpreadFiles" >> beam.Reshuffle() | "ReadFiles" >> beam.FlatMap(read_spilled)
        return names | "GroupParts" >> beam.GroupByKey() | "ReadParts" >> beam.FlatMap(read_parts)

    def in_parts(self, part: Callable[[Any], int]) -> SpillFiles:
        """Where these elements wait to be read back with what else falls in their part (of PARTS):
        ``(part, name)`` pairs (see :class:`JoinInParts`)."""
        return SpillFiles(self._directory, self._chunk, part, PARTS)


def part_of(text_id: str) -> int:
    """The part (of PARTS) of an id, the same in every process."""
    return shard_of(text_id, PARTS)


def _apply_part(element: tuple[int, Mapping[str, Iterable[Any]]], apply: Callable[..., Iterable[Any]],
                *args):  # no hint on *args: Beam would type-check it as a tuple
    part, grouped = element
    table = dict(grouped["table"])
    for item in read_parts((part, grouped["files"])):
        yield from apply(item, table, *args)


class JoinInParts(beam.PTransform):
    """Batch: ``{"items": elements, "table": (key, value)}`` -> ``apply(item, table, *args)`` for each item,
    where ``table`` holds the entries of the item's part only.

    The items wait on disk in parts by ``item_id`` (:func:`part_of`), and the table's entries go to the
    part of ``key_id(key)``: a part's files and entries meet in one worker. As a side input the table
    was decoded whole in every worker: with the relation labels and the copies so, 30,000 bench
    documents on two workers peaked at 1,826 MiB, against 1,741 joined in parts.
    """

    def __init__(self, hold: SpillDocuments, item_id: Callable[[Any], str], key_id: Callable[[Any], str],
                 apply: Callable[..., Iterable[Any]], *args: Any) -> None:
        super().__init__()
        self._hold = hold
        self._item_id = item_id
        self._key_id = key_id
        self._apply = apply
        self._args = args

    def expand(self, inputs):
        item_id, key_id = self._item_id, self._key_id
        files = inputs["items"] | "SpillInParts" >> self._hold.in_parts(lambda item: part_of(item_id(item)))
        table = inputs["table"] | "TableInParts" >> beam.Map(lambda entry: (part_of(key_id(entry[0])), entry))
        return ({"files": files, "table": table}
                | "JoinParts" >> beam.CoGroupByKey()
                | "Apply" >> beam.FlatMap(_apply_part, self._apply, *self._args))
