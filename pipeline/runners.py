"""Choosing the runner: local runs never wait for Beam's Prism download.

Beam 2.77's ``DirectRunner`` first tries to fetch the Prism runner binary over the network, which
can hang without limit on a network that accepts the connection and never answers. newsbeam maps
the local runner names to the in-process ``FnApiRunner`` (what ``DirectRunner`` falls back to), which
honours ``--direct_num_workers`` and ``--direct_running_mode``, with its workers set up as
pipeline/worker.py says. Other runners pass through by name.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import importlib
import os
from pathlib import Path
from typing import Any, Sequence

import yaml

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.runner import PipelineRunner, create_runner

LOCAL_RUNNERS = {None, "direct", "directrunner", "fnapirunner", "switchingdirectrunner"}

# Runners that Beam's create_runner does not know by short name. DaskRunner is newsbeam's fixed
# translation (pipeline/dask_runner.py); its options (--dask_client_address and friends) are declared
# in Beam's dask module, and PipelineOptions only accepts an option once its class is imported.
_QUALIFIED_RUNNERS = {"dask": "pipeline.dask_runner.DaskRunner", "daskrunner": "pipeline.dask_runner.DaskRunner"}


def runner_name(argv: Sequence[str]) -> str | None:
    """The ``--runner`` named in Beam arguments, lower-cased, or None for the default (local) runner."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--runner")
    name = parser.parse_known_args(list(argv))[0].runner
    return name.lower() if name else None


def register_runner_options(argv: Sequence[str]) -> None:
    """Import the module declaring the chosen runner's options, so that parsing ``argv`` accepts them."""
    qualified = _QUALIFIED_RUNNERS.get(runner_name(argv) or "")
    if qualified:
        importlib.import_module(qualified.rsplit(".", 1)[0])


class CachedViewOptions(PipelineOptions):
    """Beam's ``PipelineOptions`` with each view made once: what newsbeam hands its pipelines.

    Beam asks a pipeline's options for a view (``view_as(TypeOptions)`` and others) at every transform
    it applies, and each view parses the flags again with argparse: 1,817 views took 0.69 s of the
    1.24 s that building newsbeam's graph took, in every run and test. A view keeps no values of its
    own (they live in a dict shared with the options it came from, read and written through), so the
    view made first serves every later request for its class.
    """

    def view_as(self, cls: type[Any]) -> Any:
        # PipelineOptions.__setattr__ accepts only option names, hence object.__setattr__.
        views = self.__dict__.get("_views")
        if views is None:
            views = {}
            object.__setattr__(self, "_views", views)
        if cls not in views:
            views[cls] = super().view_as(cls)
        return views[cls]


def is_local(options: PipelineOptions) -> bool:
    name = options.view_as(StandardOptions).runner
    return (name.lower() if isinstance(name, str) else name) in LOCAL_RUNNERS


# glibc's malloc starts by returning every freed block of 128 kB or more to the system (mmap), then
# raises that threshold, up to 32 MB, each time such a block is freed. The local runner frees large
# buffers (a stage's encoded input and outputs) stage after stage, so after the first few the heap
# kept them: the process's resident size stayed at the high-water mark of every stage before, and
# each stage's peak came on top of it. Pinning the thresholds at glibc's own initial values keeps
# large frees going back to the system: the relations alone on 30,000 bench records peaked at 1,269
# MiB instead of 1,561 MiB, with identical labels. Environment variables carry the same setting to
# the worker processes the runner starts (``multi_processing``); elsewhere (musl, macOS) nothing changes.
# Environment variable -> mallopt parameter (M_TRIM_THRESHOLD, M_MMAP_THRESHOLD), both pinned at 128 kB.
_MALLOC_THRESHOLDS = {"MALLOC_TRIM_THRESHOLD_": -1, "MALLOC_MMAP_THRESHOLD_": -3}
_THRESHOLD_BYTES = 128 * 1024


def release_freed_memory() -> bool:
    """Pin glibc's trim and mmap thresholds in this process and its children; False without glibc.

    A threshold the user set in the environment is left alone (glibc applied it at start).
    """
    path = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(path).mallopt if path else None
    except (OSError, AttributeError):
        mallopt = None
    pinned = mallopt is not None
    for variable, param in _MALLOC_THRESHOLDS.items():
        if variable not in os.environ:
            os.environ[variable] = str(_THRESHOLD_BYTES)
            pinned = pinned and mallopt(param, _THRESHOLD_BYTES) == 1
    return pinned


def make_runner(options: PipelineOptions) -> PipelineRunner:
    """The runner object for ``options``; local names get the FnApiRunner with the options provisioned."""
    if not is_local(options):
        name = options.view_as(StandardOptions).runner
        return create_runner(_QUALIFIED_RUNNERS.get(name.lower(), name))
    release_freed_memory()
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    from pipeline.worker import LocalRunner

    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    provision = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
    return LocalRunner(provision_info=provision)


def overlay_args(config_path: str | Path | None) -> list[str]:
    """Beam flags from a config overlay's ``pipeline_options`` mapping (command-line flags come after, so win).

    ``true`` becomes a bare ``--flag``; ``false`` and null leave the option out; lists repeat the flag.
    """
    if config_path is None:
        return []
    with open(config_path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle) or {}
    # load_config has refused a pipeline_options that is not a mapping.
    section: Any = (document.get("pipeline_options") if isinstance(document, dict) else None) or {}
    args = []
    for name, value in section.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item is True:
                args.append(f"--{name}")
            elif item is not False and item is not None:
                args.append(f"--{name}={item}")
    return args
