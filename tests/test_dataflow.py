"""Dataflow: the graph translates into a Dataflow job offline (``--dry_run=True``, no project needed).

Needs the optional ``apache-beam[gcp]`` extra; nothing is submitted and no Google endpoint is called.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import apitools  # noqa: F401 - requirements-test.lock installs apache-beam[gcp]; without it the tests must fail

import apache_beam as beam  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions  # noqa: E402

from pipeline.cli import _pipeline_options  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.graph import build  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "gs://newsbeam-dry-run"
DATAFLOW_ARGS = ["--runner=DataflowRunner", "--project=newsbeam-dry-run", "--region=europe-west1",
                 f"--temp_location={BUCKET}/tmp", "--dry_run=True", "--no_auth"]
PORTABLE_URNS = {"beam:transform:impulse:v1", "beam:transform:pardo:v1", "beam:transform:group_by_key:v1",
                 "beam:transform:flatten:v1", "beam:transform:reshuffle:v1", "beam:transform:window_into:v1",
                 "beam:transform:combine_per_key:v1", "beam:transform:combine_grouped_values:v1"}


def _translate(extra: list[str]):
    """Translate newsbeam's graph for Dataflow without submitting it; returns the Job."""
    options = PipelineOptions([*DATAFLOW_ARGS, *extra])
    root = beam.Pipeline(options=options)
    build(root, f"{BUCKET}/landing/*.txt", f"{BUCKET}/out/.staging-dryrun", load_config(),
          {"version": "test", "config_hash": "test"})
    result = root.run()
    assert result.state == "DONE"
    return result.job


def _leaf_urns(pipeline_proto) -> set[str]:
    transforms = pipeline_proto.components.transforms
    return {t.spec.urn for t in transforms.values() if not t.subtransforms}


def test_dataflow_batch_graph_translates_with_dry_run():
    job = _translate([])
    assert job.proto.type.name == "JOB_TYPE_BATCH"
    names = {t.unique_name for t in job.proto_pipeline.components.transforms.values()}
    assert {"Read/ReadFiles", "Write/WriteFiles", "MergeCounters"} <= names
    # Create's MaybeReshuffle is an identity composite (pickled, no parts) that runners drop.
    assert _leaf_urns(job.proto_pipeline) - {"beam:transform:pickled_python:v1"} <= PORTABLE_URNS


def test_dataflow_streaming_translation_of_the_batch_graph():
    # --streaming on Dataflow: the same graph (bounded file list) translates as a streaming job.
    job = _translate(["--streaming"])
    assert job.proto.type.name == "JOB_TYPE_STREAMING"
    names = {t.unique_name for t in job.proto_pipeline.components.transforms.values()}
    assert {"Read/ReadFiles", "Write/WriteFiles", "MergeCounters"} <= names


def test_dataflow_overlay_config_and_options_are_valid():
    config = load_config(ROOT / "configs" / "dataflow.yaml")
    assert config["read"]["max_bytes"] >= 1
    options = _pipeline_options([*DATAFLOW_ARGS, "--setup_file=./setup.py", "--max_num_workers=8",
                                 "--sdk_container_image=europe-docker.pkg.dev/p/newsbeam/newsbeam:0.1.0"])
    assert options.view_as(StandardOptions).runner == "DataflowRunner"
