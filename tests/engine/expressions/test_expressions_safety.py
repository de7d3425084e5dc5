"""The sandbox, the limits on runaway expressions, and the parse caches."""

from __future__ import annotations

import time

import pytest

from engine.expressions import (
    ExpressionError,
    ExpressionEvaluator,
    ExpressionLimitError,
    ExpressionSettings,
    evaluate,
)


@pytest.mark.parametrize(
    "expression",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ _.__class__ }}",
        "{{ task.__globals__ }}",
        "{{ task.__self__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "x {{ ''.__class__.__mro__ }}",
        "{% for c in ''.__class__.__mro__ %}{{ c }}{% endfor %}",
    ],
)
def test_sandbox_refuses_python_internals(expression: str) -> None:
    with pytest.raises(ExpressionError, match=r"unsafe|undefined|no attribute"):
        evaluate(expression, {"a": 1})


@pytest.mark.parametrize(
    "expression",
    [
        "<% range(0, 1000).select(range(0, 1000).select($ * 2).sum()).sum() %>",
        "<% list(range(0, 3000)).join(list(range(0, 3000)), true, [$1, $2]).len() %>",
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    ],
)
def test_runaway_expression_is_stopped_by_the_timeout(expression: str) -> None:
    evaluator = ExpressionEvaluator(ExpressionSettings(timeout=0.2))
    started = time.monotonic()
    with pytest.raises(ExpressionLimitError, match="time limit"):
        evaluator.evaluate(expression, {})
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "expression",
    ["<% range(0, 50).sum() %>", "<% $.items.sum() %>", "{{ range(50) | list }}"],
)
def test_iteration_limit(expression: str) -> None:
    evaluator = ExpressionEvaluator(ExpressionSettings(limit_iterators=20))
    with pytest.raises(ExpressionLimitError):
        evaluator.evaluate(expression, {"items": list(range(50))})
    assert evaluator.evaluate("<% range(0, 20).sum() %>", {}) == 190


@pytest.mark.parametrize(
    "expression",
    ["<% 'a' * 100000 %>", "{{ 'a' * 100000 }}", "{{ [1] * 100000 }}", "{{ 10 ** 1000000 }}"],
)
def test_memory_quota(expression: str) -> None:
    evaluator = ExpressionEvaluator(ExpressionSettings(memory_quota=10_000))
    started = time.monotonic()
    with pytest.raises(ExpressionLimitError):
        evaluator.evaluate(expression, {})
    assert time.monotonic() - started < 1
    assert evaluator.evaluate("{{ 'ab' * 3 }}", {}) == "ababab"


def test_unbounded_recursion_is_a_limit_error() -> None:
    with pytest.raises(ExpressionLimitError, match="RecursionError"):
        evaluate("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", {})


def test_limits_can_be_disabled() -> None:
    settings = ExpressionSettings(limit_iterators=-1, memory_quota=-1, timeout=None)
    assert ExpressionEvaluator(settings).evaluate("{{ range(200000) | length }}", {}) == 200000


@pytest.mark.parametrize(
    "bad",
    [
        {"limit_iterators": 0},
        {"memory_quota": -2},
        {"timeout": 0},
        {"cache_size": 0},
    ],
)
def test_settings_refuse_nonsense(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        ExpressionSettings(**bad)  # type: ignore[arg-type]


def test_each_expression_is_parsed_once(evaluator: ExpressionEvaluator) -> None:
    for count in range(50):
        assert evaluator.evaluate("<% $.n + 1 %>", {"n": count}) == count + 1
        assert evaluator.evaluate("{{ _.n + 1 }}", {"n": count}) == count + 1
        assert evaluator.evaluate("n={{ _.n }}", {"n": count}) == f"n={count}"
    info = evaluator.cache_info()
    assert info["yaql"].misses == 1 and info["yaql"].hits == 49
    assert info["jinja_expressions"].misses == 1
    assert info["jinja_templates"].misses == 1
    assert info["plans"].misses == 3


def test_plain_strings_skip_the_caches(evaluator: ExpressionEvaluator) -> None:
    evaluator.evaluate({"a": "plain text", "b": ["more { text }", "100%"]}, {})
    assert all(info.hits + info.misses == 0 for info in evaluator.cache_info().values())


def test_caches_are_bounded() -> None:
    evaluator = ExpressionEvaluator(ExpressionSettings(cache_size=4))
    for number in range(20):
        evaluator.evaluate(f"<% {number} %>", {})
    assert all(info.currsize <= 4 for info in evaluator.cache_info().values())


def test_context_is_not_converted_beyond_what_is_read(evaluator: ExpressionEvaluator) -> None:
    class Exploding:
        def __iter__(self) -> None:
            raise AssertionError("the unread key was converted")

    context = {"wanted": [1, 2], "unread": Exploding()}
    assert evaluator.evaluate("<% $.wanted.sum() %> {{ _.wanted }}", context) == (
        "<% $.wanted.sum() %> [1, 2]"
    )
    assert evaluator.evaluate(["<% $.wanted.sum() %>", "<% $.wanted %>"], context) == [3, [1, 2]]
