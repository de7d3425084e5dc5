"""The order in which an alternative's fields are tested in the state machine.

A reached state costs one lookup per edge leaving it, so the order aims at few
edges per state and few states reached:

* fields looked up by key (exact values, equals-ignore-case) come first, paths
  that most alternatives key on before the others: a field nearly every rule names,
  like ``source``, then splits the rules at the first state into small groups,
  instead of every rule's own favourite field adding an edge there;
* then fields whose index is still selective (prefix, suffix, wildcard, cidr),
  then those accepting many values (numeric ranges, anything-but, exists), and
  fields that also accept absence last;
* within a tier, the field sharing its values with the fewest alternatives first.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from engine.patterns._matchers import (
    Cidr,
    Equals,
    EqualsIgnoreCase,
    LeafRule,
    Matcher,
    Prefix,
    Suffix,
    Wildcard,
)
from engine.patterns._walk import PathNode

Step = tuple[PathNode, LeafRule]
Path = tuple[str, ...]

_KEYED = (Equals, EqualsIgnoreCase)
_SELECTIVE = (Equals, EqualsIgnoreCase, Prefix, Suffix, Wildcard, Cidr)


def _bucket(path: Path, matcher: Matcher) -> tuple[Any, ...]:
    """A group of matchers on one path that tend to accept the same values."""
    if isinstance(matcher, Equals):
        return (path, "=", matcher.key)
    if isinstance(matcher, EqualsIgnoreCase):
        return (path, "=i", matcher.text.lower())
    if isinstance(matcher, Prefix | Suffix):
        return (path, type(matcher).__name__, matcher.ignore_case, matcher.text)
    if isinstance(matcher, Cidr):
        return (path, "cidr", matcher.network)
    if isinstance(matcher, Wildcard):
        return (path, "*", matcher.parts[0], matcher.parts[-1])
    # Ranges overlap and anything-but or exists accept most values: one group each.
    return (path, type(matcher).__name__)


def _tier(leaf: LeafRule) -> int:
    if leaf.accepts_absence:
        return 3
    if all(isinstance(m, _KEYED) for m in leaf.matchers):
        return 0
    return 1 if all(isinstance(m, _SELECTIVE) for m in leaf.matchers) else 2


def ordered(sequences: list[list[tuple[Path, Step]]]) -> list[list[Step]]:
    """Each alternative's steps (given with their paths) in testing order."""
    sizes = Counter(
        bucket
        for sequence in sequences
        for path, (_, leaf) in sequence
        for bucket in {_bucket(path, m) for m in leaf.matchers}
    )
    keyed = Counter(
        path
        for sequence in sequences
        for path in {path for path, (_, leaf) in sequence if _tier(leaf) == 0}
    )

    def cost(item: tuple[int, tuple[Path, Step]]) -> tuple[int, int, int, Path, int]:
        position, (path, (_, leaf)) = item
        tier = _tier(leaf)
        size = sum(sizes[_bucket(path, m)] for m in leaf.matchers)
        return (tier, -keyed[path] if tier == 0 else 0, size, path, position)

    return [
        [step for _, (_, step) in sorted(enumerate(sequence), key=cost)] for sequence in sequences
    ]
