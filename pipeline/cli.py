"""The ``newsbeam`` command: ``newsbeam run --input GLOB --output DIR [--config FILE] [--set k=v] [Beam options]``.

``newsbeam watch`` keeps an output in sync with a landing folder (pipeline/watch.py); ``--incremental``
and ``--date`` serve scheduled batches (pipeline/manifest.py). ``run`` with Beam's ``--streaming`` on a
streaming runner (Dataflow, Flink) submits the streaming graph instead, which polls ``--input`` and
writes per-window files (pipeline/graph.py); the local runners refuse it.

Exit codes: 0 success, 2 bad command line or configuration, 1 the run failed.
"""

from __future__ import annotations

import argparse
import logging
import os
import posixpath
import sys
import time
import uuid
from typing import Any, Sequence

import threading

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions, WorkerOptions

from pipeline import __version__
from pipeline.config import config_hash, load_config
from pipeline.graph import build
from pipeline import manifest
from pipeline.manifest import LockedError
from pipeline.outputs import AccountingError, finalize, format_table
from pipeline.report import DEFAULT_DOCS, ReportError
from pipeline.report import main as write_report
from pipeline.runners import CachedViewOptions, is_local, make_runner, overlay_args, register_runner_options
from transforms.errors import ConfigError
from transforms.shard import ShardOptions, shards_for

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_LOG = logging.getLogger("newsbeam")


class UsageError(Exception):
    """A bad command line: reported in one line, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbeam",
        description="Turn raw scraped news files into clean, entity-tagged JSONL with Apache Beam.")
    parser.add_argument("--version", action="version", version=f"newsbeam {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run", help="run the pipeline once over the files matching --input",
        description="Run the pipeline once. Options not listed here are Beam pipeline options and pass "
                    "through to PipelineOptions (e.g. --runner, --direct_num_workers, --temp_location). "
                    "Local runs default to --direct_num_workers=2 --direct_running_mode=multi_processing, "
                    "or one worker in this process for an input under 2 MiB. "
                    "With --streaming on a streaming runner (Dataflow, Flink) the job polls --input every "
                    "streaming.poll_seconds and writes records, rejected entries and counters per window of "
                    "streaming.window_seconds into --output until cancelled; the local runners refuse "
                    "--streaming (use newsbeam watch).",
        epilog="Exit codes: 0 success, 2 bad command line or config, 1 the run failed.")
    run.add_argument("--input", required=True, metavar="GLOB",
                     help="files to read: a path or glob on any Beam filesystem (local, gs://, ...); "
                          ".gz is read transparently, .jsonl holds one document per line")
    run.add_argument("--output", required=True, metavar="DIR",
                     help="directory for records-*.jsonl, rejected-*.jsonl, summary.json and manifest.json "
                          "(earlier outputs there are replaced when the run succeeds)")
    run.add_argument("--config", metavar="FILE", help="YAML file overlaid on configs/default.yaml")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                     help="override one setting, e.g. --set read.max_bytes=1000000 (repeatable)")
    run.add_argument("--quiet", action="store_true", help="print only the final status line")
    run.add_argument("--date", metavar="YYYY-MM-DD",
                     help="the partition to process: replaces {date}, {year}, {month} and {day} in --input and "
                          "--output; an --output without a placeholder gets a date=YYYY-MM-DD folder")
    run.add_argument("--incremental", action="store_true",
                     help="process only files new or changed since the output's manifest.json, into a new "
                          "batch-NNNNNN folder (a rerun with nothing new does nothing)")
    watch = commands.add_parser(
        "watch", help="keep --output in sync with a landing folder, in bounded micro-batches",
        description="Poll --input every --interval seconds and run the pipeline over the files that are new or "
                    "changed since the output's manifest.json, each batch into its own batch-NNNNNN folder. "
                    "SIGINT/SIGTERM finish the current batch and stop. Beam options pass through as for run.",
        epilog="Exit codes: 0 stopped cleanly, 2 bad command line or config, 1 a batch failed.")
    watch.add_argument("--input", required=True, metavar="GLOB", help="the landing folder's files (any Beam filesystem)")
    watch.add_argument("--output", required=True, metavar="DIR", help="directory for batch-NNNNNN folders and manifest.json")
    watch.add_argument("--config", metavar="FILE", help="YAML file overlaid on configs/default.yaml")
    watch.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                       help="override one setting (repeatable)")
    watch.add_argument("--interval", type=float, default=30.0, metavar="SECONDS",
                       help="seconds between polls of --input (default 30)")
    watch.add_argument("--max-files", type=int, default=1000, metavar="N",
                       help="at most N files per batch, oldest paths first, so memory per batch is bounded (default 1000)")
    watch.add_argument("--once", action="store_true", help="process what is pending, then exit")
    watch.add_argument("--quiet", action="store_true", help="print only one status line per batch")
    report = commands.add_parser(
        "report", help="write a static HTML report of a finished run to OUT_DIR/report/index.html",
        description="Write a self-contained HTML report of a finished run: counts and charts, a searchable "
                    "document list, rejected inputs, and pages that show each sampled document's original text "
                    "with what was removed, repaired and tagged.",
        epilog="Exit codes: 0 success, 2 bad command line or not a finished run, 1 the report failed.")
    report.add_argument("out_dir", metavar="OUT_DIR", help="a finished run's --output directory (local)")
    report.add_argument("--docs", type=int, default=DEFAULT_DOCS, metavar="N",
                        help=f"write pages for a deterministic sample of N documents (default {DEFAULT_DOCS}, 0 for none)")
    report.add_argument("--doc", action="append", default=[], metavar="ID", dest="doc_ids",
                        help="also write the page of the document with this id (repeatable)")
    report.add_argument("--source-root", metavar="DIR",
                        help="directory that relative source paths are resolved from (default: the current one)")
    report.add_argument("--config", metavar="FILE", help="the run's --config, to decode sources as the run did")
    report.add_argument("--open", action="store_true", help="open the report in the default web browser")
    return parser




# Below this much input a local run defaults to one worker in this process: two worker processes each
# import Beam and spaCy and load the model again. Bench documents, NER on, one worker against two: at
# 420 kB 17.1 s against 21.4 s, at 1.6 MB 24.5 s against 27.9 s, at 3.6 MB 36.1 s against 35.0 s.
ONE_WORKER_BELOW = 2 * 2**20


def _pipeline_options(beam_args: list[str], input_bytes: int | None = None) -> PipelineOptions:
    """Beam options from the arguments newsbeam does not know, with defaults for an input of
    ``input_bytes``: a local run uses both cores, or one worker for a small input, and the relations'
    groups are split by the input's size (``--group_shards``, :func:`transforms.shard.shards_for`)."""
    register_runner_options(beam_args)
    options = CachedViewOptions(beam_args)
    # Named on the command line, whatever the value (drop_default would also drop an explicit
    # --direct_num_workers=1, which equals Beam's default).
    given = {arg[2:].split("=", 1)[0] for arg in beam_args if arg.startswith("--")}
    unknown = sorted(set(options.get_all_options(retain_unknown_options=True)) - set(options.get_all_options()))
    if unknown:
        raise UsageError(f"unknown option --{unknown[0]} (neither a newsbeam nor a Beam pipeline option)")
    shard_options = options.view_as(ShardOptions)
    if shard_options.group_shards is not None and shard_options.group_shards < 1:
        raise UsageError(f"--group_shards must be 1 or more, not {shard_options.group_shards}")
    if shard_options.group_shards is None and input_bytes is not None:
        shard_options.group_shards = shards_for(input_bytes)
    if is_local(options):
        direct = options.view_as(DirectOptions)
        if "direct_num_workers" not in given:
            direct.direct_num_workers = 1 if input_bytes is not None and input_bytes < ONE_WORKER_BELOW else 2
        if "direct_running_mode" not in given:
            direct.direct_running_mode = "in_memory" if direct.direct_num_workers == 1 else "multi_processing"
        if "default_sdk_harness_log_level" not in given:
            # Worker processes would otherwise log every bundle at INFO to the terminal.
            options.view_as(WorkerOptions).default_sdk_harness_log_level = "ERROR"
    return options


