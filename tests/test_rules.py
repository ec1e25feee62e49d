import pytest

from transforms.errors import ConfigError
from transforms.rules import compile_rule


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
