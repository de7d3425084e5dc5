"""Direct evaluation of one alternative against one event.

This is the plain definition of matching, used for one-off checks and wherever an
event's arrays of objects make the compiled shortcut unsafe:

* a field's leaf values are the scalars found at its path, arrays (also nested
  arrays) contributing each of their scalar elements; an object is not a leaf value;
* a field matches when any of its matchers accepts any of its leaf values, or, with
  ``{"exists": false}``, when it has no leaf value at all;
* when the event holds an array of objects where the pattern has a nested object,
  all fields under that nested object must be matched inside one and the same array
  element (EventBridge's array-consistent matching); an array without objects is
  treated like a missing object.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.patterns._parse import Node


def iter_elements(items: list[Any] | tuple[Any, ...]) -> Iterator[Any]:
    """The elements of an event array, nested arrays flattened into it."""
    for item in items:
        if isinstance(item, list | tuple):
            yield from iter_elements(item)
        else:
            yield item


def leaf_values(value: Any) -> list[Any]:
    """The leaf (scalar) values an event holds at one path."""
    if isinstance(value, Mapping) or value is _MISSING:
        return []
    if isinstance(value, list | tuple):
        return [item for item in iter_elements(value) if not isinstance(item, Mapping)]
    return [value]


_MISSING: Any = object()


def evaluate(node: Node, value: Any) -> bool:
    """Whether ``value`` (the event, or the event's value at ``node``'s path) matches."""
    if node.leaves:
        values = leaf_values(value)
        if not all(leaf.test_values(values) for leaf in node.leaves):
            return False
    if not node.children:
        return True
    if isinstance(value, Mapping):
        objects: list[Any] = [value]
    elif isinstance(value, list | tuple):
        objects = [item for item in iter_elements(value) if isinstance(item, Mapping)]
    else:
        objects = []
    if not objects:
        objects = [{}]
    return any(
        all(evaluate(child, obj.get(key, _MISSING)) for key, child in node.children.items())
        for obj in objects
    )
