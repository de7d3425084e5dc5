"""Correlation rules: ``correlate`` with named patterns, ``when``, ``window`` and ``key``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.definitions import DefinitionError, Rule, load_definitions
from schemas.definitions.correlation import WhenError, parse_when
from squall.definitions import check_references

HEAD = "version: '2.0'\nname: wb\nrules:\n  host_down:\n    workflow: remediate\n"
TWO = "patterns: {unreachable: {type: [ping.lost]}, cpu: {type: [cpu.high]}}"


def issues(body: str) -> list[tuple[int, str, str]]:
    with pytest.raises(DefinitionError) as caught:
        load_definitions(HEAD + body)
    return [(i.line, i.path, i.message) for i in caught.value.issues]


def test_a_correlation_rule_loads_with_its_defaults() -> None:
    rule = load_definitions(
        HEAD + f"    correlate: {{{TWO}, window: 300, key: '<% $.subject %>'}}\n"
    ).rules["host_down"]
    assert rule.pattern is None and rule.correlate is not None
    assert (rule.correlate.window, rule.correlate.key) == (300, "<% $.subject %>")
    # Without `when`, every pattern is needed.
    assert not rule.correlate.holds({"cpu"})
    assert rule.correlate.holds({"cpu", "unreachable"})
    assert rule.correlate.missing({"cpu"}) == ["unreachable"]
    assert list(rule.event_patterns()) == [
        "correlate.patterns.unreachable",
        "correlate.patterns.cpu",
    ]


def test_a_stored_correlation_rule_validates_again() -> None:
    rule = load_definitions(
        HEAD + f"    correlate: {{{TWO}, window: 60, when: unreachable or cpu}}\n"
    ).rules["host_down"]
    again = Rule.model_validate(rule.model_dump(mode="json", by_alias=True))
    assert again == rule and again.correlate is not None and again.correlate.holds({"cpu"})


@pytest.mark.parametrize(
    ("body", "line", "path", "message"),
    [
        (
            f"    correlate: {{{TWO}, window: 5, when: unreachable and disk}}\n",
            6,
            "rules.host_down.correlate.when",
            "'when' names 'disk', not among the patterns ('cpu', 'unreachable')",
        ),
        (
            f"    correlate: {{{TWO}, window: 5, when: (unreachable and cpu}}\n",
            6,
            "rules.host_down.correlate.when",
            "invalid 'when' '(unreachable and cpu': '(' at column 1 is never closed",
        ),
        (
            f"    correlate: {{{TWO}, window: 5, when: unreachable and or cpu}}\n",
            6,
            "rules.host_down.correlate.when",
            "invalid 'when' 'unreachable and or cpu': expected a pattern name or '(' "
            "at column 17, got 'or'",
        ),
        (
            f"    correlate: {{{TWO}, window: 5, when: 'unreachable && cpu'}}\n",
            6,
            "rules.host_down.correlate.when",
            "invalid 'when' 'unreachable && cpu': unexpected '&' at column 13",
        ),
        (
            f"    correlate: {{{TWO}, window: 5, when: unreachable}}\n",
            6,
            "rules.host_down.correlate.when",
            "'when' never uses pattern 'cpu', so it could not matter",
        ),
        (
            "    correlate: {patterns: {cpu: {type: [cpu.high]}}, window: 5}\n",
            6,
            "rules.host_down.correlate.patterns",
            "expected at least 2 named patterns, got 1 (use 'pattern' for one)",
        ),
        (
            "    correlate: {patterns: {a: {type: [x]}, and: {type: [y]}}, window: 5}\n",
            6,
            "rules.host_down.correlate.patterns",
            "pattern name 'and' may only hold letters, digits, '_' and '-', start with a "
            "letter or '_', and not be 'and' or 'or'",
        ),
        (
            "    correlate: {patterns: {a: {type: [x]}, b: {}}, window: 5}\n",
            6,
            "rules.host_down.correlate.patterns.b",
            "expected a non-empty mapping, got {}",
        ),
        (
            f"    correlate: {{{TWO}, window: 0}}\n",
            6,
            "rules.host_down.correlate.window",
            "expected a number > 0.0, got 0",
        ),
        (
            f"    correlate: {{{TWO}, window: -3}}\n",
            6,
            "rules.host_down.correlate.window",
            "expected a number > 0.0, got -3",
        ),
        (
            f"    correlate: {{{TWO}}}\n",
            6,
            "rules.host_down.correlate.window",
            "missing required keyword 'window'",
        ),
        (
            f"    pattern: {{type: [x]}}\n    correlate: {{{TWO}, window: 5}}\n",
            5,
            "rules.host_down",
            "expected exactly one of 'pattern' or 'correlate', got pattern, correlate",
        ),
        (
            "    description: waits for nothing\n",
            5,
            "rules.host_down",
            "expected exactly one of 'pattern' or 'correlate', got none",
        ),
    ],
)
def test_invalid_correlations_are_reported_at_their_path(
    body: str, line: int, path: str, message: str
) -> None:
    assert issues(body) == [(line, path, message)]


def test_an_invalid_named_pattern_is_reported_at_its_path() -> None:
    defs = load_definitions(
        HEAD + "    correlate: {patterns: {a: {type: [x]}, b: {type: x}}, window: 5}\n"
    )
    (issue,) = check_references(defs, "f.yaml")
    assert issue.path.startswith("rules.host_down.correlate.patterns.b.type")


# Random `when` trees over a few names: the parsed form must agree with the tree's truth.
NAMES = ["a", "b", "c", "d"]
Tree = Any
trees: st.SearchStrategy[Tree] = st.recursive(
    st.sampled_from(NAMES),
    lambda inner: st.tuples(st.sampled_from(["and", "or"]), inner, inner),
    max_leaves=8,
)


def _text(tree: Tree) -> str:
    if isinstance(tree, str):
        return tree
    op, left, right = tree
    return f"({_text(left)} {op} {_text(right)})"


def _truth(tree: Tree, present: set[str]) -> bool:
    if isinstance(tree, str):
        return tree in present
    op, left, right = tree
    if op == "and":
        return _truth(left, present) and _truth(right, present)
    return _truth(left, present) or _truth(right, present)


@given(trees, st.sets(st.sampled_from(NAMES)))
def test_parsed_when_agrees_with_the_expression(tree: Tree, present: set[str]) -> None:
    clauses = parse_when(_text(tree))
    assert any(c <= present for c in clauses) == _truth(tree, present)


@given(st.text(alphabet="ab ()&|-_orand", max_size=20))
def test_parsing_any_text_either_succeeds_or_says_why(text: str) -> None:
    try:
        clauses = parse_when(text)
    except WhenError as exc:
        assert str(exc)
    else:
        assert clauses and all(clauses)


def test_and_binds_tighter_than_or() -> None:
    assert set(parse_when("a or b and c")) == {frozenset("a"), frozenset("bc")}
    assert set(parse_when("(a or b)and(c)")) == {frozenset("ac"), frozenset("bc")}


def test_the_definitions_example_correlates_two_alerts() -> None:
    path = Path(__file__).parents[3] / "examples" / "definitions" / "squall_definitions.yaml"
    defs = load_definitions(path.read_text(), str(path))
    assert check_references(defs, path.name) == []
    correlate = defs.rules["cluster_degraded"].correlate
    assert correlate is not None and correlate.missing({"cpu"}) == ["latency"]
