"""``newsbeam watch``: keep an output in sync with a landing folder in bounded micro-batches.

Locally, an unbounded Beam pipeline is the wrong tool (measured with Beam 2.77's local runner:
nothing after a GroupByKey emits while the source runs, windowed file writes stay unfinalised, the
file watcher ignores its poll interval and memory grows ~10 MB/s even when idle). So the watcher
polls at ``--interval``, runs the files new or changed since ``manifest.json`` as one ordinary batch
(``newsbeam run --incremental``), and repeats: every batch's relations and files are final, and
memory is bounded by the batch size (``--max-files``), not by how long the watcher has run.

SIGINT/SIGTERM set a flag: the running batch finishes (its outputs and manifest entry are written
whole), then the watcher exits 0. A second signal during a batch is ignored for the same reason;
a SIGKILL mid-batch leaves only an unnamed batch folder, removed before the next batch.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from typing import Any

from pipeline import manifest
from pipeline.config import config_hash, load_config
from pipeline.runners import overlay_args



class StopFlag:
    """Set by SIGINT/SIGTERM; the loop checks it between batches and sleeps on it between polls."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name = ""

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, _frame: Any) -> None:
        self.signal_name = signal.Signals(signum).name
        self._event.set()

    @property
    def stopped(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True at once when a stop was requested."""
        return self._event.wait(seconds)


def watch(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Poll, process new files as one batch, repeat until SIGINT/SIGTERM (or once with ``--once``)."""
    from pipeline import cli  # the batch runner and option handling are the run command's

    if args.interval <= 0 or args.max_files < 1:
        raise cli.UsageError("watch: --interval must be > 0 and --max-files >= 1")
    config = load_config(args.config, args.overrides)
    digest = config_hash(config)
    # Batches run in this process by default: a terminal's Ctrl-C reaches the whole process group,
    # and worker processes would die mid-batch instead of letting the batch finish.
    beam_args = ["--direct_num_workers=1", "--direct_running_mode=in_memory", *overlay_args(args.config), *beam_args]
    cli._pipeline_options(beam_args)  # a bad option is a usage error before the first poll
    output = args.output.rstrip("/") or "/"
    if "://" not in output:
        os.makedirs(output, exist_ok=True)
    execute = cli.partial_execute(config, beam_args, not args.quiet)
    stop = StopFlag()
    stop.install()
    batches = 0
    with manifest.output_lock(output):
        print(f"newsbeam: watching {args.input!r} every {args.interval:g}s -> {output}", flush=True)
        while not stop.stopped:
            started = time.time()
            result = manifest.run_incremental(args.input, output, digest, args.max_files, execute)
            if result is not None:
                batches += 1
                batch_dir, summary = result
                print(cli.status_line(summary, batch_dir), flush=True)
                continue  # more may be pending (--max-files): poll again at once
            if args.once:
                break
            stop.wait(max(0.0, args.interval - (time.time() - started)))
    reason = f"stopped by {stop.signal_name}" if stop.signal_name else "done"
    print(f"newsbeam: ok: watch {reason} after {batches} batches -> {output}", flush=True)
    return cli.EXIT_OK