def _input_bytes(inputs: str | list[str]) -> int:
    """The total size of the files ``inputs`` (a glob or exact paths) names."""
    patterns = [inputs] if isinstance(inputs, str) else inputs
    return sum(meta.size_in_bytes for result in FileSystems.match(patterns) for meta in result.metadata_list)


def _check_input(pattern: str) -> None:
    try:
        matches = FileSystems.match([pattern])[0].metadata_list
    except Exception as error:  # noqa: BLE001 - any filesystem failure is a usage error here
        raise UsageError(f"cannot match --input {pattern!r}: {error}") from None
    if not matches:
        raise UsageError(f"--input {pattern!r} matches no files")


class _Progress:
    """Elapsed time and files on one self-erasing terminal line; silent when stderr is not a terminal.

    Beam reports no per-element progress while a local run is in flight, so the line shows the run's
    size and elapsed time, and the final status line gives documents per second.
    """

    def __init__(self, files: int, enabled: bool) -> None:
        self._files = files
        self._enabled = enabled and sys.stderr.isatty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)

    def __enter__(self) -> "_Progress":
        if self._enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._enabled:
            self._stop.set()
            self._thread.join()
            sys.stderr.write("\r\033[K")

    def _tick(self) -> None:
        started = time.time()
        while not self._stop.wait(1.0):
            sys.stderr.write(f"\rnewsbeam: {self._files} files in flight, {time.time() - started:.0f}s elapsed")
            sys.stderr.flush()


def _runner(options: PipelineOptions) -> Any:
    """The runner the options name; an unusable one is a usage error (exit 2)."""
    try:
        return make_runner(options)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _provenance(config: dict[str, Any]) -> dict[str, str]:
    """What every record is stamped with: newsbeam's version and the configuration's hash."""
    return {"version": __version__, "config_hash": config_hash(config)}


def execute(inputs: str | list[str], output: str, label: str, config: dict[str, Any],
            beam_args: list[str], progress: bool = False) -> dict[str, Any]:
    """One ordinary batch run over ``inputs`` (a glob or exact paths) into ``output``; returns the summary.

    ``beam_args`` become the run's options, with defaults for the size of this batch's input.
    """
    options = _pipeline_options(beam_args, _input_bytes(inputs))
    if options.view_as(StandardOptions).streaming:
        raise UsageError("--streaming is only for `newsbeam run` on a streaming runner; these runs are batches")
    runner = _runner(options)
    provenance = _provenance(config)
    if "://" not in output:
        os.makedirs(output, exist_ok=True)
    staging = posixpath.join(output, f".staging-{uuid.uuid4().hex[:12]}")
    started = time.time()
    files = 1 if isinstance(inputs, str) else len(inputs)
    with _Progress(files, progress and is_local(options)), beam.Pipeline(runner=runner, options=options) as root:
        build(root, inputs, staging, config, provenance)
    header = {"newsbeam": __version__, "config_hash": provenance["config_hash"], "input": label, "output": output,
              "runner": type(runner).__name__, "seconds": round(time.time() - started, 3)}
    return finalize(staging, output, header)


def status_line(summary: dict[str, Any], output: str) -> str:
    """The one-line final status a scheduler's log shows."""
    seconds = summary["seconds"]
    rate = summary["documents_in"] / seconds if seconds else 0.0
    return (f"newsbeam: ok: {summary['records']} records, {summary['rejected']} rejected, "
            f"{summary['documents_in']} documents in {seconds:.1f}s ({rate:.2f} docs/s) -> {output}")


