"""Writing: records, rejected entries and the run counters through one sink.

One ``WriteToFiles`` with dynamic destinations serves all three outputs, because some runners
(Dask) compute only the last of several sinks; the launcher's accounting check catches any loss.
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam
import orjson
from apache_beam.io import fileio
from apache_beam.options.value_provider import StaticValueProvider

from transforms.document import Document, Rejection

RECORDS = "records"
REJECTED_FILES = "rejected"
COUNTERS = "counters"


class _JsonLinesSink(fileio.TextSink):
    """Writes the line part of ``(destination, line)`` pairs."""

    def write(self, element: tuple[str, bytes]) -> None:
        self._fh.write(element[1])
        self._fh.write(b"\n")


def _destination(element: tuple[str, bytes]) -> str:
    return element[0]


def _record_line(doc: Document) -> tuple[str, bytes]:
    return (RECORDS, doc.to_json())


def _rejected_line(rejection: Rejection) -> tuple[str, bytes]:
    return (REJECTED_FILES, rejection.to_json())


def _counters_line(counters: dict[str, Any]) -> tuple[str, bytes]:
    return (COUNTERS, orjson.dumps(counters, option=orjson.OPT_SORT_KEYS))


class WriteOutputs(beam.PTransform):
    """Write ``records-*.jsonl``, ``rejected-*.jsonl`` and ``counters-*.jsonl`` into ``directory``.

    Files are written per bundle (``-SSSSS-of-NNNNN``), so their number follows the runner's
    parallelism; their sorted lines are the same on every runner and worker count. Windowed input
    (the streaming graph) is written per window, once the window closes, and the window's bounds
    are in the names: ``records-<start>-<end>-SSSSS-of-NNNNN.jsonl``.
    """

    def __init__(self, directory: str) -> None:
        super().__init__()
        self._directory = directory

    def expand(self, pcolls: dict[str, Any]):
        lines = (
            (pcolls[RECORDS] | "SerialiseRecords" >> beam.Map(_record_line),
             pcolls[REJECTED_FILES] | "SerialiseRejected" >> beam.Map(_rejected_line),
             pcolls[COUNTERS] | "SerialiseCounters" >> beam.Map(_counters_line))
            | "MergeOutputs" >> beam.Flatten())
        return lines | "WriteFiles" >> fileio.WriteToFiles(
            path=self._directory,
            destination=_destination,
            sink=lambda _destination: _JsonLinesSink(),
            file_naming=fileio.destination_prefix_naming(suffix=".jsonl"),
            temp_directory=StaticValueProvider(str, self._directory.rstrip("/") + "/.tmp"))
