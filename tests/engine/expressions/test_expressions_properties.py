"""Properties over wide inputs: plain text, JSON-like contexts, random expression text."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.expressions import (
    ExpressionError,
    ExpressionEvaluator,
    ExpressionSettings,
    has_expressions,
    validate_expressions,
)

# Short limits keep a randomly generated heavy expression from slowing the run down.
EVALUATOR = ExpressionEvaluator(
    ExpressionSettings(timeout=0.5, limit_iterators=1000, memory_quota=100_000)
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
plain_text = st.text().filter(lambda s: "{{" not in s and "{%" not in s and "<%" not in s)

FRAGMENTS = [
    "<%",
    "%>",
    "{{",
    "}}",
    "{%",
    "%}",
    "$",
    "$.",
    "_",
    "_.",
    ".",
    "(",
    ")",
    "[",
    "]",
    "'",
    '"',
    ",",
    " ",
    "x",
    "key",
    "1",
    "0",
    "-",
    "+",
    "*",
    "/",
    "|",
    "=>",
    "->",
    "for",
    "in",
    "if",
    "endif",
    "endfor",
    "len()",
    "task()",
    "env",
    "range(",
    "select(",
    "where(",
    "json_parse",
    "uuid()",
    "true",
    "null",
    "None",
    "\n",
    "\\",
    "#",
    "~",
    "length",
    "%",
    "::",
]
expression_text = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=3), max_size=12).map(
    "".join
)


@given(plain_text)
def test_plain_strings_come_back_unchanged(text: str) -> None:
    assert EVALUATOR.evaluate(text, {"key": 1}) is text
    assert not has_expressions(text)
    assert validate_expressions(text) == []


@given(st.dictionaries(st.text(max_size=5), plain_text | st.integers(), max_size=5))
def test_values_without_expressions_round_trip(value: dict[str, Any]) -> None:
    assert EVALUATOR.evaluate(value, {}) == value


@given(json_values)
def test_yaql_returns_context_values_natively(value: Any) -> None:
    assert EVALUATOR.evaluate("<% $.key %>", {"key": value}) == value


@given(json_values)
def test_jinja_returns_context_values_natively(value: Any) -> None:
    assert EVALUATOR.evaluate("{{ _.key }}", {"key": value}) == value
    assert EVALUATOR.evaluate("{{ key }}", {"key": value}) == value


@given(json_values, st.text(alphabet="abc ", max_size=5))
def test_interpolation_matches_python_str(value: Any, prefix: str) -> None:
    assert EVALUATOR.evaluate(prefix + "<% $.key %>!", {"key": value}) == f"{prefix}{value}!"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(expression_text, json_values)
def test_random_text_fails_only_with_expression_error(text: str, value: Any) -> None:
    try:
        EVALUATOR.evaluate({"v": [text]}, {"key": value, "x": [1, 2]})
    except ExpressionError as error:
        assert error.expression in text
        assert error.cause and error.cause in str(error)


@settings(max_examples=300)
@given(expression_text)
def test_validation_never_raises(text: str) -> None:
    errors = validate_expressions({"v": text})
    assert all(isinstance(error, str) for error in errors)
    if errors:
        assert has_expressions(text)
