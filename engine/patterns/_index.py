"""Value index: which of many (matcher, target) pairs accept one leaf value?

One index serves one edge of the compiled state machine, where it may hold
thousands of matchers. Every operator is looked up rather than tested one by one:

* exact values and equals-ignore-case: hash maps (the latter on the lowered text);
* prefixes and suffixes: one hash map per distinct length, so a value costs one
  slice and one lookup per length in use;
* wildcards: filed under their longer literal end like a prefix or suffix, then
  confirmed with their regular expression;
* numeric ranges: an interval index (``RangeTable``);
* cidr: prefix tables per prefix length (``NetworkTable``);
* exists: taken for any value;
* anything-but: "all but" the targets whose excluded values, themselves in an
  index, accept the value.

Only wildcards with a star at both ends are tested one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from engine.patterns._matchers import (
    AnythingBut,
    Cidr,
    Equals,
    EqualsIgnoreCase,
    Exists,
    Matcher,
    Numeric,
    Prefix,
    Suffix,
    Wildcard,
)
from engine.patterns._networks import NetworkTable
from engine.patterns._ranges import RangeTable

_INF = float("inf")

# An entry is a target, or (matcher, target) when the matcher must confirm.
Entry = int | tuple[Matcher, int]
_AffixTables = tuple[tuple[int, dict[str, list[Entry]]], ...]


class _Filing:
    """The entries of one index, sorted by how they are looked up."""

    def __init__(self) -> None:
        self.exact: dict[Any, list[int]] = {}
        self.exact_ci: dict[str, list[int]] = {}
        # Keyed by (is a prefix, ignores case), then by the (lowered) text.
        self.affixes: dict[tuple[bool, bool], dict[str, list[Entry]]] = {}
        self.ranges: list[tuple[Numeric, int]] = []
        self.blocks: list[tuple[Cidr, int]] = []
        self.always: list[int] = []
        self.excluding: list[tuple[AnythingBut, int]] = []
        self.scans: list[tuple[Wildcard, int]] = []

    def add(self, matcher: Matcher, target: int) -> None:
        if isinstance(matcher, Equals):
            self.exact.setdefault(matcher.key, []).append(target)
        elif isinstance(matcher, EqualsIgnoreCase):
            self.exact_ci.setdefault(matcher.text.lower(), []).append(target)
        elif isinstance(matcher, Prefix | Suffix):
            text = matcher.text.lower() if matcher.ignore_case else matcher.text
            self._affix(isinstance(matcher, Prefix), matcher.ignore_case, text, target)
        elif isinstance(matcher, Wildcard):
            self._wildcard(matcher, target)
        elif isinstance(matcher, Numeric):
            self.ranges.append((matcher, target))
        elif isinstance(matcher, Cidr):
            self.blocks.append((matcher, target))
        elif isinstance(matcher, Exists):
            self.always.append(target)
        elif isinstance(matcher, AnythingBut):
            self.excluding.append((matcher, target))
        else:
            raise TypeError(f"no index for {matcher!r}")

    def _affix(self, at_start: bool, ignore_case: bool, text: str, entry: Entry) -> None:
        self.affixes.setdefault((at_start, ignore_case), {}).setdefault(text, []).append(entry)

    def _wildcard(self, matcher: Wildcard, target: int) -> None:
        head, tail = matcher.parts[0], matcher.parts[-1]
        if len(matcher.parts) == 1:
            self.exact.setdefault(head, []).append(target)
        elif head or tail:
            at_start = len(head) >= len(tail)
            self._affix(at_start, False, head if at_start else tail, (matcher, target))
        else:
            self.scans.append((matcher, target))

    def affix_tables(self, at_start: bool, ignore_case: bool) -> _AffixTables:
        by_length: dict[int, dict[str, list[Entry]]] = {}
        for text, entries in self.affixes.get((at_start, ignore_case), {}).items():
            by_length.setdefault(len(text), {})[text] = entries
        return tuple(sorted(by_length.items()))


Probe = Callable[[Any, Any, set[int]], None]
"""Adds to a set the targets of one kind of matcher accepting a value (and its key)."""


class ValueIndex:
    """The targets of many matchers, found for one leaf value without testing each.

    ``probes`` holds one lookup per kind of matcher present, so a value costs nothing
    for the kinds an index lacks; ``exact`` is the exact-value table.
    """

    __slots__ = (
        "_always",
        "_exact_ci",
        "_excluded",
        "_excluding",
        "_networks",
        "_prefix",
        "_prefix_ci",
        "_ranges",
        "_scans",
        "_suffix",
        "_suffix_ci",
        "exact",
        "probes",
    )

    def __init__(self, entries: Iterable[tuple[Matcher, int]]) -> None:
        filing = _Filing()
        for matcher, target in entries:
            filing.add(matcher, target)
        self.exact = {key: tuple(targets) for key, targets in filing.exact.items()}
        self._exact_ci = {key: tuple(targets) for key, targets in filing.exact_ci.items()}
        self._prefix = filing.affix_tables(True, False)
        self._prefix_ci = filing.affix_tables(True, True)
        self._suffix = filing.affix_tables(False, False)
        self._suffix_ci = filing.affix_tables(False, True)
        self._ranges = RangeTable(filing.ranges) if filing.ranges else None
        self._networks = NetworkTable(filing.blocks) if filing.blocks else None
        self._always = tuple(filing.always)
        # The excluded values point at the anything-but's position, not its target:
        # a field may hold several anything-but, and passing one of them is enough.
        self._excluding = tuple(target for _, target in filing.excluding)
        self._excluded = (
            ValueIndex(
                (excluded, position)
                for position, (matcher, _) in enumerate(filing.excluding)
                for excluded in matcher.excluded
            )
            if filing.excluding
            else None
        )
        self._scans = tuple(filing.scans)
        self.probes = self._choose_probes()

    def _choose_probes(self) -> tuple[Probe, ...]:
        wanted: list[tuple[object, Probe]] = [
            (self.exact, self._probe_exact),
            (self._prefix or self._suffix, self._probe_affixes),
            (self._exact_ci or self._prefix_ci or self._suffix_ci, self._probe_ignoring_case),
            (self._ranges, self._probe_ranges),
            (self._networks, self._probe_networks),
            (self._always, self._probe_always),
            (self._excluded, self._probe_excluding),
            (self._scans, self._probe_scans),
        ]
        return tuple(probe for present, probe in wanted if present)

    def exact_only(self) -> bool:
        """Whether the index holds exact values and nothing else."""
        return self.probes == (self._probe_exact,)

    def collect(self, value: Any, key: Any, found: set[int]) -> None:
        """Add to ``found`` the targets accepting ``value``, whose ``value_key`` is ``key``."""
        for probe in self.probes:
            probe(value, key, found)

    def _probe_exact(self, value: Any, key: Any, found: set[int]) -> None:
        hits = self.exact.get(key)
        if hits:
            found.update(hits)

    def _probe_affixes(self, value: Any, key: Any, found: set[int]) -> None:
        if type(value) is str:
            if self._prefix:
                _collect_affixes(self._prefix, value, value, True, found)
            if self._suffix:
                _collect_affixes(self._suffix, value, value, False, found)

    def _probe_ignoring_case(self, value: Any, key: Any, found: set[int]) -> None:
        if type(value) is not str:
            return
        lowered = value.lower()
        hits = self._exact_ci.get(lowered)
        if hits:
            found.update(hits)
        if self._prefix_ci:
            _collect_affixes(self._prefix_ci, lowered, value, True, found)
        if self._suffix_ci:
            _collect_affixes(self._suffix_ci, lowered, value, False, found)

    def _probe_ranges(self, value: Any, key: Any, found: set[int]) -> None:
        kind = type(value)
        # No range holds an infinity or NaN (``Numeric.test``), which the table would
        # place in its outermost pieces.
        finite = kind is int or (kind is float and -_INF < value < _INF)
        if finite and self._ranges is not None:
            found.update(self._ranges.lookup(value))

    def _probe_networks(self, value: Any, key: Any, found: set[int]) -> None:
        if type(value) is str and self._networks is not None:
            self._networks.collect(value, found)

    def _probe_always(self, value: Any, key: Any, found: set[int]) -> None:
        found.update(self._always)

    def _probe_excluding(self, value: Any, key: Any, found: set[int]) -> None:
        excluded: set[int] = set()
        if self._excluded is not None:
            self._excluded.collect(value, key, excluded)
        if excluded:
            found.update(
                target
                for position, target in enumerate(self._excluding)
                if position not in excluded
            )
        else:
            found.update(self._excluding)

    def _probe_scans(self, value: Any, key: Any, found: set[int]) -> None:
        if type(value) is str:
            for matcher, target in self._scans:
                if target not in found and matcher.test(value):
                    found.add(target)


def _collect_affixes(
    tables: _AffixTables, text: str, original: str, at_start: bool, found: set[int]
) -> None:
    size = len(text)
    for length, table in tables:
        if length > size:
            return
        entries = table.get(text[:length] if at_start else text[size - length :])
        if entries:
            for entry in entries:
                if type(entry) is int:
                    found.add(entry)
                elif entry[1] not in found and entry[0].test(original):  # type: ignore[index]
                    found.add(entry[1])  # type: ignore[index]
