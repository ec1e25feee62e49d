"""User-supplied regular expressions, compiled once and proven safe at start.

Rule packs are user-editable YAML, so a pattern may be invalid or backtrack catastrophically on
long lines. Patterns are compiled with the ``regex`` package, which supports match timeouts: at
start each pattern is run against adversarial probes under a short timeout (a pattern that blows
up is a configuration error naming its rule), and stages pass ``timeout=MATCH_SECONDS`` when
matching so a pathological document is bounded at run time too.
"""

from __future__ import annotations

import regex

from transforms.errors import ConfigError

PROBE_SECONDS = 0.2
MATCH_SECONDS = 2.0

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
        try:
            compiled.search(probe, timeout=PROBE_SECONDS)
        except TimeoutError:
            raise ConfigError(
                key, f"regular expression {pattern!r} backtracks catastrophically (over {PROBE_SECONDS}s on a "
                     f"{len(probe)}-character line); avoid nested quantifiers such as (a+)+") from None
    return compiled
