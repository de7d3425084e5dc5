"""The compiled ``RuleMatcher``: its API, and agreement with a naive reference."""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Any

import pytest
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


def compiled(patterns: list[dict[str, Any]]) -> RuleMatcher:
    """A matcher holding the patterns as rules r00, r01, ..."""
    matcher = RuleMatcher()
    for number, pattern in enumerate(patterns):
        matcher.add(f"r{number:02}", pattern)
    return matcher


def reference_matches(patterns: list[dict[str, Any]], event: dict[str, Any]) -> list[str]:
    """The ids ``compiled`` gives the patterns the reference says the event matches."""
    return [
        f"r{number:02}"
        for number, pattern in enumerate(patterns)
        if any(ref_eval(tree, event) for tree in ref_expand(pattern))
    ]


# --- many rules at once: every index holds many entries of every operator ----------------

FIELD_VALUES = [
    "x",
    "xy",
    "xyz",
    "XYZ",
    "yx",
    "zy",
    "",
    "web-12-prod",
    "web-1-dev",
    "Server-7",
    "10.0.0.7",
    "10.0.0.6",
    "11.0.0.1",
    "10.2.0.1",
    "192.169.0.1",
    "10.1.2.3",
    "10.0.0.255",
    "192.168.1.1",
    "010.0.0.7",
    "2001:db8::1",
    "::1",
    0,
    1,
    2,
    2.5,
    7,
    100,
    -3,
    True,
    False,
    None,
]
MANY_MATCHERS = st.one_of(
    st.sampled_from(FIELD_VALUES),
    st.builds(lambda t: {"prefix": t}, st.sampled_from(["", "x", "xy", "web-1", "10."])),
    st.builds(lambda t: {"suffix": t}, st.sampled_from(["y", "zy", "-prod", "xyz"])),
    st.builds(
        lambda op, t: {op: {"equals-ignore-case": t}},
        st.sampled_from(["prefix", "suffix"]),
        st.sampled_from(["X", "XY", "Z", "WEB-"]),
    ),
    st.builds(lambda t: {"equals-ignore-case": t}, st.sampled_from(["xy", "XYZ", "server-7"])),
    st.builds(
        lambda t: {"wildcard": t},
        st.sampled_from(["x*", "*y", "web-1*-prod", "web-*", "*-prod", "x*z", "*y*", "10.*.3"]),
    ),
    st.builds(
        lambda low, width, inclusive: {
            "numeric": [">=" if inclusive else ">", low, "<" if inclusive else "<=", low + width]
        },
        st.sampled_from([-5, 0, 1, 2, 2.5, 7]),
        st.sampled_from([0.5, 1, 5, 100]),
        st.booleans(),
    ),
    st.builds(
        lambda op, bound: {"numeric": [op, bound]},
        st.sampled_from(["<", "<=", ">", ">=", "="]),
        st.sampled_from([0, 1, 2.5, 7, 100]),
    ),
    st.builds(
        lambda block: {"cidr": block},
        st.sampled_from(
            [
                "10.0.0.0/8",
                "10.0.0.0/24",
                "10.0.0.7/32",
                "10.1.0.0/16",
                "0.0.0.0/0",
                "192.168.0.0/16",
                "2001:db8::/32",
                "::/0",
                "::1/128",
            ]
        ),
    ),
    st.builds(lambda b: {"exists": b}, st.booleans()),
    st.builds(
        lambda excluded: {"anything-but": excluded},
        st.one_of(
            st.sampled_from(["x", "xy", 1, 7]),
            st.lists(st.sampled_from(["x", "xy", ""]), min_size=1, max_size=3),
            st.lists(st.sampled_from([0, 1, 2.5]), min_size=1, max_size=3),
            st.builds(lambda t: {"prefix": t}, st.sampled_from(["x", "web-"])),
            st.builds(lambda t: {"suffix": t}, st.sampled_from(["y", "-prod"])),
            st.builds(lambda t: {"equals-ignore-case": t}, st.sampled_from(["XY", ["X", "yx"]])),
            st.builds(lambda t: {"wildcard": t}, st.sampled_from(["x*", "*y", ["*z*", "web-*"]])),
        ),
    ),
)
MANY_PATHS = st.sampled_from([("a",), ("b",), ("c",), ("d", "e"), ("d", "f"), ("d", "g", "h")])
MANY_PATTERNS = st.lists(
    st.tuples(MANY_PATHS, st.lists(MANY_MATCHERS, min_size=1, max_size=3)),
    min_size=1,
    max_size=4,
).map(lambda fields: nest(dict(fields)))
MANY_EVENT_VALUES = st.one_of(
    st.sampled_from(FIELD_VALUES), st.lists(st.sampled_from(FIELD_VALUES), max_size=3)
)
# Arrays of objects at "d" exercise the array-consistent matching below it.
ELEMENTS = st.dictionaries(
    st.sampled_from(["e", "f", "g"]),
    st.one_of(MANY_EVENT_VALUES, st.fixed_dictionaries({"h": MANY_EVENT_VALUES})),
    max_size=3,
)
MANY_EVENTS = st.one_of(
    st.dictionaries(MANY_PATHS, MANY_EVENT_VALUES, min_size=1, max_size=6),
    st.builds(
        lambda fields, elements: {**fields, ("d",): elements},
        st.dictionaries(MANY_PATHS, MANY_EVENT_VALUES, max_size=3),
        st.lists(ELEMENTS, min_size=2, max_size=3),
    ),
).map(lambda fields: nest(fields, prefer_leaves=True))


