"""The local runner's worker processes: Beam's SDK worker, tearing a finished stage down in seconds.

A Beam worker keeps each stage it ran (its bundle processor: the stage's DoFns, and the buffer each
of its outputs was encoded into, which grows to 16 MiB before it is flushed) for 60 s after the
stage's last bundle, in case more bundles of it come. On the local runner a batch stage comes once
to each worker, and the relations run a hundred short stages in the last minute of a run, so their
buffers piled up: at 30,000 bench documents (NER off, two workers) the stages a worker had finished
held 250 to 280 MiB, and the run peaked at 1,762 MiB against 1,566 with stages torn down after 5 s
(records identical; 100,000 documents with NER: 2,331 MiB against 2,782, workers at most 792 MiB against 1,234).
It costs about 3% of CPU (10,000 documents, NER off): the stages' objects are freed during the run,
where before they went with the process.
A stage given another bundle after that sets its DoFns up again (the NER stage loads its model again,
about a second); on the local runner that does not happen within a batch run.

:class:`LocalRunner` (what :func:`pipeline.runners.make_runner` gives local runs) starts its worker
processes (``--direct_running_mode=multi_processing``) as ``python -m pipeline.worker``, which does
that; its in-process workers get the same setting. Other runners manage their own workers.
"""

from __future__ import annotations

import shlex
import sys
from typing import Any

from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.runners.worker import sdk_worker, sdk_worker_main
from apache_beam.transforms.environments import SubprocessSDKEnvironment

# Seconds a worker keeps a stage after its last bundle (Beam: 60). Also how often it looks.
IDLE_SECONDS = 5


def release_idle_stages() -> None:
    """Make the Beam workers this process starts from now on tear a stage down IDLE_SECONDS after its last bundle."""
    # Read by each worker's stage cache when it starts (its check's period) and at every check.
    sdk_worker.DEFAULT_BUNDLE_PROCESSOR_CACHE_SHUTDOWN_THRESHOLD_S = IDLE_SECONDS


def command() -> str:
    """The shell command that starts one worker process of :class:`LocalRunner`."""
    return f"{shlex.quote(sys.executable)} -m pipeline.worker"


class LocalRunner(fn_runner.FnApiRunner):
    """Beam's FnApiRunner, its workers tearing finished stages down after IDLE_SECONDS (see above)."""

    def __init__(self, **kwargs: Any) -> None:
        release_idle_stages()  # the in-process workers' (in_memory, multi_threading) stage caches
        super().__init__(**kwargs)

    # FnApiRunner.run_pipeline sets the environment for multi_processing to its own command (Beam's
    # worker module) just before it starts the workers, with no option to name another.
    @property
    def _default_environment(self) -> Any:
        return self._environment

    @_default_environment.setter
    def _default_environment(self, environment: Any) -> None:
        if isinstance(environment, SubprocessSDKEnvironment):
            environment = SubprocessSDKEnvironment.from_command_string(command())
        self._environment = environment


if __name__ == "__main__":
    release_idle_stages()
    sdk_worker_main.main(sys.argv)
