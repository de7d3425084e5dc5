"""Per-path value index: which alternatives does one leaf value select?

Each alternative of each rule is filed under one *anchor* field; the index at the
anchor's path answers, for one event value, the alternatives whose anchor matcher
accepts it, without looking at the others:

* exact values and equals-ignore-case: hash maps;
* prefixes and suffixes: one hash map per distinct length, so a value costs one
  slice and one lookup per length in use;
* wildcards: filed under their literal head (or tail) like a prefix (or suffix),
  then confirmed with their regular expression;
* numeric ranges: the number line is cut at every bound in use, each piece knowing
  the ranges that cover it, so a value costs one binary search;
* whatever is left (anything-but, cidr, exists, unanchored wildcards) is tested
  one by one: these are the rare expensive operators.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from typing import Any

from engine.patterns._matchers import (
    Equals,
    EqualsIgnoreCase,
    Matcher,
    Numeric,
    Prefix,
    Suffix,
    Wildcard,
    is_number,
    value_key,
)

# An entry is an alternative id, or (matcher, id) when the matcher must confirm.
Entry = int | tuple[Matcher, int]
_AffixTables = list[tuple[int, dict[str, list[Entry]]]]


def _affix_tables(by_text: dict[str, list[Entry]]) -> _AffixTables:
    by_length: dict[int, dict[str, list[Entry]]] = defaultdict(dict)
    for text, entries in by_text.items():
        by_length[len(text)][text] = entries
    return sorted(by_length.items())


class _RangeTable:
    """Numeric ranges, cut into elementary pieces at every bound."""

    def __init__(self, ranges: dict[Numeric, list[int]]) -> None:
        bounds = sorted(
            {r.lower for r in ranges if r.lower > float("-inf")}
            | {r.upper for r in ranges if r.upper < float("inf")}
        )
        self._bounds = bounds
        # Piece 2i+1 is the point bounds[i]; piece 2i is the open gap before it.
        pieces: list[list[int]] = [[] for _ in range(2 * len(bounds) + 1)]
        for numeric, ids in ranges.items():
            start = 0
            if numeric.lower > float("-inf"):
                start = 2 * bounds.index(numeric.lower) + (1 if numeric.lower_inclusive else 2)
            end = 2 * len(bounds)
            if numeric.upper < float("inf"):
                end = 2 * bounds.index(numeric.upper) + (1 if numeric.upper_inclusive else 0)
            for piece in range(start, end + 1):
                pieces[piece].extend(ids)
        self._pieces = [tuple(piece) for piece in pieces]

    def lookup(self, number: float) -> tuple[int, ...]:
        index = bisect_left(self._bounds, number)
        if index < len(self._bounds) and self._bounds[index] == number:
            return self._pieces[2 * index + 1]
        return self._pieces[2 * index]


class ValueIndex:
    """The anchors filed at one field path; fill with ``add``, then ``freeze``."""

    def __init__(self) -> None:
        self._exact: dict[Any, list[int]] = defaultdict(list)
        self._exact_ci: dict[str, list[int]] = defaultdict(list)
        self._affixes: dict[tuple[str, bool], dict[str, list[Entry]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self._ranges: dict[Numeric, list[int]] = defaultdict(list)
        self._scans: list[tuple[Matcher, int]] = []
        self._prefix: _AffixTables = []
        self._prefix_ci: _AffixTables = []
        self._suffix: _AffixTables = []
        self._suffix_ci: _AffixTables = []
        self._range_table: _RangeTable | None = None

    def add(self, matcher: Matcher, alternative: int) -> None:
        """File one matcher of an anchor field."""
        if isinstance(matcher, Equals):
            self._exact[matcher.key].append(alternative)
        elif isinstance(matcher, EqualsIgnoreCase):
            self._exact_ci[matcher.text.lower()].append(alternative)
        elif isinstance(matcher, Prefix | Suffix):
            kind = "prefix" if isinstance(matcher, Prefix) else "suffix"
            text = matcher.text.lower() if matcher.ignore_case else matcher.text
            self._affixes[kind, matcher.ignore_case][text].append(alternative)
        elif isinstance(matcher, Wildcard):
            self._add_wildcard(matcher, alternative)
        elif isinstance(matcher, Numeric):
            self._ranges[matcher].append(alternative)
        else:
            self._scans.append((matcher, alternative))

    def _add_wildcard(self, matcher: Wildcard, alternative: int) -> None:
        if len(matcher.parts) == 1:
            self._exact[matcher.parts[0]].append(alternative)
        elif matcher.parts[0]:
            self._affixes["prefix", False][matcher.parts[0]].append((matcher, alternative))
        elif matcher.parts[-1]:
            self._affixes["suffix", False][matcher.parts[-1]].append((matcher, alternative))
        else:
            self._scans.append((matcher, alternative))

    def freeze(self) -> None:
        """Build the lookup tables once all anchors are filed."""
        self._prefix = _affix_tables(self._affixes["prefix", False])
        self._prefix_ci = _affix_tables(self._affixes["prefix", True])
        self._suffix = _affix_tables(self._affixes["suffix", False])
        self._suffix_ci = _affix_tables(self._affixes["suffix", True])
        self._range_table = _RangeTable(self._ranges) if self._ranges else None
        self._exact = dict(self._exact)

    def collect(self, value: Any, found: set[int]) -> None:
        """Add to ``found`` the alternatives whose anchor accepts this leaf value."""
        hits = self._exact.get(value_key(value))
        if hits:
            found.update(hits)
        if type(value) is str:
            self._collect_string(value, found)
        elif self._range_table is not None and is_number(value):
            found.update(self._range_table.lookup(value))
        for matcher, alternative in self._scans:
            if matcher.test(value):
                found.add(alternative)

    def _collect_string(self, value: str, found: set[int]) -> None:
        if self._prefix:
            _collect_affixes(self._prefix, value, value, True, found)
        if self._suffix:
            _collect_affixes(self._suffix, value, value, False, found)
        if self._exact_ci or self._prefix_ci or self._suffix_ci:
            lowered = value.lower()
            hits = self._exact_ci.get(lowered)
            if hits:
                found.update(hits)
            if self._prefix_ci:
                _collect_affixes(self._prefix_ci, lowered, value, True, found)
            if self._suffix_ci:
                _collect_affixes(self._suffix_ci, lowered, value, False, found)


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
