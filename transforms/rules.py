"""User-supplied regular expressions, compiled once and proven safe at start.

Rule packs are user-editable YAML, so a pattern may be invalid or backtrack catastrophically on
long lines. Patterns are compiled with the ``regex`` package, which supports match timeouts: at
start each pattern is run against adversarial probes under a short timeout (a pattern that blows
up is a configuration error naming its rule), and stages pass ``timeout=MATCH_SECONDS`` when
matching so a pathological document is bounded at run time too. The few rules scanned over every
text, where ``regex`` costs most, are proven the same way and then matched with ``re``, without a
timeout (:func:`compile_scan_rule`).
"""

from __future__ import annotations

import re
import time

import regex

from transforms.errors import ConfigError

PROBE_SECONDS = 0.2
MATCH_SECONDS = 2.0
# Distinct lines whose verdicts a stage remembers per worker (functools.lru_cache): a site prints
# the same menus and footers on every page and wire copies share whole paragraphs, so most lines
# were seen before (nine in ten on the bench corpus, where the cleaning stages' caches hold 35 MB
# when full; the size follows the length of the lines).
LINE_CACHE = 2**14

# Inputs that make nested or overlapping quantifiers explode: long runs of one class ending in a
# character that forces every alternative to be retried.
_PROBES = tuple(
    body * 25_000 + tail
    for body, tail in (("a", "!"), ("a ", "!"), (" ", "x"), ("1", "a"), ("ab", "\n"), ("A", "0"), (".", "x"))
)


def compile_rule(pattern: str, key: str, flags: int = 0) -> regex.Pattern:
    """Compile ``pattern`` or raise :class:`ConfigError` naming ``key`` (the rule's config path or id)."""
    try:
        compiled = regex.compile(pattern, flags | regex.VERSION0)
    except (regex.error, TypeError) as error:
        raise ConfigError(key, f"invalid regular expression {pattern!r}: {error}") from None
    for probe in _PROBES:
        if _too_slow(compiled, probe):
            raise ConfigError(
                key, f"regular expression {pattern!r} backtracks catastrophically (over {PROBE_SECONDS}s on a "
                     f"{len(probe)}-character line); avoid nested quantifiers such as (a+)+")
    return compiled


def compile_scan_rule(pattern: str, key: str) -> re.Pattern[str]:
    """``pattern`` proven safe as :func:`compile_rule` proves it, then compiled with the standard
    library's ``re``, which has no timeout: for a rule scanned over every text, where ``regex`` was
    five times slower (the repair stage's mojibake scan: 84 against 430 µs a bench page with a
    timeout). The probes run on ``regex``, a backtracking engine like ``re``: a pattern that explodes
    in one explodes in the other, but only ``regex``'s time is measured."""
    compile_rule(pattern, key)
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ConfigError(key, f"invalid regular expression {pattern!r} for Python's re: {error}") from None


def _too_slow(compiled: regex.Pattern, probe: str) -> bool:
    """Whether searching ``probe`` costs more than PROBE_SECONDS of CPU time.

    The regex timeout counts wall time, which a loaded machine stretches for any pattern: one that
    times out is tried again with ten times the time and judged by the CPU time it really used
    (a catastrophic pattern runs out of that time too)."""
    try:
        compiled.search(probe, timeout=PROBE_SECONDS)
        return False
    except TimeoutError:
        pass
    started = time.thread_time()
    try:
        compiled.search(probe, timeout=PROBE_SECONDS * 10)
    except TimeoutError:
        return True
    return time.thread_time() - started > PROBE_SECONDS
