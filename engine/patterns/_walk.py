"""The field paths rules name, and one event's walk collecting its values there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.patterns._evaluate import iter_elements
from engine.patterns._matchers import value_key


@dataclass(eq=False)
class PathNode:
    """One field path named by some rule; ``below`` holds the alternatives with a
    field strictly under it."""

    parent: PathNode | None = None
    children: dict[str, PathNode] = field(default_factory=dict)
    collects: bool = False
    below: set[int] = field(default_factory=set)

    def child(self, key: str) -> PathNode:
        """The node one field further down, created on first use."""
        node = self.children.get(key)
        if node is None:
            node = self.children[key] = PathNode(self)
        return node

    def under(self, nodes: list[PathNode]) -> bool:
        """Whether this path lies strictly under one of ``nodes``."""
        node = self.parent
        while node is not None:
            if node in nodes:
                return True
            node = node.parent
        return False


_ABSENT: Any = object()
_SCALARS = frozenset({str, int, float, bool, type(None)})

# One leaf value of an event with its ``value_key``.
LeafValue = tuple[Any, Any]


class Walk:
    """The leaf values one event holds at the paths rules name."""

    __slots__ = ("object_arrays", "values")

    def __init__(self, root: PathNode, event: Mapping[str, Any]) -> None:
        self.values: dict[PathNode, list[LeafValue]] = {}
        # Paths where the event has an array of several objects: fields below them
        # must match inside one array element, which flattened values cannot tell.
        self.object_arrays: list[PathNode] = []
        self._visit(root, event)

    def _visit(self, node: PathNode, value: Any) -> None:
        kind = type(value)
        # Exact types first: the abstract Mapping check is slow.
        if kind is dict or (kind not in _SCALARS and isinstance(value, Mapping)):
            self._visit_object(node, value)
        elif kind is list or (kind not in _SCALARS and isinstance(value, list | tuple)):
            self._visit_array(node, value)
        elif node.collects:
            self._leaf(node, value)

    def _visit_object(self, node: PathNode, value: Mapping[str, Any]) -> None:
        children = node.children
        if len(children) > len(value):
            for key, item in value.items():
                found = children.get(key)
                if found is not None:
                    self._visit(found, item)
            return
        for key, child in children.items():
            item = value.get(key, _ABSENT)
            if type(item) is str:
                # Inline the commonest case, a string leaf: one call saved.
                if child.collects:
                    self._leaf(child, item)
            elif item is not _ABSENT:
                self._visit(child, item)

    def _visit_array(self, node: PathNode, items: list[Any] | tuple[Any, ...]) -> None:
        objects = []
        for item in iter_elements(items):
            if isinstance(item, Mapping):
                objects.append(item)
            elif node.collects:
                self._leaf(node, item)
        if objects and node.children:
            if len(objects) > 1:
                self.object_arrays.append(node)
            for item in objects:
                self._visit(node, item)

    def _leaf(self, node: PathNode, value: Any) -> None:
        pair = (value, value if type(value) is str else value_key(value))
        found = self.values.get(node)
        if found is None:
            self.values[node] = [pair]
        else:
            found.append(pair)
