"""Value matchers: one class per EventBridge comparison operator.

Each matcher tests one leaf value of an event (a string, number, boolean or null);
objects and arrays never reach a matcher. Matchers that can be looked up in a hash
map or a sorted table say so through their attributes; the index in ``_index`` uses
them, and ``test`` is the direct (reference) evaluation.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Leaf = str | int | float | bool | None
"""A JSON scalar as it appears in an event."""


def value_key(value: Any) -> Any:
    """Hash key under which a JSON scalar is equal to the same value in a pattern.

    Numbers compare by value (``300`` equals ``3.0e2``), while ``true`` must never equal
    ``1`` although Python says so, and a string never equals a number.
    """
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind is bool:
        return ("bool", value)
    if kind is int or kind is float:
        try:
            return float(value)
        except OverflowError:
            return ("int", value)
    return ("other", repr(value))


@functools.lru_cache(maxsize=4096)
def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address ``text`` holds, or None when it holds none."""
    # Cached because one event address is looked up in several networks or tables.
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def address_number(text: str) -> tuple[int, int] | None:
    """The IP version and the address as an integer, or None when ``text`` holds none.

    Dotted IPv4 text, the common case, is read here with ``ipaddress``'s exact rules
    (four decimal octets up to 255, no leading zeros), about twice as fast.
    """
    if ":" in text:
        address = parse_address(text)
        return None if address is None else (address.version, int(address))
    octets = text.split(".")
    if len(octets) != 4:
        return None
    number = 0
    for octet in octets:
        if not (octet.isascii() and octet.isdigit()) or len(octet) > 3:
            return None
        if octet[0] == "0" and octet != "0":
            return None
        value = int(octet)
        if value > 255:
            return None
        number = number << 8 | value
    return 4, number


def is_number(value: Any) -> bool:
    """True for a JSON number (and not for a boolean)."""
    kind = type(value)
    return kind is int or kind is float


class Matcher:
    """Base of all value matchers."""

    __slots__ = ()

    def test(self, value: Any) -> bool:
        """Whether one leaf value of an event satisfies this matcher."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Equals(Matcher):
    """An exact value: string, number, boolean or null."""

    value: Leaf
    key: Any = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", value_key(self.value))

    def test(self, value: Any) -> bool:
        return bool(value_key(value) == self.key)


@dataclass(frozen=True, slots=True)
class EqualsIgnoreCase(Matcher):
    """A string equal to ``text`` regardless of case."""

    text: str

    def test(self, value: Any) -> bool:
        return type(value) is str and value.lower() == self.text.lower()


@dataclass(frozen=True, slots=True)
class Prefix(Matcher):
    """A string starting with ``text`` (optionally ignoring case)."""

    text: str
    ignore_case: bool = False

    def test(self, value: Any) -> bool:
        if type(value) is not str:
            return False
        if self.ignore_case:
            return value.lower().startswith(self.text.lower())
        return value.startswith(self.text)


@dataclass(frozen=True, slots=True)
class Suffix(Matcher):
    """A string ending with ``text`` (optionally ignoring case)."""

    text: str
    ignore_case: bool = False

    def test(self, value: Any) -> bool:
        if type(value) is not str:
            return False
        if self.ignore_case:
            return value.lower().endswith(self.text.lower())
        return value.endswith(self.text)


@dataclass(frozen=True, slots=True)
class Wildcard(Matcher):
    """A string matching a pattern where ``*`` stands for any run of characters.

    ``parts`` are the literal pieces between the stars (already unescaped), so a
    pattern without a star has one part and ``*a*`` has three (``""``, ``"a"``, ``""``).
    """

    parts: tuple[str, ...]
    regex: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        body = ".*".join(re.escape(part) for part in self.parts)
        object.__setattr__(self, "regex", re.compile(body, re.DOTALL))

    def test(self, value: Any) -> bool:
        return type(value) is str and self.regex.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Numeric(Matcher):
    """A JSON number inside a range; a missing bound is infinite."""

    lower: float = float("-inf")
    lower_inclusive: bool = False
    upper: float = float("inf")
    upper_inclusive: bool = False

    def test(self, value: Any) -> bool:
        if not is_number(value):
            return False
        if value < self.lower or (value == self.lower and not self.lower_inclusive):
            return False
        return value < self.upper or (value == self.upper and self.upper_inclusive)


@dataclass(frozen=True, slots=True)
class Cidr(Matcher):
    """A string holding an IPv4 or IPv6 address inside a network."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network

    def test(self, value: Any) -> bool:
        if type(value) is not str:
            return False
        address = parse_address(value)
        return (
            address is not None
            and address.version == self.network.version
            and address in self.network
        )


@dataclass(frozen=True, slots=True)
class Exists(Matcher):
    """``{"exists": true}``: any leaf value, null included."""

    def test(self, value: Any) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class AnythingBut(Matcher):
    """Any leaf value that none of the ``excluded`` matchers accepts.

    Excluded prefixes, suffixes and wildcards only accept strings, so a number or
    null is never excluded by them.
    """

    excluded: tuple[Matcher, ...]

    def test(self, value: Any) -> bool:
        return not any(matcher.test(value) for matcher in self.excluded)


@dataclass(frozen=True, slots=True)
class LeafRule:
    """The array of matchers given for one field: they are alternatives (OR).

    ``accepts_absence`` is set by ``{"exists": false}``: the field then also matches
    when the event has no leaf value at its path.
    """

    matchers: tuple[Matcher, ...]
    accepts_absence: bool

    def test_values(self, values: Sequence[Any]) -> bool:
        """Whether the leaf values an event has at this field's path satisfy it."""
        if not values:
            return self.accepts_absence
        return any(matcher.test(value) for value in values for matcher in self.matchers)
