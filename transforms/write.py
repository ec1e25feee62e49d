"""Writing: records, rejected entries and the run counters through one sink.

One ``WriteToFiles`` with dynamic destinations serves all three outputs, because some runners
(Dask) compute only the last of several sinks; the launcher's accounting check catches any loss.
The three meet in a ``Flatten`` fed by several stages, which the local runner holds whole in memory
until the last has run: in a batch, the records reach it as the names of spill files holding them
(:mod:`transforms.spill`) and are read back inside the sink's stage.
"""

from __future__ import annotations

from typing import Any, Iterator

import apache_beam as beam
import orjson
from apache_beam.io import fileio
from apache_beam.options.value_provider import StaticValueProvider

from transforms.document import Document, Rejection
from transforms.spill import SpillFiles, read_spilled

RECORDS = "records"
REJECTED_FILES = "rejected"
COUNTERS = "counters"
_SPILLED = "spilled records"  # not a destination: a spill file of records, expanded before the sink


class _JsonLinesSink(fileio.TextSink):
    """Writes the line part of ``(destination, line)`` pairs."""

    def write(self, element: tuple[str, bytes]) -> None:
        self._fh.write(element[1])
        self._fh.write(b"\n")


def _destination(element: tuple[str, bytes]) -> str:
    return element[0]


def _record_line(doc: Document) -> tuple[str, bytes]:
    return (RECORDS, doc.to_json())


def _spilled_file(path: str) -> tuple[str, str]:
    return (_SPILLED, path)


def _lines(element: tuple[str, Any]) -> Iterator[tuple[str, bytes]]:
    """A line as it is, or the record lines of a spill file."""
    if element[0] == _SPILLED:
        yield from map(_record_line, read_spilled(element[1]))
    else:
        yield element


def _rejected_line(rejection: Rejection) -> tuple[str, bytes]:
    return (REJECTED_FILES, rejection.to_json())


def _counters_line(counters: dict[str, Any]) -> tuple[str, bytes]:
    return (COUNTERS, orjson.dumps(counters, option=orjson.OPT_SORT_KEYS))


class WriteOutputs(beam.PTransform):
    """Write ``records-*.jsonl``, ``rejected-*.jsonl`` and ``counters-*.jsonl`` into ``directory``.

    Files are written per bundle (``-SSSSS-of-NNNNN``), so their number follows the runner's
    parallelism; their sorted lines are the same on every runner and worker count. Windowed input
    (the streaming graph) is written per window, once the window closes, and the window's bounds
    are in the names: ``records-<start>-<end>-SSSSS-of-NNNNN.jsonl``. ``spill_dir`` (a batch only):
    where the records wait for the sink's stage (see above).
    """

    def __init__(self, directory: str, spill_dir: str | None = None) -> None:
        super().__init__()
        self._directory = directory
        self._spill_dir = spill_dir

    def expand(self, pcolls: dict[str, Any]):
        if self._spill_dir is None:
            records = pcolls[RECORDS] | "SerialiseRecords" >> beam.Map(_record_line)
        else:
            records = (pcolls[RECORDS]
                       | "SpillRecords" >> SpillFiles(self._spill_dir)
                       | "NameSpillFiles" >> beam.Map(_spilled_file))
        lines = (
            (records,
             pcolls[REJECTED_FILES] | "SerialiseRejected" >> beam.Map(_rejected_line),
             pcolls[COUNTERS] | "SerialiseCounters" >> beam.Map(_counters_line))
            | "MergeOutputs" >> beam.Flatten()
            | "ExpandSpillFiles" >> beam.FlatMap(_lines))
        return lines | "WriteFiles" >> fileio.WriteToFiles(
            path=self._directory,
            destination=_destination,
            sink=lambda _destination: _JsonLinesSink(),
            file_naming=fileio.destination_prefix_naming(suffix=".jsonl"),
            temp_directory=StaticValueProvider(str, self._directory.rstrip("/") + "/.tmp"))
