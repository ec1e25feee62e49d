"""A DaskRunner that runs newsbeam's whole graph: Beam 2.77's DaskRunner, with its translation fixed.

Beam 2.77's ``apache_beam.runners.dask`` translates a pipeline into ``dask.bag`` operations, but
(measured here on a ``dask.distributed`` cluster; see docs/runners.md):

1. a multi-output ``ParDo`` hands *all* its outputs, main and tagged, to every consumer, so a
   stage's rejected documents would also flow on as documents;
2. values emitted in ``finish_bundle`` are dropped (the bundle's results are collected before it
   runs), so ``WriteToFiles`` writes nothing: its writers emit their files only in ``finish_bundle``;
3. only the last transform's bag is computed, so any other leaf (a second sink) is silently lost;
   and ``Reshuffle`` is a no-op, so a pipeline that starts from one glob runs in one partition;
4. side inputs reach the DoFn as the raw ``AsList``/``AsDict`` objects, not their values, so every
   ``CombineGlobally`` (its default injection reads a side input) and every stage with a side input fails;
5. ``Flatten`` (``dask.bag.concat``) adds up its inputs' partitions and ``GroupByKey`` (a task
   shuffle) keeps its input's, so every ``CoGroupByKey`` (a Flatten then a GroupByKey) compounds
   them: newsbeam's graph ended in 290 partitions and ran some 100,000 shuffle tasks for five documents.

Fixing those exposed two more in the first version of this module, which made the full graph hang:
a side input passed to the DoFn's tasks as a ``dask.bag.Item`` is optimised apart from the graph,
under new keys, so its whole upstream was computed again, and again for every side input above it
(23,000 tasks instead of 1,500); and the DoFn travelled live as a task result, which Dask shares
between the bundles of a worker and pickles again for another worker, in whatever state a bundle
left it (see :class:`_Step`).

Nothing else in the pipeline knows about Dask: this module only swaps the ``ParDo``, ``Flatten`` and
``Reshuffle`` translations, selects each consumer's own tagged output and computes every leaf.
It is written here rather than upstream because no released Beam has these fixes.
"""

from __future__ import annotations

import dataclasses
import typing as t
from functools import partial

import dask
import dask.bag as db

import apache_beam as beam
from apache_beam import DoFn, TaggedOutput, pvalue
from apache_beam.internal import pickler
from apache_beam.pipeline import AppliedPTransform, PipelineVisitor
from apache_beam.runners.common import DoFnContext, DoFnInvoker, DoFnSignature, _OutputHandler
from apache_beam.runners.dask import dask_runner, overrides, transform_evaluator
from apache_beam.runners.dask.overrides import _Reshuffle, dask_overrides
from apache_beam.transforms.sideinputs import SideInputMap


@dataclasses.dataclass(frozen=True)
class _Step:
    """What every bundle of one ParDo needs; shipped to the workers once per ParDo, not once per task.

    The DoFn and its arguments travel pickled and every bundle unpickles its own copy. A Dask task's
    result stays in its worker's memory, is handed to every task there that depends on it and is
    pickled again whenever another worker needs it: a live DoFn in it would be shared by the bundles
    of that worker and sent on in whatever state they left it (after a WriteToFiles bundle, holding
    open files, which cannot be pickled: the fetch fails and the run hangs).
    """

    fn_and_args: bytes
    label: str
    window_fn: t.Any
    side_specs: list


def _run_bundle(items: t.Iterable[t.Any], step: _Step, *side_values: list) -> list:
    """Run one Dask partition as one Beam bundle; finish_bundle's outputs are kept, tags preserved."""
    items = list(items)
    if not items:
        # No bundle for an empty partition (Beam never promises one): its setup (rule compilation,
        # model loading) would be spent on nothing, and small inputs leave many partitions empty.
        return []
    fn, args, kwargs = pickler.loads(step.fn_and_args)
    window_fn = step.window_fn
    receivers = transform_evaluator.OneReceiver()  # fresh per bundle: never shared between partitions
    side_inputs = [SideInputMap(view_type, view_options,
                                [transform_evaluator.get_windowed_value(value, None) for value in values])
                   for (view_type, view_options), values in zip(step.side_specs, side_values)]
    handler = _OutputHandler(window_fn=window_fn, main_receivers=receivers[None], tagged_receivers=receivers,
                             per_element_output_counter=None, output_batch_converter=None,
                             process_yields_batches=False, process_batch_yields_elements=False)
    invoker = DoFnInvoker.create_invoker(
        DoFnSignature(fn), handler, context=DoFnContext(step.label, state=None), side_inputs=side_inputs,
        input_args=args, input_kwargs=kwargs, user_state_context=None,
        bundle_finalizer_param=DoFn.BundleFinalizerParam())
    invoker.invoke_setup()
    invoker.invoke_start_bundle()
    for item in items:
        invoker.invoke_process(transform_evaluator.get_windowed_value(item, window_fn))
    invoker.invoke_finish_bundle()
    invoker.invoke_teardown()
    # Main outputs stay plain values (as the stock translation expects downstream); tagged ones keep
    # their tag so that each consumer can select its own.
    return [TaggedOutput(out.tag, out.value.value) if isinstance(out, TaggedOutput) else out.value
            for out in receivers.values]


class _ParDo(transform_evaluator.DaskBagOp):
    def apply(self, input_bag: db.Bag, side_inputs: list | None = None) -> db.Bag:
        transform = self.transform
        # The arguments with side inputs replaced by placeholders, which the invoker fills per window
        # (the stock translation passed the raw AsList/AsDict objects to the DoFn instead).
        args, kwargs = transform.args, transform.kwargs
        main_input = next(iter(self.applied.main_inputs.values()))
        window_fn = main_input.windowing.windowfn if hasattr(main_input, "windowing") else None
        side_specs = [(type(side), side._view_options()) for side in self.applied.side_inputs]
        # A Delayed argument is one task that every partition depends on: the DoFn (which carries the
        # whole configuration, rule files included) is serialised once instead of once per partition.
        step = _Step(pickler.dumps((transform.fn, list(args), kwargs)), transform.label, window_fn, side_specs)
        step = dask.delayed(step, pure=True, traverse=False)
        return input_bag.map_partitions(_run_bundle, step, *(side_inputs or []))


class _Repartition(transform_evaluator.DaskBagOp):
    """Reshuffle spreads elements over ``npartitions`` partitions instead of doing nothing."""

    def apply(self, input_bag: db.Bag, side_inputs: list | None = None) -> db.Bag:
        return input_bag.repartition(npartitions=self.bag_kwargs["npartitions"])


class _Flatten(transform_evaluator.Flatten):
    """Flatten into at most ``npartitions`` partitions, so that partitions do not compound (defect 5).

    Merging neighbouring partitions is a concatenation of lists, without a shuffle.
    """

    def apply(self, input_bag: list[db.Bag], side_inputs: list | None = None) -> db.Bag:
        bag = db.concat(input_bag)
        limit = self.bag_kwargs["npartitions"]
        return bag.repartition(npartitions=limit) if bag.npartitions > limit else bag


_TRANSLATIONS = {**transform_evaluator.TRANSLATIONS, beam.ParDo: _ParDo,
                 _Reshuffle: _Repartition, overrides._Flatten: _Flatten}


def _has_tag(tag: str | None, item: t.Any) -> bool:
    return item.tag == tag if isinstance(item, TaggedOutput) else tag is None


def _untag(item: t.Any) -> t.Any:
    return item.value if isinstance(item, TaggedOutput) else item


def _as_list(partition: t.Iterable[t.Any]) -> list:
    return list(partition)


def _concat(lists: t.Iterable[list]) -> list:
    return [item for part in lists for item in part]


class _Visitor(PipelineVisitor):
    """Builds one bag per leaf transform; consumers read only their own tagged output."""

    def __init__(self, npartitions: int) -> None:
        self.bags: dict[AppliedPTransform, t.Any] = {}
        self.consumed: set[AppliedPTransform] = set()
        self.npartitions = npartitions

    def _bag_of(self, value: pvalue.PValue):
        producer = value.producer
        self.consumed.add(producer)
        bag = self.bags[producer]
        if len(producer.outputs) > 1:
            bag = bag.filter(partial(_has_tag, value.tag)).map(_untag)
        return bag

    def visit_transform(self, node: AppliedPTransform) -> None:
        op_class = _TRANSLATIONS.get(type(node.transform), transform_evaluator.NoOp)
        op = op_class(node, bag_kwargs={"npartitions": self.npartitions})
        inputs = [self._bag_of(value) for value in node.inputs
                  if not isinstance(value, pvalue.PBegin) and value.producer in self.bags]
        input_bag: t.Any = None
        if inputs:
            input_bag = inputs if isinstance(op, transform_evaluator.Flatten) or len(inputs) > 1 else inputs[0]
        # A side input reaches every partition whole, computed once (the stock translation recomputed
        # the side input's whole upstream graph inside every task). It is passed as an unoptimised
        # Delayed: a Bag Item argument is optimised on its own, under new keys, so its whole upstream
        # graph would be copied and computed a second time, once more for every side input above it.
        sides = [self._bag_of(side.pvalue).reduction(_as_list, _concat).to_delayed(optimize_graph=False)
                 for side in node.side_inputs]
        self.bags[node] = op.apply(input_bag=input_bag, side_inputs=sides or None)

    def leaves(self) -> list:
        return [bag for node, bag in self.bags.items() if node not in self.consumed]


class _Result(dask_runner.DaskRunnerResult):
    """Closes the run's Dask client when the run ends, so repeated runs do not pile up connections."""

    def wait_until_finish(self, duration=None) -> str:
        try:
            return super().wait_until_finish(duration)
        finally:
            if self._state != dask_runner.PipelineState.RUNNING:
                self.client.close()


class DaskRunner(dask_runner.DaskRunner):
    """Beam's DaskRunner with the translation fixes above; options as ``--dask_*`` (DaskOptions)."""

    def run_pipeline(self, pipeline, options):
        import dask.distributed as ddist

        dask_options = options.view_as(dask_runner.DaskOptions).get_all_options(drop_default=True, current_only=True)
        bag_kwargs = dask_runner.DaskOptions._extract_bag_kwargs(dask_options)
        client = ddist.Client(**dask_options)
        # Enough partitions after each Reshuffle for every worker thread to get work twice over.
        threads = sum(worker["nthreads"] for worker in client.scheduler_info()["workers"].values())
        npartitions = bag_kwargs.get("npartitions") or max(2, 2 * threads)
        pipeline.replace_all(dask_overrides())
        visitor = _Visitor(npartitions)
        pipeline.visit(visitor)
        futures = client.compute(list(dask.optimize(*visitor.leaves())))
        return _Result(client, futures)
