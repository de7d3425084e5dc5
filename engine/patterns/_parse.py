"""Checking an event pattern and turning it into matcher trees.

A pattern is a JSON object whose values are either nested objects or arrays of
matchers (the leaves); ``$or`` holds an array of at least two sub-patterns. Parsing
expands every ``$or`` into alternatives, as EventBridge does, so each alternative is
a plain tree of AND-ed fields: the rule matches when any alternative does.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.patterns._errors import PatternError
from engine.patterns._matchers import (
    AnythingBut,
    Cidr,
    Equals,
    EqualsIgnoreCase,
    Exists,
    LeafRule,
    Matcher,
    Numeric,
    Prefix,
    Suffix,
    Wildcard,
)

MAX_ALTERNATIVES = 1024
"""How many alternatives the ``$or`` clauses of one pattern may expand to."""

OR_KEY = "$or"


@dataclass
class Node:
    """One object level of an alternative: leaf rules here, sub-objects below."""

    leaves: list[LeafRule] = field(default_factory=list)
    children: dict[str, Node] = field(default_factory=dict)

    def merged(self, other: Node) -> Node:
        """Both nodes' conditions AND-ed together, as a new node."""
        children = dict(self.children)
        for key, child in other.children.items():
            mine = children.get(key)
            children[key] = child if mine is None else mine.merged(child)
        return Node(self.leaves + other.leaves, children)

    def fields(self, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], LeafRule]]:
        """Every leaf rule under this node with its field path."""
        found = [(prefix, leaf) for leaf in self.leaves]
        for key, child in self.children.items():
            found.extend(child.fields((*prefix, key)))
        return found


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"a {type(value).__name__}"


def _fail(path: str, expected: str, got: Any) -> PatternError:
    return PatternError(path, f"expected {expected}, got {_describe(got)}")


def _string(value: Any, path: str, what: str = "a string") -> str:
    if not isinstance(value, str):
        raise _fail(path, what, value)
    return value


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(path, "a finite number", value)
    return value


def parse_pattern(pattern: Any) -> list[Node]:
    """Validate a whole pattern and return its alternatives (at least one)."""
    return _parse_object(pattern, "")


def _parse_object(obj: Any, path: str) -> list[Node]:
    if not isinstance(obj, Mapping):
        raise _fail(path, "an object of fields", obj)
    if not obj:
        raise PatternError(path, "expected an object with at least one field, got an empty object")
    alternatives = [Node()]
    for key, value in obj.items():
        if not isinstance(key, str):
            raise _fail(path, "string field names", key)
        here = _join(path, key)
        if key == OR_KEY:
            options = _parse_or(value, here)
        elif isinstance(value, list | tuple):
            options = [Node(children={key: Node(leaves=[_parse_leaf(value, here)])})]
        elif isinstance(value, Mapping):
            options = [Node(children={key: child}) for child in _parse_object(value, here)]
        else:
            raise _fail(here, "an array of matchers or a nested object", value)
        if len(alternatives) * len(options) > MAX_ALTERNATIVES:
            raise PatternError(here, f"$or expands to more than {MAX_ALTERNATIVES} alternatives")
        alternatives = [mine.merged(option) for mine in alternatives for option in options]
    return alternatives


def _parse_or(value: Any, path: str) -> list[Node]:
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise _fail(path, "an array of at least two patterns", value)
    options: list[Node] = []
    for index, branch in enumerate(value):
        options.extend(_parse_object(branch, f"{path}[{index}]"))
    return options


def _parse_leaf(items: list[Any] | tuple[Any, ...], path: str) -> LeafRule:
    if not items:
        raise PatternError(path, "expected an array with at least one matcher, got an empty array")
    matchers: list[Matcher] = []
    accepts_absence = False
    for index, item in enumerate(items):
        here = f"{path}[{index}]"
        if isinstance(item, Mapping):
            matcher = _parse_operator(item, here)
            if matcher is None:
                accepts_absence = True
            else:
                matchers.append(matcher)
        elif item is None or isinstance(item, str | bool):
            matchers.append(Equals(item))
        elif isinstance(item, int | float):
            matchers.append(Equals(_number(item, here)))
        else:
            raise _fail(here, "a string, number, boolean, null or operator object", item)
    return LeafRule(tuple(matchers), accepts_absence)


def _parse_operator(item: Mapping[str, Any], path: str) -> Matcher | None:
    """One ``{"operator": argument}`` object; None stands for ``{"exists": false}``."""
    if len(item) != 1:
        raise PatternError(path, f"expected an object with exactly one operator, got {len(item)}")
    ((name, arg),) = item.items()
    here = _join(path, str(name))
    parser = _OPERATORS.get(name)
    if parser is None:
        known = ", ".join(sorted(_OPERATORS))
        raise PatternError(path, f"expected one of the operators {known}, got {name!r}")
    return parser(arg, here)


def _parse_text_or_ignore_case(arg: Any, path: str) -> tuple[str, bool]:
    """The argument of prefix/suffix: a string or ``{"equals-ignore-case": string}``."""
    if isinstance(arg, Mapping):
        if len(arg) != 1 or "equals-ignore-case" not in arg:
            raise PatternError(path, 'expected a string or {"equals-ignore-case": string}')
        return _string(arg["equals-ignore-case"], _join(path, "equals-ignore-case")), True
    return _string(arg, path, 'a string or {"equals-ignore-case": string}'), False


