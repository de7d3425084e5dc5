"""The compiled ``RuleMatcher``: its API, and agreement with a naive reference."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.patterns import RuleMatcher, matches


def test_match_returns_sorted_ids_and_follows_add_replace_remove() -> None:
    matcher = RuleMatcher()
    matcher.add("zeta", {"source": ["a"]})
    matcher.add("alpha", {"source": [{"prefix": "a"}]})
    matcher.add("mid", {"type": ["t"]})
    assert len(matcher) == 3
    assert matcher.match({"source": "a", "type": "t"}) == ["alpha", "mid", "zeta"]
    matcher.add("zeta", {"source": ["b"]})
    assert matcher.match({"source": "a"}) == ["alpha"]
    matcher.remove("alpha")
    matcher.remove("unknown")
    assert len(matcher) == 2
    assert matcher.match({"source": "b"}) == ["zeta"]
    assert "mid" in matcher


def test_an_empty_matcher_matches_nothing() -> None:
    assert RuleMatcher().match({"source": "a"}) == []


def test_many_rules_sharing_a_common_value_each_check_their_own_fields() -> None:
    matcher = RuleMatcher()
    for number in range(500):
        matcher.add(f"r{number:03}", {"source": ["common"], "data": {"n": [number]}})
    matcher.add("wild", {"source": ["common"], "data": {"n": [{"numeric": [">", 497]}]}})
    assert matcher.match({"source": "common", "data": {"n": 498}}) == ["r498", "wild"]
    assert matcher.match({"source": "other", "data": {"n": 498}}) == []


# --- a naive reference: evaluate the raw JSON pattern directly ----------------------------


def ref_expand(pattern: dict[str, Any]) -> list[dict[str, Any]]:
    """Alternatives as trees {"leaves": [...], "children": {...}}, $or multiplied out."""
    trees: list[dict[str, Any]] = [{"leaves": [], "children": {}}]
    for key, value in pattern.items():
        if key == "$or":
            options = [tree for branch in value for tree in ref_expand(branch)]
        elif isinstance(value, list):
            options = [{"leaves": [], "children": {key: {"leaves": [value], "children": {}}}}]
        else:
            options = [{"leaves": [], "children": {key: t}} for t in ref_expand(value)]
        trees = [ref_merge(a, b) for a in trees for b in options]
    return trees


def ref_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    children = dict(a["children"])
    for key, child in b["children"].items():
        children[key] = ref_merge(children[key], child) if key in children else child
    return {"leaves": a["leaves"] + b["leaves"], "children": children}


def ref_flat(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        out.extend(ref_flat(item) if isinstance(item, list) else [item])
    return out


def ref_eval(tree: dict[str, Any], value: Any) -> bool:
    if isinstance(value, dict):
        scalars: list[Any] = []
    elif isinstance(value, list):
        scalars = [v for v in ref_flat(value) if not isinstance(v, dict)]
    else:
        scalars = [] if value is MISSING else [value]
    for leaf in tree["leaves"]:
        if scalars:
            if not any(ref_test(m, v) for m in leaf for v in scalars):
                return False
        elif not any(isinstance(m, dict) and m.get("exists") is False for m in leaf):
            return False
    if not tree["children"]:
        return True
    if isinstance(value, dict):
        objects = [value]
    elif isinstance(value, list):
        objects = [v for v in ref_flat(value) if isinstance(v, dict)] or [{}]
    else:
        objects = [{}]
    return any(
        all(ref_eval(child, obj.get(key, MISSING)) for key, child in tree["children"].items())
        for obj in objects
    )


MISSING = object()


def is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def ref_equal(expected: Any, v: Any) -> bool:
    if is_num(expected) or is_num(v):
        return is_num(expected) and is_num(v) and expected == v
    return type(expected) is type(v) and expected == v


def ref_wildcard(pattern: str, v: str) -> bool:
    regex = "".join(
        ".*" if part == "*" else re.escape(part.replace("\\", "", 1))
        for part in re.findall(r"\\\*|\\\\|\*|[^*\\]", pattern)
    )
    return re.fullmatch(regex, v, re.DOTALL) is not None


def ref_affix(arg: Any, v: Any, start: bool) -> bool:
    if not isinstance(v, str):
        return False
    if isinstance(arg, dict):
        arg, v = arg["equals-ignore-case"].lower(), v.lower()
    return bool(v.startswith(arg) if start else v.endswith(arg))


def ref_numeric(ops: list[Any], v: Any) -> bool:
    compare = {
        "=": lambda a, b: a == b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    pairs = zip(ops[::2], ops[1::2], strict=True)
    return is_num(v) and all(compare[op](v, bound) for op, bound in pairs)


def ref_test(m: Any, v: Any) -> bool:
    if not isinstance(m, dict):
        return ref_equal(m, v)
    ((op, arg),) = m.items()
    text = isinstance(v, str)
    if op == "exists":
        return bool(arg)
    if op == "prefix" or op == "suffix":
        return ref_affix(arg, v, op == "prefix")
    if op == "equals-ignore-case":
        return text and v.lower() == arg.lower()
    if op == "wildcard":
        return text and ref_wildcard(arg, v)
    if op == "numeric":
        return ref_numeric(arg, v)
    if op == "cidr":
        try:
            return text and ipaddress.ip_address(v) in ipaddress.ip_network(arg, strict=False)
        except (ValueError, TypeError):
            return False
    assert op == "anything-but"
    if isinstance(arg, dict):
        ((inner, x),) = arg.items()
        xs = x if isinstance(x, list) else [x]
        return not any(ref_test({inner: one}, v) for one in xs)
    xs = arg if isinstance(arg, list) else [arg]
    return not any(ref_equal(x, v) for x in xs)


# --- random patterns and events -----------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c"])
SCALARS = st.sampled_from(
    ["x", "xy", "XY", "yx", "", "a*b", "10.0.0.7", "::1", 0, 1, 2.5, -3, True, False, None]
)
MATCHERS = st.one_of(
    SCALARS,
    st.sampled_from(
        [
            {"prefix": "x"},
            {"prefix": ""},
            {"prefix": {"equals-ignore-case": "X"}},
            {"suffix": "y"},
            {"suffix": {"equals-ignore-case": "Y"}},
            {"equals-ignore-case": "xy"},
            {"wildcard": "x*"},
            {"wildcard": "*y"},
            {"wildcard": "*"},
            {"wildcard": "x*y"},
            {"wildcard": "a\\*b"},
            {"wildcard": "*x*"},
            {"numeric": [">", 0]},
            {"numeric": [">=", 0, "<", 2]},
            {"numeric": ["<=", 1]},
            {"numeric": ["=", 2.5]},
            {"numeric": [">", -5, "<=", 0]},
            {"cidr": "10.0.0.0/24"},
            {"cidr": "::/64"},
            {"exists": True},
            {"exists": False},
            {"anything-but": "x"},
            {"anything-but": [0, 1]},
            {"anything-but": ["x", "xy"]},
            {"anything-but": {"prefix": "x"}},
            {"anything-but": {"suffix": "y"}},
            {"anything-but": {"equals-ignore-case": ["XY", "q"]}},
            {"anything-but": {"wildcard": "*y"}},
        ]
    ),
)
LEAVES = st.lists(MATCHERS, min_size=1, max_size=3)


def pattern_objects(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    value: st.SearchStrategy[Any] = (
        LEAVES if depth == 0 else st.one_of(LEAVES, LEAVES, pattern_objects(depth - 1))
    )
    plain = st.dictionaries(KEYS, value, min_size=1, max_size=2)
    if depth == 0:
        return plain
    ors = st.lists(pattern_objects(depth - 1), min_size=2, max_size=2)
    return st.one_of(
        plain, plain, st.builds(lambda base, branches: {**base, "$or": branches}, plain, ors)
    )


PATTERNS = st.one_of(pattern_objects(0), pattern_objects(1), pattern_objects(2))
EVENT_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, min_size=1, max_size=3)
    ),
    max_leaves=10,
)
EVENTS = st.dictionaries(KEYS, EVENT_VALUES, min_size=2, max_size=3)


@settings(max_examples=400, deadline=None)
@given(st.lists(PATTERNS, min_size=1, max_size=8), st.lists(EVENTS, max_size=6))
def test_compiled_matcher_agrees_with_the_naive_reference(
    patterns: list[dict[str, Any]], events: list[dict[str, Any]]
) -> None:
    matcher = RuleMatcher()
    for number, pattern in enumerate(patterns):
        matcher.add(f"r{number}", pattern)
    for event in events:
        expected = [
            f"r{n}"
            for n, pattern in enumerate(patterns)
            if any(ref_eval(tree, event) for tree in ref_expand(pattern))
        ]
        assert matcher.match(event) == sorted(expected)
        for number, pattern in enumerate(patterns):
            assert matches(pattern, event) is (f"r{number}" in expected)