def nest(fields: dict[tuple[str, ...], Any], prefer_leaves: bool = False) -> dict[str, Any]:
    """Paths to nested objects; a path that is a prefix of another one is dropped."""
    out: dict[str, Any] = {}
    for path, value in fields.items():
        here = out
        for key in path[:-1]:
            here = here.setdefault(key, {})
            if not isinstance(here, dict):
                break
        else:
            if path[-1] not in here or prefer_leaves:
                here.setdefault(path[-1], value)
    return out


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.tuples(st.lists(PATTERNS, min_size=1, max_size=8), st.lists(EVENTS, max_size=6)),
        st.tuples(
            st.lists(MANY_PATTERNS, min_size=20, max_size=80), st.lists(MANY_EVENTS, max_size=10)
        ),
    )
)
def test_compiled_matcher_agrees_with_the_naive_reference(
    case: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    patterns, events = case
    matcher = compiled(patterns)
    for event in events:
        expected = reference_matches(patterns, event)
        assert matcher.match(event) == expected
        for number, pattern in enumerate(patterns):
            assert matches(pattern, event) is (f"r{number:02}" in expected)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(MANY_MATCHERS, min_size=1, max_size=2), min_size=20, max_size=80),
    st.lists(MANY_EVENT_VALUES, min_size=1, max_size=10),
)
def test_many_rules_on_one_field_agree_with_the_naive_reference(
    leaves: list[list[Any]], values: list[Any]
) -> None:
    matcher = RuleMatcher()
    for number, leaf in enumerate(leaves):
        matcher.add(f"r{number:02}", {"a": leaf})
    for value in values:
        expected = [
            f"r{n:02}"
            for n, leaf in enumerate(leaves)
            if ref_eval({"leaves": [leaf], "children": {}}, value)
        ]
        assert matcher.match({"a": value}) == expected


def test_several_anything_but_in_one_field_are_alternatives() -> None:
    matcher = RuleMatcher()
    matcher.add("either", {"a": [{"anything-but": "x"}, {"anything-but": "y"}]})
    matcher.add("neither", {"a": [{"anything-but": ["x", "y"]}]})
    assert matcher.match({"a": "x"}) == ["either"]
    assert matcher.match({"a": "z"}) == ["either", "neither"]


def test_rules_sharing_one_of_several_values_are_told_apart_by_their_other_fields() -> None:
    matcher = RuleMatcher()
    for number in range(300):
        matcher.add(
            f"r{number:03}",
            {"cluster": [f"c{number % 7}", f"c{number % 11}"], "source": [f"s{number}"]},
        )
    assert matcher.match({"cluster": "c3", "source": "s157"}) == ["r157"]
    assert matcher.match({"cluster": "c5", "source": "s157"}) == []
    many = {"cluster": ["c0", "c3"], "source": ["s3", "s77", "s2"]}
    assert matcher.match(many) == ["r003", "r077"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(0, 300).map(str),
            st.sampled_from(["00", "01", "007", "0", "255", "256", "", " 1", "1 ", "+1", "\u0661"]),
        ),
        min_size=3,
        max_size=5,
    ).map(".".join)
)
def test_cidr_reads_addresses_exactly_like_the_ipaddress_module(text: str) -> None:
    blocks = ["0.0.0.0/0", "1.0.0.0/8", "10.0.0.0/8", "10.20.0.0/16", "255.255.255.255/32"]
    matcher = RuleMatcher()
    for block in blocks:
        matcher.add(block, {"ip": [{"cidr": block}]})
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        expected = []
    else:
        expected = [b for b in blocks if address in ipaddress.ip_network(b)]
    assert matcher.match({"ip": text}) == sorted(expected)


@pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan])
def test_no_numeric_range_holds_an_infinity_or_nan(number: float) -> None:
    ranges = [[">", 0], ["<", 5], [">=", -1, "<=", 1e300], ["=", 3]]
    matcher = RuleMatcher()
    for numeric in ranges:
        matcher.add(repr(numeric), {"n": [{"numeric": numeric}]})
    assert matcher.match({"n": number}) == []
    assert not any(matches({"n": [{"numeric": numeric}]}, {"n": number}) for numeric in ranges)
