"""Numeric ranges as an interval index: one binary search per event number."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from engine.patterns._matchers import Numeric

_INF = float("inf")


class RangeTable:
    """Numeric ranges, the number line cut into elementary pieces at every bound.

    Each piece knows the targets of the ranges covering it, so looking a number up
    costs one bisection whatever the number of ranges.
    """

    __slots__ = ("_bounds", "_pieces")

    def __init__(self, ranges: Iterable[tuple[Numeric, int]]) -> None:
        entries = list(ranges)
        bounds = sorted(
            {r.lower for r, _ in entries if r.lower > -_INF}
            | {r.upper for r, _ in entries if r.upper < _INF}
        )
        position = {bound: index for index, bound in enumerate(bounds)}
        # Piece 2i+1 is the point bounds[i]; piece 2i is the open gap before it.
        pieces: list[list[int]] = [[] for _ in range(2 * len(bounds) + 1)]
        for numeric, target in entries:
            start = 0
            if numeric.lower > -_INF:
                start = 2 * position[numeric.lower] + (1 if numeric.lower_inclusive else 2)
            end = 2 * len(bounds)
            if numeric.upper < _INF:
                end = 2 * position[numeric.upper] + (1 if numeric.upper_inclusive else 0)
            for piece in range(start, end + 1):
                pieces[piece].append(target)
        self._bounds = bounds
        self._pieces = [tuple(piece) for piece in pieces]

    def lookup(self, number: float) -> tuple[int, ...]:
        """The targets of the ranges containing ``number``."""
        index = bisect_left(self._bounds, number)
        if index < len(self._bounds) and self._bounds[index] == number:
            return self._pieces[2 * index + 1]
        return self._pieces[2 * index]
