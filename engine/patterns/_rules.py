"""The public entry points: validation, one-off matching and the rule set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.patterns._compiled import CompiledRules
from engine.patterns._evaluate import evaluate
from engine.patterns._parse import Node, parse_pattern


def validate_pattern(pattern: Mapping[str, Any]) -> None:
    """Check that ``pattern`` is a valid EventBridge event pattern.

    Raises:
        PatternError: with the path of the first offending part and what was expected.
    """
    parse_pattern(pattern)


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether one event matches one pattern (validating the pattern first).

    For many rules or many events, use ``RuleMatcher``, which compiles once.

    Raises:
        PatternError: if the pattern is invalid.
    """
    return any(evaluate(tree, event) for tree in parse_pattern(pattern))


class RuleMatcher:
    """A set of named rules, compiled together to match events quickly.

    Adding or removing a rule only records it; the next ``match`` rebuilds the
    compiled form once (O(rules)), so batch your changes before matching.
    """

    def __init__(self) -> None:
        self._rules: dict[str, list[Node]] = {}
        self._compiled: CompiledRules | None = None

    def add(self, rule_id: str, pattern: Mapping[str, Any]) -> None:
        """Add a rule, or replace the rule with the same id.

        Raises:
            PatternError: if the pattern is invalid; the rule set is then unchanged.
        """
        self._rules[rule_id] = parse_pattern(pattern)
        self._compiled = None

    def remove(self, rule_id: str) -> None:
        """Remove a rule; removing an unknown id does nothing."""
        if self._rules.pop(rule_id, None) is not None:
            self._compiled = None

    def match(self, event: Mapping[str, Any]) -> list[str]:
        """The ids of the rules whose pattern the event matches, sorted."""
        if self._compiled is None:
            self._compiled = CompiledRules(self._rules)
        return self._compiled.match(event)

    def compile(self) -> None:
        """Build the compiled form now rather than on the next ``match``."""
        self._compiled = CompiledRules(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules
