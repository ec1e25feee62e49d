"""Flink: the portable pipeline proto the FlinkRunner would submit, checked without a job server.

Flink's Beam job server jar comes from Maven Central, which this machine cannot reach, so the job is
not run here; what the runner receives is checked instead: the same graph, as the portable proto
built for a Docker SDK environment (the repository's Dockerfile), holds only portable transforms, for
the batch graph and for the streaming graph (``--streaming``).
"""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.portability import common_urns
from apache_beam.portability.api import beam_runner_api_pb2
from apache_beam.runners.portability.portable_runner import PortableRunner

from pipeline.cli import _pipeline_options
from pipeline.config import load_config
from pipeline.graph import build
from pipeline.runners import overlay_args

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "registry.example.com/newsbeam:test"
# Primitives every portable runner (Flink included) executes, and the standard lifted-combine steps
# that the SDK harness runs; composites are expanded into these.
PORTABLE_PRIMITIVES = {common_urns.primitives.IMPULSE.urn, common_urns.primitives.PAR_DO.urn,
                       common_urns.primitives.GROUP_BY_KEY.urn, common_urns.primitives.FLATTEN.urn,
                       common_urns.primitives.ASSIGN_WINDOWS.urn, common_urns.composites.RESHUFFLE.urn,
                       common_urns.combine_components.COMBINE_PER_KEY_PRECOMBINE.urn,
                       common_urns.combine_components.COMBINE_PER_KEY_MERGE_ACCUMULATORS.urn,
                       common_urns.combine_components.COMBINE_PER_KEY_EXTRACT_OUTPUTS.urn}


def _flink_proto(streaming: bool = False):
    args = [*overlay_args(ROOT / "configs" / "flink.yaml"), "--flink_master=localhost:8081",
            f"--environment_config={IMAGE}", *(["--streaming"] if streaming else [])]
    options = _pipeline_options(args)
    root = beam.Pipeline(options=options)
    build(root, "gs://newsbeam-flink/landing/*.txt", "gs://newsbeam-flink/out/.staging-test", load_config(),
          {"version": "test", "config_hash": "test"}, streaming=streaming)
    # Exactly what PortableRunner (FlinkRunner's base) submits to the job server.
    return PortableRunner.get_proto_pipeline(root, options)


@pytest.mark.parametrize("streaming", [False, True], ids=["batch", "streaming"])
def test_flink_portable_proto_has_only_portable_leaf_transforms(streaming):
    proto = _flink_proto(streaming)
    transforms = proto.components.transforms
    # A leaf whose outputs are its inputs (Create's MaybeReshuffle of one element, which the streaming
    # proto keeps unoptimized) is an identity: the job server's QueryablePipeline counts as primitive
    # only a leaf that produces a new PCollection, and drops this one.
    leaves = {t.unique_name: t.spec.urn for t in transforms.values()
              if not t.subtransforms and not set(t.outputs.values()) <= set(t.inputs.values())}
    assert leaves, "empty pipeline"
    not_portable = {name: urn for name, urn in leaves.items() if urn not in PORTABLE_PRIMITIVES}
    assert not not_portable


def test_flink_every_step_runs_in_the_docker_sdk_environment():
    proto = _flink_proto()
    environments = proto.components.environments
    docker = common_urns.environments.DOCKER.urn
    assert {env.urn for env in environments.values()} == {docker}
    # Every DoFn is a pickled Python DoFn executed by the SDK harness in the container.
    for transform in proto.components.transforms.values():
        if transform.spec.urn == common_urns.primitives.PAR_DO.urn:
            assert environments[transform.environment_id].urn == docker, transform.unique_name
    assert IMAGE.encode() in next(iter(environments.values())).payload


def test_flink_proto_reads_and_writes_through_filesystems_not_local_state():
    # The graph reads with fileio from the given location and writes through one WriteToFiles;
    # nothing refers to this machine's paths (workers on other hosts must see the same data).
    proto = _flink_proto()
    serialized = proto.SerializeToString()
    assert str(ROOT).encode() not in serialized
    names = {t.unique_name for t in proto.components.transforms.values()}
    assert {"Read/MatchFiles", "Write/WriteFiles"} <= names


def test_flink_streaming_proto_polls_windows_and_writes_per_window():
    # `newsbeam run --streaming` on Flink: the glob polled by a splittable DoFn (Flink runs SDFs in
    # streaming mode), fixed windows from the read on, the sink fed windowed, unbounded data.
    proto = _flink_proto(streaming=True)
    components = proto.components
    transforms = {t.unique_name: t for t in components.transforms.values()}
    assert {"Read/MatchContinuously", "Read/WindowFiles", "Write/WriteFiles"} <= set(transforms)
    watch = next(t for name, t in transforms.items() if name.startswith("Read/MatchContinuously/Watch/ParDo"))
    assert beam_runner_api_pb2.ParDoPayload.FromString(watch.spec.payload).restriction_coder_id
    assert common_urns.requirements.REQUIRES_SPLITTABLE_DOFN.urn in proto.requirements
    sink_input = components.pcollections[next(iter(transforms["Write/WriteFiles"].inputs.values()))]
    assert sink_input.is_bounded == beam_runner_api_pb2.IsBounded.UNBOUNDED
    windowing = components.windowing_strategies[sink_input.windowing_strategy_id]
    assert windowing.window_fn.urn == common_urns.fixed_windows.urn
