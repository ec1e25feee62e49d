"""The ``newsbeam`` command: ``newsbeam run --input GLOB --output DIR [--config FILE] [--set k=v] [Beam options]``.

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

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, WorkerOptions

from pipeline import __version__
from pipeline.config import config_hash, load_config
from pipeline.graph import build
from pipeline.outputs import AccountingError, finalize, format_table
from pipeline.runners import is_local, make_runner, register_runner_options
from transforms.errors import ConfigError

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
                    "Local runs default to --direct_num_workers=2 --direct_running_mode=multi_processing.",
        epilog="Exit codes: 0 success, 2 bad command line or config, 1 the run failed.")
    run.add_argument("--input", required=True, metavar="GLOB",
                     help="files to read: a path or glob on any Beam filesystem (local, gs://, ...); "
                          ".gz is read transparently, .jsonl holds one document per line")
    run.add_argument("--output", required=True, metavar="DIR",
                     help="directory for records-*.jsonl, rejected-*.jsonl and summary.json "
                          "(earlier outputs there are replaced when the run succeeds)")
    run.add_argument("--config", metavar="FILE", help="YAML file overlaid on configs/default.yaml")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                     help="override one setting, e.g. --set read.max_bytes=1000000 (repeatable)")
    run.add_argument("--quiet", action="store_true", help="print only the final status line")
    return parser




def _pipeline_options(beam_args: list[str]) -> PipelineOptions:
    """Beam options from the arguments newsbeam does not know; local runs default to both cores."""
    register_runner_options(beam_args)
    options = PipelineOptions(beam_args)
    given = options.get_all_options(drop_default=True)
    unknown = sorted(set(options.get_all_options(retain_unknown_options=True)) - set(options.get_all_options()))
    if unknown:
        raise UsageError(f"unknown option --{unknown[0]} (neither a newsbeam nor a Beam pipeline option)")
    if is_local(options):
        defaults = {"direct_num_workers": 2, "direct_running_mode": "multi_processing",
                    # Worker processes would otherwise log every bundle at INFO to the terminal.
                    "default_sdk_harness_log_level": "ERROR"}
        for name, value in defaults.items():
            if name not in given:
                setattr(options.view_as(DirectOptions if name.startswith("direct") else WorkerOptions), name, value)
    return options


def _check_input(pattern: str) -> None:
    try:
        matches = FileSystems.match([pattern])[0].metadata_list
    except Exception as error:  # noqa: BLE001 - any filesystem failure is a usage error here
        raise UsageError(f"cannot match --input {pattern!r}: {error}") from None
    if not matches:
        raise UsageError(f"--input {pattern!r} matches no files")


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    config = load_config(args.config, args.overrides)
    _check_input(args.input)
    options = _pipeline_options(beam_args)
    try:
        runner = make_runner(options)
    except ValueError as error:
        raise UsageError(str(error)) from None
    digest = config_hash(config)
    output = args.output.rstrip("/") or "/"
    if "://" not in output:
        os.makedirs(output, exist_ok=True)
    staging = posixpath.join(output, f".staging-{uuid.uuid4().hex[:12]}")
    started = time.time()
    with beam.Pipeline(runner=runner, options=options) as root:
        build(root, args.input, staging, config, {"version": __version__, "config_hash": digest})
    header = {"newsbeam": __version__, "config_hash": digest, "input": args.input, "output": output,
              "runner": type(runner).__name__, "seconds": round(time.time() - started, 3)}
    summary = finalize(staging, output, header)
    if not args.quiet:
        print(format_table(summary))
    print(f"newsbeam: ok: {summary['records']} records, {summary['rejected']} rejected, "
          f"{summary['documents_in']} documents in {header['seconds']:.1f}s -> {output}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, beam_args = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return run(args, beam_args)
    except (ConfigError, UsageError) as error:
        print(f"newsbeam: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except AccountingError as error:
        print(f"newsbeam: failed: accounting does not add up: {error}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:  # noqa: BLE001 - one status line for the scheduler, details in the log
        _LOG.exception("run failed")
        print(f"newsbeam: failed: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
