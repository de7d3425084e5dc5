"""All rules compiled together into one state machine over field paths.

Each alternative of each rule is a sequence of steps, one per field (a path and
the matchers given for it). The steps of all alternatives form a trie: alternatives
that start with the same steps share states, and an edge leaving a state tests one
field for all the alternatives that continue there at once, through a value index.
A field listing several values is split into one step per value (while the paths
stay few), so rules sharing any one of their values share a state.

Matching one event collects its leaf values at the paths rules name, then advances
from the initial state along every edge the event's values satisfy; an alternative
matches when its last state is reached. The work is one index lookup per edge
leaving a reached state, so it grows with how many rules nearly match the event,
not with how many rules there are; ``_order`` arranges the steps to keep the
reached states and their edges few. Where the event holds an array of several
objects, the alternatives with fields below it are confirmed by direct evaluation.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from engine.patterns._evaluate import evaluate
from engine.patterns._index import Probe, ValueIndex
from engine.patterns._matchers import Equals, LeafRule
from engine.patterns._order import Step, ordered
from engine.patterns._parse import Node
from engine.patterns._walk import PathNode, Walk

# At most this many paths through the trie per alternative.
_MAX_VARIANTS = 64


def _signature(leaf: LeafRule) -> tuple[Any, ...]:
    """What makes two fields equal; ``Equals`` compares by key, as ``true != 1``."""
    return (
        leaf.accepts_absence,
        tuple(("=", m.key) if isinstance(m, Equals) else m for m in leaf.matchers),
    )


@dataclass(eq=False)
class _Draft:
    """A state while the trie is built."""

    steps: dict[tuple[PathNode, tuple[Any, ...]], int] = field(default_factory=dict)
    leaves: dict[int, Step] = field(default_factory=dict)
    finishing: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Edge:
    """The steps leaving one state along one path: ``probes`` find the next states
    a value leads to, ``absent`` lists those taken when the event has no value there."""

    node: PathNode
    absent: tuple[int, ...]
    probes: tuple[Probe, ...]
    # The index's table when it holds exact values only, looked up inline.
    exact: dict[Any, tuple[int, ...]] | None


@dataclass(frozen=True, slots=True)
class _State:
    """A state of the machine; ``finishing`` are the alternatives ending here."""

    edges: tuple[_Edge, ...]
    finishing: tuple[int, ...]
    rule_ids: frozenset[str]


class CompiledRules:
    """An immutable matcher over a fixed set of rules."""

    def __init__(self, rules: Mapping[str, list[Node]]) -> None:
        with _collector_paused():
            self._build(rules)

    def _build(self, rules: Mapping[str, list[Node]]) -> None:
        self._paths = PathNode()
        self._alternatives = [(rule_id, tree) for rule_id, trees in rules.items() for tree in trees]
        sequences = [
            self._steps(number, tree) for number, (_, tree) in enumerate(self._alternatives)
        ]
        drafts = [_Draft()]
        for number, sequence in enumerate(ordered(sequences)):
            for variant in _variants(sequence):
                self._insert(drafts, number, variant)
        self._states = [self._freeze(draft) for draft in drafts]

    @staticmethod
    def _insert(drafts: list[_Draft], number: int, sequence: tuple[Step, ...]) -> None:
        state = 0
        for step in sequence:
            key = (step[0], _signature(step[1]))
            following = drafts[state].steps.get(key)
            if following is None:
                following = drafts[state].steps[key] = len(drafts)
                drafts[state].leaves[following] = step
                drafts.append(_Draft())
            state = following
        drafts[state].finishing.append(number)

    def _steps(self, number: int, tree: Node) -> list[tuple[tuple[str, ...], Step]]:
        steps = []
        for path, leaf in tree.fields():
            node = self._paths
            for key in path:
                node.below.add(number)
                node = node.child(key)
            node.collects = True
            steps.append((path, (node, leaf)))
        return steps

    def _freeze(self, draft: _Draft) -> _State:
        by_node: dict[PathNode, list[tuple[int, LeafRule]]] = {}
        for following, (node, leaf) in draft.leaves.items():
            by_node.setdefault(node, []).append((following, leaf))
        edges = []
        for node, steps in by_node.items():
            entries = [(m, following) for following, leaf in steps for m in leaf.matchers]
            absent = tuple(following for following, leaf in steps if leaf.accepts_absence)
            if not entries:
                edges.append(_Edge(node, absent, (), None))
                continue
            index = ValueIndex(entries)
            exact = index.exact if index.exact_only() else None
            edges.append(_Edge(node, absent, index.probes, exact))
        rule_ids = frozenset(self._alternatives[number][0] for number in draft.finishing)
        return _State(tuple(edges), tuple(draft.finishing), rule_ids)

    def match(self, event: Mapping[str, Any]) -> list[str]:
        """Ids of the rules with at least one matching alternative, sorted."""
        walk = Walk(self._paths, event)
        if walk.object_arrays:
            return self._match_object_arrays(walk, event)
        matched: set[str] = set()
        for state in self._reached(walk):
            if state.rule_ids:
                matched.update(state.rule_ids)
        return sorted(matched)

    def _match_object_arrays(self, walk: Walk, event: Mapping[str, Any]) -> list[str]:
        """Arrays of objects: alternatives with fields below one are checked directly.

        The machine, taking absence for granted below such arrays, reaches a superset
        of the alternatives matching array-consistently; the others it decides alone.
        """
        suspicious: set[int] = set()
        for node in walk.object_arrays:
            suspicious.update(node.below)
        matched: set[str] = set()
        for state in self._reached(walk):
            for number in state.finishing:
                rule_id, tree = self._alternatives[number]
                if rule_id not in matched and (number not in suspicious or evaluate(tree, event)):
                    matched.add(rule_id)
        return sorted(matched)

    def _reached(self, walk: Walk) -> list[_State]:
        """Every state the event's values lead to, level by level from the start."""
        states = self._states
        values = walk.values
        loose = walk.object_arrays
        reached = [states[0]]
        level = reached
        while level:
            found: set[int] = set()
            for state in level:
                for edge in state.edges:
                    here = values.get(edge.node)
                    if here is None:
                        found.update(edge.absent)
                        continue
                    exact = edge.exact
                    if exact is not None:
                        for _, key in here:
                            hits = exact.get(key)
                            if hits:
                                found.update(hits)
                    else:
                        probes = edge.probes
                        for value, key in here:
                            for probe in probes:
                                probe(value, key, found)
                    if edge.absent and loose and edge.node.under(loose):
                        found.update(edge.absent)
            level = [states[number] for number in found]
            reached.extend(level)
        return reached


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the machine is built.

    Building allocates many long-lived objects and no garbage, so the collections
    they would trigger only rescan them: they used to double the build time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _variants(sequence: list[Step]) -> list[tuple[Step, ...]]:
    """The alternative's paths through the trie: a field's matchers are split into
    one step each (absence being one more), so that rules sharing one of several
    values share a state, as long as the paths stay few."""
    options: list[list[Step]] = []
    count = 1
    for node, leaf in sequence:
        split = [(node, LeafRule((m,), False)) for m in leaf.matchers]
        if leaf.accepts_absence:
            split.append((node, LeafRule((), True)))
        if len(split) > 1 and count * len(split) <= _MAX_VARIANTS:
            count *= len(split)
            options.append(split)
        else:
            options.append([(node, leaf)])
    return list(product(*options))
