"""Dataflow: the batch and the streaming graphs translate into Dataflow jobs offline (``--dry_run=True``).

Needs the optional ``apache-beam[gcp]`` extra; no project is needed, nothing is submitted and no
Google endpoint is called. What the streaming graph computes per window is checked on the local
runner, with the poll bounded so that the run ends.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

import apitools  # noqa: F401 - requirements-test.lock installs apache-beam[gcp]; without it the tests must fail

import apache_beam as beam  # noqa: E402
from apache_beam.io import fileio  # noqa: E402
from apache_beam.options.pipeline_options import (DebugOptions, GoogleCloudOptions, SetupOptions,  # noqa: E402
                                                  StandardOptions, WorkerOptions)
from apache_beam.portability import common_urns  # noqa: E402
from apache_beam.portability.api import beam_runner_api_pb2, standard_window_fns_pb2  # noqa: E402
from apache_beam.utils.timestamp import Timestamp  # noqa: E402

from pipeline.cli import _pipeline_options, main  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.graph import build  # noqa: E402
from pipeline.runners import CachedViewOptions, make_runner, overlay_args  # noqa: E402
from tests.conftest import BoundedMatch, name_ranked_after  # noqa: E402
from transforms.document import document_id  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "gs://newsbeam-dry-run"
DATAFLOW_ARGS = ["--runner=DataflowRunner", "--project=newsbeam-dry-run", "--region=europe-west1",
                 f"--temp_location={BUCKET}/tmp", "--dry_run=True", "--no_auth"]
PORTABLE_URNS = {"beam:transform:impulse:v1", "beam:transform:pardo:v1", "beam:transform:group_by_key:v1",
                 "beam:transform:flatten:v1", "beam:transform:reshuffle:v1", "beam:transform:window_into:v1",
                 "beam:transform:combine_per_key:v1", "beam:transform:combine_grouped_values:v1"}


def _translate(extra: list[str], streaming: bool = False):
    """Translate newsbeam's graph for Dataflow without submitting it; returns the Job."""
    options = CachedViewOptions([*DATAFLOW_ARGS, *extra])
    root = beam.Pipeline(options=options)
    build(root, f"{BUCKET}/landing/*.txt", f"{BUCKET}/out/.staging-dryrun", load_config(),
          {"version": "test", "config_hash": "test"}, streaming=streaming)
    result = root.run()
    assert result.state == "DONE"
    return result.job


def _leaf_urns(pipeline_proto) -> set[str]:
    """URNs of the leaf transforms that produce a new PCollection (what a runner executes).

    Create's MaybeReshuffle of one element is an identity composite (pickled, no parts, its output
    is its input); runners count only a leaf with a new output as a primitive, and drop it.
    """
    transforms = pipeline_proto.components.transforms
    return {t.spec.urn for t in transforms.values()
            if not t.subtransforms and not set(t.outputs.values()) <= set(t.inputs.values())}


def test_dataflow_batch_graph_translates_with_dry_run():
    job = _translate([])
    assert job.proto.type.name == "JOB_TYPE_BATCH"
    names = {t.unique_name for t in job.proto_pipeline.components.transforms.values()}
    assert {"Read/ReadFiles", "Write/WriteFiles", "MergeCounters"} <= names
    assert _leaf_urns(job.proto_pipeline) <= PORTABLE_URNS


def _windowing(components, transform, which: str = "outputs"):
    """(window fn URN, is_bounded) of a transform's only input or its first output."""
    pcollection = components.pcollections[next(iter(getattr(transform, which).values()))]
    return components.windowing_strategies[pcollection.windowing_strategy_id].window_fn.urn, pcollection.is_bounded


