"""A keyed step run on parts of its input split by key, so that no one group is the whole collection.

Beam's local runner hands a group's whole output to the next step in one piece, and while that
step runs it holds the output about four times over: its grouping table, the grouped bytes, and the
data channel's buffer and message. The story blocks of the 100,000-document bench corpus are 450 MiB
grouped, and their step raised the run's memory by 1.8 GB. Split by a stable hash of the key into
parts, each part is grouped and consumed as a step of its own, one after another, so the runner holds
one part's copies at a time. Every key is in exactly one part, so each group is whole and the results
are the same whatever the number of parts. A distributed runner shuffles the same data either way.
Written by hand because Beam's GroupByKey has no such split.

The number of parts is the pipeline option ``--group_shards``; the run command sets it from the
input's size (:func:`shards_for`): every part is a step of the graph, and a small input's steps cost
more to build and start than their groups hold.
"""

from __future__ import annotations

import zlib
from typing import Any, Callable, Hashable, Mapping

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

# Parts when neither the option nor the input's size says (a streaming run, a test pipeline), and the
# most the input's size gives.
SHARDS = 4
# One part per this much input. Bench corpus, NER off, one worker, the same records whatever the count:
# 1,000 documents (9.6 MB) took 29.2 s in one part and 33.6 s in four (each part's steps cost time to
# build and start); 10,000 (93 MB) took 188.4 s in one part, 166.3 s in three and 165.0 s in four (the
# local runner is slower on one large group than on its parts).
SHARD_BYTES = 32 * 2**20


class ShardOptions(PipelineOptions):
    """``--group_shards``: into how many parts :class:`ByKeyShard` splits the relations' large groups."""

    @classmethod
    def _add_argparse_args(cls, parser) -> None:
        parser.add_argument("--group_shards", type=int, default=None,
                            help="parts the relations' largest groups are split into, run one after another "
                                 "on the local runner (default: one per 32 MiB of input, at most 4)")


def shards_for(input_bytes: int) -> int:
    """The parts for an input of ``input_bytes``: one per :data:`SHARD_BYTES`, from one to :data:`SHARDS`."""
    return min(SHARDS, max(1, -(-input_bytes // SHARD_BYTES)))


def shard_of(key: Hashable, shards: int) -> int:
    """The part of ``key``: the same in every process (Python's own hash is salted per process)."""
    return zlib.crc32(repr(key).encode("utf-8")) % shards


def _part(element: tuple[Hashable, Any], shards: int) -> int:
    return shard_of(element[0], shards)


class ByKeyShard(beam.PTransform):
    """Apply ``step()`` (a keyed composite that groups its input by key first) to each of the
    pipeline's ``--group_shards`` parts of the input, split by key, and flatten the results.

    The input is one keyed PCollection or, for a join, a mapping of them (``{"name": pcoll}``, as
    CoGroupByKey takes); each input is split by the same key, so a key's elements meet in one part.
    """

    def __init__(self, step: Callable[[], beam.PTransform]) -> None:
        super().__init__()
        self._step = step

    def expand(self, inputs):
        named: Mapping[str, Any] = inputs if isinstance(inputs, Mapping) else {"": inputs}
        # The pipeline's --group_shards, else SHARDS (the option is set by the run command).
        shards = next(iter(named.values())).pipeline.options.view_as(ShardOptions).group_shards or SHARDS
        if shards == 1:
            return inputs | "Whole" >> self._step()
        parts = {name: pcoll | (f"Split[{name}]" if name else "Split") >> beam.Partition(_part, shards)
                 for name, pcoll in named.items()}
        results = []
        for index in range(shards):
            part = {name: split[index] for name, split in parts.items()}
            results.append((part if isinstance(inputs, Mapping) else part[""]) | f"Shard{index}" >> self._step())
        return results | "Gather" >> beam.Flatten()
