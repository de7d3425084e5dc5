"""All rules compiled together: a trie of field paths with a value index per path.

Matching one event walks only the event's fields that some rule names, asks the
index at each leaf for the alternatives anchored there, and checks each such
candidate's remaining fields against the leaf values already collected. The cost
per event depends on the event's size and on how many rules nearly match, not on
how many rules there are. Each alternative is anchored on its most selective field
(the one sharing its value with the fewest other alternatives), so a value common
to many rules, like a popular ``source``, does not flood the candidates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.patterns._evaluate import evaluate, iter_elements
from engine.patterns._index import ValueIndex
from engine.patterns._matchers import (
    Equals,
    EqualsIgnoreCase,
    LeafRule,
    Matcher,
    Numeric,
    Prefix,
    Suffix,
    Wildcard,
    value_key,
)
from engine.patterns._parse import Node

# How many alternatives an operator that is tested one by one is taken to select.
_SCAN_COST = 1_000_000
# At most this many value combinations for a pair of exact fields filed together.
_PAIR_LIMIT = 16


@dataclass(eq=False)
class _PathNode:
    """One field path of the trie; ``index`` is set where some field is anchored."""

    children: dict[str, _PathNode] = field(default_factory=dict)
    index: ValueIndex | None = None
    collects: bool = False
    below: set[int] = field(default_factory=set)

    def child(self, key: str) -> _PathNode:
        node = self.children.get(key)
        if node is None:
            node = self.children[key] = _PathNode()
        return node


@dataclass(frozen=True)
class _Alternative:
    rule_id: str
    tree: Node
    checks: tuple[tuple[_PathNode, LeafRule], ...]


def _bucket(path: tuple[str, ...], matcher: Matcher) -> tuple[Any, ...] | None:
    """The index bucket a matcher falls in, or None when it is tested one by one."""
    if isinstance(matcher, Equals):
        return (path, "=", matcher.key)
    if isinstance(matcher, EqualsIgnoreCase):
        return (path, "=i", matcher.text.lower())
    if isinstance(matcher, Prefix | Suffix):
        return (path, type(matcher).__name__, matcher.ignore_case, matcher.text)
    if isinstance(matcher, Wildcard) and (matcher.parts[0] or matcher.parts[-1]):
        return (path, "*", matcher.parts[0], matcher.parts[-1])
    if isinstance(matcher, Numeric):
        # Ranges overlap, so all ranges on a path count as one bucket.
        return (path, "numeric")
    return None


Fields = list[tuple[tuple[str, ...], LeafRule]]


def _exact_keys(leaf: LeafRule) -> list[Any] | None:
    """The hash keys of a field made only of exact values, else None."""
    if leaf.accepts_absence or not all(isinstance(m, Equals) for m in leaf.matchers):
        return None
    return [m.key for m in leaf.matchers if isinstance(m, Equals)]


@dataclass
class _Plan:
    """How one alternative is filed: on one field, or on a pair of exact fields."""

    rule_id: str
    tree: Node
    fields: Fields
    single: int | None
    single_cost: int
    pair: tuple[int, int, list[tuple[Any, Any]]] | None = None


class CompiledRules:
    """An immutable matcher over a fixed set of rules."""

    def __init__(self, rules: Mapping[str, list[Node]]) -> None:
        self._root = _PathNode()
        self._alternatives: list[_Alternative] = []
        self._unanchored: list[int] = []
        self._pairs: dict[tuple[_PathNode, _PathNode], dict[tuple[Any, Any], list[int]]] = {}
        plans = [
            _Plan(rule_id, tree, tree.fields(), None, 0)
            for rule_id, trees in rules.items()
            for tree in trees
        ]
        sizes = Counter(
            bucket
            for plan in plans
            for path, leaf in plan.fields
            for bucket in {_bucket(path, m) for m in leaf.matchers}
        )
        pair_sizes: Counter[tuple[Any, ...]] = Counter()
        for plan in plans:
            self._plan(plan, sizes, pair_sizes)
        for plan in plans:
            self._add(plan, pair_sizes)
        self._freeze(self._root)

    @staticmethod
    def _plan(
        plan: _Plan, sizes: Counter[tuple[Any, ...] | None], pair_sizes: Counter[tuple[Any, ...]]
    ) -> None:
        """Pick the cheapest single anchor and the two cheapest exact fields."""
        costs = sorted(
            (
                sum(
                    _SCAN_COST if (b := _bucket(path, m)) is None else sizes[b]
                    for m in leaf.matchers
                ),
                i,
            )
            for i, (path, leaf) in enumerate(plan.fields)
            if not leaf.accepts_absence
        )
        if not costs:
            return
        plan.single_cost, plan.single = costs[0]
        exact = [i for _, i in costs if _exact_keys(plan.fields[i][1]) is not None][:2]
        if len(exact) < 2:
            return
        first, second = sorted(exact, key=lambda i: plan.fields[i][0])
        keys = [
            (a, b)
            for a in _exact_keys(plan.fields[first][1]) or ()
            for b in _exact_keys(plan.fields[second][1]) or ()
        ]
        if len(keys) <= _PAIR_LIMIT:
            plan.pair = (first, second, keys)
            paths = (plan.fields[first][0], plan.fields[second][0])
            pair_sizes.update((*paths, key) for key in keys)

    def _add(self, plan: _Plan, pair_sizes: Counter[tuple[Any, ...]]) -> None:
        number = len(self._alternatives)
        anchors: set[int] = set() if plan.single is None else {plan.single}
        if plan.pair is not None:
            first, second, keys = plan.pair
            paths = (plan.fields[first][0], plan.fields[second][0])
            if sum(pair_sizes[(*paths, key)] for key in keys) < plan.single_cost:
                anchors = {first, second}
        nodes: list[_PathNode] = []
        checks = []
        for position, (path, leaf) in enumerate(plan.fields):
            node = self._root
            for key in path:
                node.below.add(number)
                node = node.child(key)
            node.collects = True
            nodes.append(node)
            if position not in anchors:
                checks.append((node, leaf))
            elif len(anchors) == 1:
                if node.index is None:
                    node.index = ValueIndex()
                for matcher in leaf.matchers:
                    node.index.add(matcher, number)
        if len(anchors) == 2 and plan.pair is not None:
            first, second, keys = plan.pair
            table = self._pairs.setdefault((nodes[first], nodes[second]), {})
            for pair_key in keys:
                table.setdefault(pair_key, []).append(number)
        if not anchors:
            self._unanchored.append(number)
        self._alternatives.append(_Alternative(plan.rule_id, plan.tree, tuple(checks)))

    def _freeze(self, node: _PathNode) -> None:
        if node.index is not None:
            node.index.freeze()
        for child in node.children.values():
            self._freeze(child)

    def match(self, event: Mapping[str, Any]) -> list[str]:
        """Ids of the rules with at least one matching alternative, sorted."""
        walk = _Walk()
        walk.visit(self._root, event)
        if self._pairs:
            walk.collect_pairs(self._pairs)
        suspicious: set[int] = set()
        for node in walk.object_arrays:
            suspicious.update(node.below)
        matched: set[str] = set()
        for number in _chain(walk.candidates, self._unanchored):
            alternative = self._alternatives[number]
            if alternative.rule_id in matched:
                continue
            if number in suspicious:
                if evaluate(alternative.tree, event):
                    matched.add(alternative.rule_id)
                continue
            values = walk.values
            for node, leaf in alternative.checks:
                if not leaf.test_values(values.get(node, ())):
                    break
            else:
                matched.add(alternative.rule_id)
        return sorted(matched)


def _chain(first: Iterable[int], second: Iterable[int]) -> Iterable[int]:
    yield from first
    yield from second


class _Walk:
    """State of one event's walk through the trie."""

    __slots__ = ("candidates", "object_arrays", "values")

    def __init__(self) -> None:
        self.candidates: set[int] = set()
        self.values: dict[_PathNode, list[Any]] = {}
        # Paths where the event has an array of several objects: alternatives with
        # fields below them need the array-consistent (direct) evaluation.
        self.object_arrays: list[_PathNode] = []

    def visit(self, node: _PathNode, value: Any) -> None:
        if isinstance(value, Mapping):
            children = node.children
            if len(children) <= len(value):
                for key, child in children.items():
                    if key in value:
                        self.visit(child, value[key])
            else:
                for key, item in value.items():
                    found = children.get(key)
                    if found is not None:
                        self.visit(found, item)
        elif isinstance(value, list | tuple):
            self.visit_array(node, value)
        else:
            self.leaf(node, value)

    def visit_array(self, node: _PathNode, items: list[Any] | tuple[Any, ...]) -> None:
        objects = []
        for item in iter_elements(items):
            if isinstance(item, Mapping):
                objects.append(item)
            else:
                self.leaf(node, item)
        if objects and node.children:
            if len(objects) > 1:
                self.object_arrays.append(node)
            for item in objects:
                self.visit(node, item)

    def collect_pairs(
        self, pairs: dict[tuple[_PathNode, _PathNode], dict[tuple[Any, Any], list[int]]]
    ) -> None:
        """Add the candidates filed under a pair of exact values the event has."""
        values = self.values
        for (first, second), table in pairs.items():
            firsts = values.get(first)
            seconds = values.get(second)
            if not firsts or not seconds:
                continue
            second_keys = [value_key(value) for value in seconds]
            for value in firsts:
                key = value_key(value)
                for other in second_keys:
                    found = table.get((key, other))
                    if found:
                        self.candidates.update(found)

    def leaf(self, node: _PathNode, value: Any) -> None:
        if not node.collects:
            return
        found = self.values.get(node)
        if found is None:
            self.values[node] = [value]
        else:
            found.append(value)
        if node.index is not None:
            node.index.collect(value, self.candidates)
