"""The shared frame of a per-document stage: a pure function run in a DoFn with dead letters.

A stage module exposes ``build(config) -> Callable[[Document, ...], Document]``; the function is
built once per worker in ``DoFn.setup`` (rules compiled there, never per element) and applied to
each document. A :class:`~transforms.errors.Reject` or any other exception sends the document to
the ``rejected`` output with the stage name and reason, and the run goes on.
"""

from __future__ import annotations

import gc
from typing import Any, Callable, Mapping

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.pvalue import TaggedOutput
from apache_beam.transforms.window import GlobalWindows

from transforms.document import Document, Rejection
from transforms.errors import Reject

DOCS = "docs"
REJECTED = "rejected"

StageFunction = Callable[..., Document]
Builder = Callable[[Mapping[str, Any]], StageFunction]


# The cyclic garbage collector's first threshold in a worker. Python's default, 700 allocations,
# ran 4,429 collections (13 of the whole heap, the models and word tables included) over 10,000 bench
# documents with NER off: 3.5 s, timed with gc.callbacks; at 10,000 it ran 962 (6 whole), 1.1 s, and
# the run's peak grew by 18 MiB. Almost every object a stage makes is freed by its reference count,
# so collecting less often mostly saves the walks over the objects that stay.
YOUNG_COLLECTION_THRESHOLD = 10_000


def collect_less() -> None:
    """Raise the worker process's first garbage-collection threshold (idempotent; see above)."""
    young, older, oldest = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_COLLECTION_THRESHOLD), older, oldest)


def run_stage(stage: str, function: StageFunction, doc: Document, *side: Any) -> Document | Rejection:
    """Apply one stage's function, turning a refusal or a crash into a :class:`Rejection`."""
    try:
        return function(doc, *side)
    except Reject as refusal:
        return Rejection(doc.source, stage, refusal.reason, refusal.detail)
    except Exception as error:  # noqa: BLE001 - a dead letter must catch whatever a stage raises
        return Rejection(doc.source, stage, "exception", f"{type(error).__name__}: {error}"[:500])


class _StageFn(beam.DoFn):
    def __init__(self, stage: str, build: Builder, config: Mapping[str, Any]) -> None:
        self._stage = stage
        self._build = build
        self._config = config
        self._function: StageFunction | None = None
        self._rejected = Metrics.counter("newsbeam", f"{stage}.rejected")

    def setup(self) -> None:
        collect_less()
        self._function = self._build(self._config)

    def process(self, doc: Document, *side):  # no hint on *side: Beam would type-check it as a tuple
        result = run_stage(self._stage, self._function, doc, *side)
        if isinstance(result, Rejection):
            self._rejected.inc()
            yield TaggedOutput(REJECTED, result)
        else:
            yield result


class DocumentStage(beam.PTransform):
    """Run a stage over documents; the result has ``[DOCS]`` and ``[REJECTED]`` outputs.

    ``side_inputs`` (e.g. ``beam.pvalue.AsDict``) are passed to the function after the document.
    """

    def __init__(self, stage: str, build: Builder, config: Mapping[str, Any], *side_inputs: Any) -> None:
        super().__init__()
        self._stage = stage
        self._build = build
        self._config = config
        self._side_inputs = side_inputs

    def expand(self, docs):
        return docs | beam.ParDo(_StageFn(self._stage, self._build, self._config), *self._side_inputs).with_outputs(
            REJECTED, main=DOCS)


def is_windowed(pcoll: beam.PCollection) -> bool:
    """Whether ``pcoll`` is in windows of its own (a streaming run), not the one global window."""
    return pcoll.windowing.windowfn != GlobalWindows()


def per_window(combine: beam.CombineGlobally, pcoll: beam.PCollection) -> beam.CombineGlobally:
    """``combine`` as it may be applied to ``pcoll``: in a streaming run one result per window and
    none for an empty window (Beam has no default value per window); over a batch, as it is."""
    return combine.without_defaults() if is_windowed(pcoll) else combine