def run_streaming(pattern: str, output: str, config: dict[str, Any], options: PipelineOptions) -> int:
    """Submit the streaming graph; the job polls ``pattern`` and writes per-window files until cancelled.

    Nothing here waits for it: the staging folder, the accounting check, summary.json and the
    manifest belong to bounded runs. Each window's counters file is that window's summary.
    """
    if is_local(options):
        raise UsageError("--streaming needs a streaming runner (--runner=DataflowRunner or FlinkRunner): Beam "
                         "2.77's local runner does not finish an unbounded run's windows (docs/runners.md); "
                         "for continuous ingestion on this machine use `newsbeam watch`")
    runner = _runner(options)
    root = beam.Pipeline(runner=runner, options=options)
    build(root, pattern, output, config, _provenance(config), streaming=True)
    result = root.run()
    settings = config["streaming"]
    print(f"newsbeam: ok: streaming job submitted to {type(runner).__name__} (state {result.state}): "
          f"{pattern!r} polled every {settings['poll_seconds']}s, {settings['window_seconds']}s windows -> {output}")
    return EXIT_OK


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    config = load_config(args.config, args.overrides)
    try:
        pattern, output = manifest.partition_paths(args.input, args.output, args.date)
    except ValueError as error:
        raise UsageError(str(error)) from None
    beam_args = [*overlay_args(args.config), *beam_args]
    options = _pipeline_options(beam_args)
    if options.view_as(StandardOptions).streaming:
        if args.incremental or args.date:
            raise UsageError("--streaming polls --input continuously; --incremental and --date are for batch runs")
        return run_streaming(pattern, output, config, options)
    _check_input(pattern)
    if "://" not in output:
        os.makedirs(output, exist_ok=True)
    with manifest.output_lock(output):
        if args.incremental:
            batch = manifest.run_incremental(pattern, output, config_hash(config), None,
                                             partial_execute(config, beam_args, not args.quiet))
            if batch is None:
                print(f"newsbeam: ok: up to date, no new or changed files in {pattern!r} -> {output}")
                return EXIT_OK
            output, summary = batch
        else:
            # The files are listed once and read by exact path, so the manifest names exactly what was read.
            files = manifest.scan(pattern, manifest.load(output)["files"])
            summary = execute(manifest.exact_patterns(files), output, pattern, config, beam_args, not args.quiet)
            state = {"version": manifest.MANIFEST_VERSION, "files": {}}
            manifest.record(output, state, files, config_hash(config), ".")
            manifest.remove_orphans(output, state)  # a full run replaces earlier incremental batches too
    if not args.quiet:
        print(format_table(summary))
    print(status_line(summary, output))
    return EXIT_OK


def partial_execute(config: dict[str, Any], beam_args: list[str], progress: bool):
    """``execute`` bound to one configuration and Beam arguments, as manifest and watch call it."""
    return lambda inputs, output, label: execute(inputs, output, label, config, beam_args, progress)


def report(args: argparse.Namespace, extra: list[str]) -> int:
    if extra:
        raise UsageError(f"report: unrecognized arguments: {' '.join(extra)}")
    if args.docs < 0:
        raise UsageError("report: --docs must be 0 or more")
    try:
        write_report(args.out_dir, args.docs, args.doc_ids, args.source_root, args.config, args.open)
    except ReportError as error:
        raise UsageError(str(error)) from None
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, beam_args = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "report":
            return report(args, beam_args)
        if args.command == "watch":
            from pipeline.watch import watch

            return watch(args, beam_args)
        return run(args, beam_args)
    except (ConfigError, UsageError) as error:
        print(f"newsbeam: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except LockedError as error:
        print(f"newsbeam: failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    except AccountingError as error:
        print(f"newsbeam: failed: accounting does not add up: {error}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:  # noqa: BLE001 - one status line for the scheduler, details in the log
        _LOG.exception("run failed")
        print(f"newsbeam: failed: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