def _parse_prefix(arg: Any, path: str) -> Matcher:
    text, ignore_case = _parse_text_or_ignore_case(arg, path)
    return Prefix(text, ignore_case)


def _parse_suffix(arg: Any, path: str) -> Matcher:
    text, ignore_case = _parse_text_or_ignore_case(arg, path)
    return Suffix(text, ignore_case)


def _parse_equals_ignore_case(arg: Any, path: str) -> Matcher:
    return EqualsIgnoreCase(_string(arg, path))


def parse_wildcard(text: str, path: str) -> Wildcard:
    """Split a wildcard pattern at its unescaped stars; ``\\*`` and ``\\\\`` are literal."""
    parts: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            following = text[index + 1 : index + 2]
            if following not in ("*", "\\"):
                raise PatternError(path, "a backslash may only escape '*' or '\\'")
            current.append(following)
            index += 2
            continue
        if char == "*":
            if text[index + 1 : index + 2] == "*":
                raise PatternError(path, "consecutive '*' wildcards are not allowed")
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return Wildcard(tuple(parts))


def _parse_wildcard(arg: Any, path: str) -> Matcher:
    return parse_wildcard(_string(arg, path), path)


def _parse_cidr(arg: Any, path: str) -> Matcher:
    text = _string(arg, path, "a CIDR block such as '10.0.0.0/24' or '2001:db8::/32'")
    if "/" not in text:
        raise PatternError(path, f"expected a CIDR block with a '/prefix-length', got {text!r}")
    try:
        return Cidr(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise PatternError(path, f"expected an IPv4 or IPv6 CIDR block, got {text!r}") from None


def _parse_exists(arg: Any, path: str) -> Matcher | None:
    if not isinstance(arg, bool):
        raise _fail(path, "true or false", arg)
    return Exists() if arg else None


_LOWER = {">": False, ">=": True}
_UPPER = {"<": False, "<=": True}


def _parse_numeric(arg: Any, path: str) -> Matcher:
    if not isinstance(arg, list | tuple) or len(arg) not in (2, 4):
        raise _fail(path, 'an array like [">", 0, "<=", 5] or ["=", 3]', arg)
    operator = arg[0]
    value = _number(arg[1], f"{path}[1]")
    if operator == "=" and len(arg) == 2:
        return Equals(value)
    if operator in _UPPER and len(arg) == 2:
        return Numeric(upper=value, upper_inclusive=_UPPER[operator])
    if operator not in _LOWER:
        raise PatternError(
            f"{path}[0]", f"expected '>', '>=', or alone '=', '<', '<=', got {operator!r}"
        )
    if len(arg) == 2:
        return Numeric(lower=value, lower_inclusive=_LOWER[operator])
    if arg[2] not in _UPPER:
        raise PatternError(
            f"{path}[2]", f"expected '<' or '<=' after a lower bound, got {arg[2]!r}"
        )
    upper = _number(arg[3], f"{path}[3]")
    if upper <= value:
        raise PatternError(path, f"expected the lower bound {value} to be below the upper {upper}")
    return Numeric(value, _LOWER[operator], upper, _UPPER[arg[2]])


def _parse_anything_but(arg: Any, path: str) -> Matcher:
    if isinstance(arg, Mapping):
        return AnythingBut(_parse_anything_but_operator(arg, path))
    if isinstance(arg, str):
        return AnythingBut((Equals(arg),))
    if isinstance(arg, int | float) and not isinstance(arg, bool):
        return AnythingBut((Equals(_number(arg, path)),))
    if not isinstance(arg, list | tuple) or not arg:
        raise _fail(path, "a string, a number, or a non-empty array of them", arg)
    excluded: list[Matcher] = []
    for index, item in enumerate(arg):
        here = f"{path}[{index}]"
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise _fail(here, "a string or a number", item)
        if isinstance(item, str) != isinstance(arg[0], str):
            raise PatternError(here, "expected all strings or all numbers, not a mix")
        excluded.append(Equals(item if isinstance(item, str) else _number(item, here)))
    return AnythingBut(tuple(excluded))


def _parse_anything_but_operator(arg: Mapping[str, Any], path: str) -> tuple[Matcher, ...]:
    if len(arg) != 1:
        raise PatternError(path, f"expected exactly one operator inside, got {len(arg)}")
    ((name, value),) = arg.items()
    here = _join(path, str(name))
    if name in ("prefix", "suffix"):
        text = _string(value, here)
        if not text:
            raise PatternError(here, "expected a non-empty string, got an empty string")
        return (Prefix(text) if name == "prefix" else Suffix(text),)
    if name in ("equals-ignore-case", "wildcard"):
        texts = value if isinstance(value, list | tuple) else [value]
        if not texts:
            raise PatternError(here, "expected a string or a non-empty array of strings")
        checked = [_string(text, f"{here}[{i}]") for i, text in enumerate(texts)]
        if name == "wildcard":
            return tuple(parse_wildcard(text, here) for text in checked)
        return tuple(EqualsIgnoreCase(text) for text in checked)
    raise PatternError(
        path, f"expected prefix, suffix, equals-ignore-case or wildcard, got {name!r}"
    )


_OPERATORS = {
    "anything-but": _parse_anything_but,
    "cidr": _parse_cidr,
    "equals-ignore-case": _parse_equals_ignore_case,
    "exists": _parse_exists,
    "numeric": _parse_numeric,
    "prefix": _parse_prefix,
    "suffix": _parse_suffix,
    "wildcard": _parse_wildcard,
}