def test_dataflow_streaming_graph_translates_with_dry_run():
    # What `newsbeam run --streaming --runner=DataflowRunner` builds: the glob polled, fixed windows, windowed files.
    job = _translate(["--streaming"], streaming=True)
    assert job.proto.type.name == "JOB_TYPE_STREAMING"
    components = job.proto_pipeline.components
    transforms = {t.unique_name: t for t in components.transforms.values()}
    assert {"Read/MatchContinuously", "Read/WindowFiles", "Read/ReadFiles", "Write/WriteFiles",
            "MergeCounters", "ResolveNameVariants/AllCounts"} <= set(transforms)
    assert "Read/MatchFiles" not in transforms
    # MatchContinuously polls with Watch, a splittable DoFn (a ParDo with a restriction coder).
    watch = next(t for name, t in transforms.items() if name.startswith("Read/MatchContinuously/Watch/ParDo"))
    assert beam_runner_api_pb2.ParDoPayload.FromString(watch.spec.payload).restriction_coder_id
    # Fixed windows of streaming.window_seconds, right after matching.
    window_into = beam_runner_api_pb2.WindowIntoPayload.FromString(transforms["Read/WindowFiles"].spec.payload)
    assert window_into.window_fn.urn == common_urns.fixed_windows.urn
    assert standard_window_fns_pb2.FixedWindowsPayload.FromString(window_into.window_fn.payload).size.seconds == \
        load_config()["streaming"]["window_seconds"]
    unbounded_fixed = (common_urns.fixed_windows.urn, beam_runner_api_pb2.IsBounded.UNBOUNDED)
    for name in ("Read/ReadFiles", "ResolveNameVariants/AllCounts", "MergeCounters"):
        assert _windowing(components, transforms[name]) == unbounded_fixed, name
    # Relations span windows: per relation, keyed state per blocking key and one cross-window forest
    # (stateful ParDos in the global window, the forest flushed by an event-time timer per window), the
    # labels put back into the documents' fixed windows; no per-window union-find.
    global_unbounded = (common_urns.global_windows.urn, beam_runner_api_pb2.IsBounded.UNBOUNDED)
    for name, relation in (("duplicates", "FindDuplicates"), ("rewrites", "FindRewrites"), ("stories", "FindStories")):
        relation = f"RelateDocuments/{relation}"
        assert f"{relation}/Clusters/UnionFind" not in transforms
        for step, state, timer in (("JoinStoredMembers", {"members"}, {f"ts-expire-{name}"}),
                                   ("ClusterAcrossWindows", {"forest", "pending", "next_flush"}, {f"ts-flush-{name}"})):
            transform = transforms[f"{relation}/Related/{step}"]
            payload = beam_runner_api_pb2.ParDoPayload.FromString(transform.spec.payload)
            assert (set(payload.state_specs), set(payload.timer_family_specs)) == (state, timer), step
            assert _windowing(components, transform, "inputs") == global_unbounded, step
        assert _windowing(components, transforms[f"{relation}/Related/ToWindows"]) == unbounded_fixed, relation
    # Every global combine is per window, without a default (which only the global window has) ...
    assert not [name for name in transforms if name.endswith("/InjectDefault")]
    # ... and the sink receives windowed, unbounded input, so it writes one set of files per window.
    assert _windowing(components, transforms["Write/WriteFiles"], "inputs") == unbounded_fixed
    assert _leaf_urns(job.proto_pipeline) <= PORTABLE_URNS


