"""The stage modules' start-time configuration checks, run once by :func:`pipeline.config.load_config`."""

from transforms import read

STAGE_CHECKS = (
    read.check_config,
)
