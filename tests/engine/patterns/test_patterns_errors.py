"""Invalid patterns are refused with the path of the fault and what was expected."""

from __future__ import annotations

from typing import Any

import pytest

from engine.patterns import PatternError, RuleMatcher, validate_pattern


@pytest.mark.parametrize(
    ("pattern", "path", "reason_part"),
    [
        ([], "", "an object"),
        ({}, "", "at least one field"),
        ({"source": "aws.ec2"}, "source", "an array of matchers or a nested object"),
        ({"source": []}, "source", "at least one matcher"),
        ({"data": {}}, "data", "at least one field"),
        ({"source": [["nested"]]}, "source[0]", "operator object"),
        (
            {"data": {"labels": {"severity": ["x", {"numeric": [">", "a"]}]}}},
            "data.labels.severity[1].numeric[1]",
            "finite number",
        ),
        ({"n": [{"numeric": ">5"}]}, "n[0].numeric", "an array like"),
        ({"n": [{"numeric": ["<", 5, ">", 0]}]}, "n[0].numeric[0]", "'>', '>='"),
        ({"n": [{"numeric": [">", 5, "<", 1]}]}, "n[0].numeric", "below the upper"),
        ({"n": [{"numeric": [">", 0, ">", 1]}]}, "n[0].numeric[2]", "'<' or '<='"),
        ({"n": [{"numeric": ["=", 1, "<", 2]}]}, "n[0].numeric[0]", "alone"),
        ({"n": [{"numeric": [">", True]}]}, "n[0].numeric[1]", "got a boolean"),
        ({"s": [{"prefix": 5}]}, "s[0].prefix", "a string"),
        ({"s": [{"prefix": {"ignore": "x"}}]}, "s[0].prefix", "equals-ignore-case"),
        ({"s": [{"suffix": None}]}, "s[0].suffix", "got null"),
        ({"s": [{"prefix": "a", "suffix": "b"}]}, "s[0]", "exactly one operator"),
        ({"s": [{"contains": "a"}]}, "s[0]", "'contains'"),
        ({"s": [{"equals-ignore-case": ["a"]}]}, "s[0].equals-ignore-case", "a string"),
        ({"s": [{"exists": "yes"}]}, "s[0].exists", "true or false"),
        ({"s": [{"wildcard": "a**b"}]}, "s[0].wildcard", "consecutive"),
        ({"s": [{"wildcard": "a\\b"}]}, "s[0].wildcard", "backslash"),
        ({"s": [{"cidr": "10.0.0.1"}]}, "s[0].cidr", "prefix-length"),
        ({"s": [{"cidr": "10.0.0.0/33"}]}, "s[0].cidr", "CIDR block"),
        ({"s": [{"anything-but": ["a", 1]}]}, "s[0].anything-but[1]", "not a mix"),
        ({"s": [{"anything-but": []}]}, "s[0].anything-but", "non-empty array"),
        ({"s": [{"anything-but": None}]}, "s[0].anything-but", "got null"),
        ({"s": [{"anything-but": [True]}]}, "s[0].anything-but[0]", "a string or a number"),
        ({"s": [{"anything-but": {"prefix": ""}}]}, "s[0].anything-but.prefix", "non-empty"),
        ({"s": [{"anything-but": {"numeric": [">", 1]}}]}, "s[0].anything-but", "prefix, suffix"),
        ({"s": [{"anything-but": {"wildcard": ["a**"]}}]}, "s[0].anything-but.wildcard", "'*'"),
        ({"$or": [{"a": ["1"]}]}, "$or", "at least two patterns"),
        ({"$or": {"a": ["1"]}}, "$or", "at least two patterns"),
        ({"$or": [{"a": ["1"]}, "b"]}, "$or[1]", "an object"),
        ({"d": {"$or": [{"a": ["1"]}, {"b": {"c": "x"}}]}}, "d.$or[1].b.c", "an array"),
        ({"n": [float("nan")]}, "n[0]", "finite number"),
    ],
)
def test_invalid_patterns_name_the_path(pattern: Any, path: str, reason_part: str) -> None:
    with pytest.raises(PatternError) as caught:
        validate_pattern(pattern)
    assert caught.value.path == path
    assert reason_part in caught.value.reason
    assert str(caught.value).endswith(caught.value.reason)
    assert isinstance(caught.value, ValueError)


def test_too_many_or_alternatives_are_refused() -> None:
    branches = [{"a": ["1"]}, {"b": ["2"]}, {"c": ["3"]}, {"d": ["4"]}]
    pattern = {f"f{i}": {"$or": branches} for i in range(6)}
    with pytest.raises(PatternError, match="more than 1024 alternatives"):
        validate_pattern(pattern)


def test_a_refused_rule_leaves_the_matcher_unchanged() -> None:
    matcher = RuleMatcher()
    matcher.add("r", {"source": ["a"]})
    with pytest.raises(PatternError):
        matcher.add("r", {"source": "a"})
    assert matcher.match({"source": "a"}) == ["r"]
    assert len(matcher) == 1


@pytest.mark.parametrize(
    "pattern",
    [
        {"source": ["a", 1, 2.5, True, None, ""]},
        {"n": [{"numeric": ["=", 0]}, {"numeric": ["<=", -1]}, {"numeric": [">=", 1, "<=", 2]}]},
        {"s": [{"anything-but": {"equals-ignore-case": "x"}}, {"anything-but": 5}]},
        {"s": [{"wildcard": "a\\*\\\\*"}, {"cidr": "::1/128"}, {"exists": True}]},
    ],
)
def test_valid_patterns_pass(pattern: dict[str, Any]) -> None:
    validate_pattern(pattern)
