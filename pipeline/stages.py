"""The stage modules' start-time configuration checks, run once by :func:`pipeline.config.load_config`."""

from transforms import dedup, read
from transforms import boilerplate, captions, header, layout
from transforms import canonical, language
from transforms import repair

STAGE_CHECKS = (
    read.check_config,
    header.check_config, boilerplate.check_config, captions.check_config, layout.check_config,
    dedup.check_config,
    language.check_config, canonical.check_config,
    repair.check_config,
)