def test_dataflow_streaming_graph_relates_counts_and_writes_per_window(tmp_path, monkeypatch):
    # The streaming graph on the local runner in batch mode (Beam 2.77's local unbounded mode never
    # closes a window): BoundedMatch ends the poll and lets each file's modification time choose its window.
    monkeypatch.setattr(fileio, "MatchContinuously", BoundedMatch)
    seeds = ROOT / "seeds"
    landing = tmp_path / "landing"
    landing.mkdir()
    first, other = (next(seeds.glob(f"{n}_*.txt")).read_bytes() for n in ("000", "003"))
    no_names = ("Mild weather is expected across the region this week\n\n" + "Forecasters said on Monday that "
                "temperatures would stay above the seasonal average, with light rain in the north.\n\n" * 3)
    # Copies of a.txt (same text, same date) rank by id, which hashes the path: both copies are named so
    # that their ids sort after a.txt's, which is then the canonical.
    a_id = document_id(str(landing / "a.txt"), first.decode("utf-8"))
    a_copy, b = (name_ranked_after(landing, stem, first, a_id) for stem in ("a-copy", "b"))
    files = {"a.txt": first, a_copy: first, "other.txt": other,  # window 1
             b: first,  # window 2: a copy of a.txt, in another window
             "c.txt": no_names.encode(), "blank.txt": b" \n"}  # window 3: no person names; a rejection
    start = (int(Timestamp.now().seconds()) // 60 - 10) * 60  # ten minutes ago, a window boundary
    offsets = {"a.txt": 0, a_copy: 0, "other.txt": 0, b: 10, "c.txt": 20, "blank.txt": 20}
    for name, data in files.items():
        (landing / name).write_bytes(data)
        os.utime(landing / name, (start + offsets[name], start + offsets[name]))
    config = load_config(overrides=["streaming.window_seconds=5", "streaming.poll_seconds=1"])
    options = CachedViewOptions(["--direct_num_workers=1", "--direct_running_mode=in_memory"])
    out = tmp_path / "out"
    with beam.Pipeline(runner=make_runner(options), options=options) as root:
        build(root, str(landing / "*.txt"), str(out), config, {"version": "test", "config_hash": "test"},
              streaming=True)

    windows: dict[str, dict[str, list[dict]]] = {}
    for path in out.glob("*.jsonl"):
        prefix, window = path.name.split("-", 1)
        window = window.rsplit("-", 3)[0]  # <start>-<end>, before -SSSSS-of-NNNNN.jsonl
        lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
        windows.setdefault(window, {}).setdefault(prefix, []).extend(lines)
    assert len(windows) == 3
    first_window, second_window, third_window = (windows[key] for key in sorted(windows))
    by_name = {Path(r["source"]).name: r for w in windows.values() for r in w.get("records", [])}
    assert sorted(Path(r["source"]).name for r in first_window["records"]) == sorted(["a.txt", a_copy, "other.txt"])
    # The copy in the first window points at a.txt, the smaller id of the two.
    assert by_name["a.txt"]["id"] == a_id
    assert (by_name["a.txt"]["duplicate_of"], by_name[a_copy]["duplicate_of"]) == (None, a_id)
    # Relations span windows (transforms/dedup.py, RelateAcrossWindows): the copy in the second window,
    # ranked after a.txt, joins the first window's cluster: a.txt's duplicate and story.
    assert [Path(r["source"]).name for r in second_window["records"]] == [b]
    assert (by_name[b]["duplicate_of"], by_name[b]["story_id"]) == (a_id, by_name["a.txt"]["story_id"])
    # A window without person names gets an empty variant map (the side input's default).
    assert [Path(r["source"]).name for r in third_window["records"]] == ["c.txt"]
    assert not [e for e in by_name["c.txt"]["entities"] if e["label"] == "PERSON"]
    assert [(Path(r["source"]).name, r["reason"]) for r in third_window["rejected"]] == [("blank.txt", "empty")]
    # One counters line per window, each window's accounting balanced.
    counters = [w["counters"] for w in (first_window, second_window, third_window)]
    assert [(c[0]["documents_in"], c[0]["records"], c[0].get("rejected", 0)) for c in counters] == \
        [(3, 3, 0), (1, 1, 0), (2, 1, 1)]


def test_dataflow_batch_graph_keeps_its_global_defaults():
    # The bounded graph is unchanged: global window, and global combines with their default output.
    job = _translate([])
    components = job.proto_pipeline.components
    transforms = {t.unique_name: t for t in components.transforms.values()}
    assert "Read/MatchContinuously" not in transforms and "Read/WindowFiles" not in transforms
    defaults = {name.removesuffix("/InjectDefault") for name in transforms if name.endswith("/InjectDefault")}
    assert defaults == {"MergeCounters", "MergeRead", "MergeReadRejected", "MergeRecords", "MergeRejected",
                        "ResolveNameVariants/AllCounts/AllCounts",
                        *(f"RelateDocuments/{relation}/Clusters/UnionFind"
                          for relation in ("FindDuplicates", "FindRewrites", "FindStories"))}
    global_bounded = (common_urns.global_windows.urn, beam_runner_api_pb2.IsBounded.BOUNDED)
    assert _windowing(components, transforms["Write/WriteFiles"], "inputs") == global_bounded


def test_dataflow_cli_run_streaming_submits_the_streaming_graph(capsys):
    # `newsbeam run --streaming` on a remote runner: no local input check, staging or summary; submitted
    # (here a dry run) and not waited for.
    code = main(["run", "--input", f"{BUCKET}/landing/*", "--output", f"{BUCKET}/newsbeam", *DATAFLOW_ARGS,
                 "--streaming", "--quiet"])
    assert code == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("newsbeam: ok: streaming job submitted to DataflowRunner (state DONE)")
    assert out[-1].endswith(f"-> {BUCKET}/newsbeam")


def test_dataflow_overlay_config_and_options_are_valid():
    overlay = ROOT / "configs" / "dataflow.yaml"
    # Stage settings are the defaults (records equal a local run's); the overlay sets Beam options only.
    assert load_config(overlay) == load_config()
    # The options a `newsbeam run --config configs/dataflow.yaml` builds: the overlay's flags, then the
    # command line's (here the job's location, not the runner: that comes from the overlay).
    command_line = [arg for arg in DATAFLOW_ARGS if not arg.startswith("--runner=")]
    options = _pipeline_options([*overlay_args(overlay), *command_line])
    assert options.view_as(StandardOptions).runner == "DataflowRunner"
    setup = options.view_as(SetupOptions)
    assert (setup.setup_file, setup.requirements_file) == ("./setup.py", "./requirements.lock")
    assert options.view_as(DebugOptions).experiments == ["use_runner_v2"]
    workers = options.view_as(WorkerOptions)
    assert (workers.machine_type, workers.max_num_workers, workers.autoscaling_algorithm) == \
        ("e2-standard-4", 20, "THROUGHPUT_BASED")
    assert options.view_as(GoogleCloudOptions).region == "europe-west1"
    # A flag on the command line wins over the overlay's.
    options = _pipeline_options([*overlay_args(overlay), *command_line, "--max_num_workers=8"])
    assert options.view_as(WorkerOptions).max_num_workers == 8
