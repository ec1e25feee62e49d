"""Flink: the portable pipeline proto the FlinkRunner would submit, checked without a job server.

Flink's Beam job server jar comes from Maven Central, which this machine cannot reach, so the job is
not run here; what the runner receives is checked instead: the same graph, as the portable proto
built for a Docker SDK environment (the repository's Dockerfile), holds only portable transforms.
"""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
from apache_beam.portability import common_urns
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


def _flink_proto():
    args = [*overlay_args(ROOT / "configs" / "flink.yaml"), "--flink_master=localhost:8081",
            f"--environment_config={IMAGE}"]
    options = _pipeline_options(args)
    root = beam.Pipeline(options=options)
    build(root, "gs://newsbeam-flink/landing/*.txt", "gs://newsbeam-flink/out/.staging-test", load_config(),
          {"version": "test", "config_hash": "test"})
    # Exactly what PortableRunner (FlinkRunner's base) submits to the job server.
    return PortableRunner.get_proto_pipeline(root, options)


def test_flink_portable_proto_has_only_portable_leaf_transforms():
    proto = _flink_proto()
    transforms = proto.components.transforms
    leaves = {t.unique_name: t.spec.urn for t in transforms.values() if not t.subtransforms}
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
