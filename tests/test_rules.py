import re

import pytest

from transforms.errors import ConfigError
from transforms import rules
from transforms.rules import compile_rule, compile_scan_rule


@pytest.mark.parametrize("pattern, line", [
    (r"^Share this:?$", "Share this:"),
    (r"\((?:AP|AFP) Photo/[^)]+\)$", "Crowds gather in Kyiv. (AP Photo/Efrem Lukatsky)"),
    (r"(?i)^read more\b", "READ MORE: Putin meets Xi"),
])
def test_rules_compile_ordinary_patterns(pattern, line):
    assert compile_rule(pattern, "boilerplate.share").search(line) is not None


@pytest.mark.parametrize("pattern, fragment", [
    (r"(unclosed", "invalid regular expression"),
    (r"^(a+)+$", "backtracks catastrophically"),
    (r"^(\w+\s?)*$", "backtracks catastrophically"),
])
def test_rules_refuse_invalid_or_catastrophic_patterns_naming_the_rule(pattern, fragment):
    with pytest.raises(ConfigError) as error:
        compile_rule(pattern, "boilerplate.rules.my_rule")
    assert error.value.key == "boilerplate.rules.my_rule"
    assert fragment in str(error.value)


def test_rules_scan_rules_are_proven_as_others_and_match_with_re():
    suspect = compile_scan_rule(r"\ufffd|â\?\?", "repair.rules_file:encoding.suspect")
    assert isinstance(suspect, re.Pattern)
    assert suspect.search("The minister said â??we will respondâ?? on Monday.").group() == "â??"
    assert suspect.search("The minister said “we will respond” on Monday.") is None
    with pytest.raises(ConfigError, match="backtracks catastrophically"):
        compile_scan_rule(r"^(\w+\s?)*$", "repair.rules_file:encoding.suspect")
    # regex's syntax that re lacks is refused at start, naming the rule, not when the first text is scanned.
    with pytest.raises(ConfigError) as error:
        compile_scan_rule(r"\p{Lu}\p{Ll}+", "repair.rules_file:protected.names")
    assert error.value.key == "repair.rules_file:protected.names"


class _Stalled:
    """A pattern whose first search times out (the process was descheduled), then runs at once."""

    def __init__(self, stalls: int) -> None:
        self.stalls = stalls

    def search(self, text: str, timeout: float):
        if self.stalls:
            self.stalls -= 1
            raise TimeoutError("regex timed out")
        return None


@pytest.mark.parametrize("stalls, too_slow", [(0, False), (1, False), (2, True)])
def test_rules_probe_judges_a_timeout_by_cpu_time_not_a_stretched_wall_clock(stalls, too_slow):
    # A loaded machine can stretch any search past the wall-clock timeout once; only a pattern that
    # also runs out of ten times the time is catastrophic.
    assert rules._too_slow(_Stalled(stalls), "a" * 100) is too_slow
