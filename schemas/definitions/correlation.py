"""Correlation: a rule that fires when several named event patterns matched within a window.

``when`` combines the pattern names with ``and``, ``or`` and parentheses. It is parsed
here (never evaluated as code) into its disjunctive normal form: a list of clauses, each
a set of names that must all have matched, so checking it and saying what is still
missing are set operations.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Annotated, Any

from pydantic import (
    PositiveFloat,
    PrivateAttr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from schemas.definitions.values import Name, NonEmptyDict, Spec, shown

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_TOKEN = re.compile(rf"\s*(?:({_NAME})|(\()|(\))|(\S))")
_KEYWORDS = frozenset({"and", "or"})
#: A ``when`` whose normal form needs more clauses than this is refused as too complex.
MAX_CLAUSES = 64

Clauses = tuple[frozenset[str], ...]


class WhenError(ValueError):
    """A ``when`` that is not a valid combination of pattern names."""


def _tokens(text: str) -> list[tuple[str, int]]:
    """(token, 1-based column) pairs; names stay as written, keywords lower-case only."""
    found = []
    for match in _TOKEN.finditer(text):
        token = next(g for g in match.groups() if g is not None)
        if match.group(4) is not None:
            raise WhenError(f"unexpected {token!r} at column {match.start(4) + 1}")
        found.append((token, match.start(match.lastindex or 1) + 1))
    return found


class _Parser:
    """Recursive descent: ``or`` of ``and`` of names or parenthesised expressions."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def parse(self) -> Clauses:
        if not self.tokens:
            raise WhenError("expected pattern names joined with 'and' / 'or', got nothing")
        clauses = self._or()
        if self.at < len(self.tokens):
            token, column = self.tokens[self.at]
            raise WhenError(f"unexpected {token!r} at column {column}")
        return clauses

    def _peek(self) -> str | None:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else None

    def _or(self) -> Clauses:
        clauses = list(self._and())
        while self._peek() == "or":
            self.at += 1
            clauses += self._and()
        return _minimal(clauses)

    def _and(self) -> Clauses:
        clauses = self._operand()
        while self._peek() == "and":
            self.at += 1
            right = self._operand()
            clauses = _minimal([a | b for a in clauses for b in right])
        return clauses

    def _operand(self) -> Clauses:
        if self.at >= len(self.tokens):
            raise WhenError("expected a pattern name or '(' at the end")
        token, column = self.tokens[self.at]
        self.at += 1
        if token == "(":
            inner = self._or()
            if self._peek() != ")":
                raise WhenError(f"'(' at column {column} is never closed")
            self.at += 1
            return inner
        if token == ")" or token in _KEYWORDS:
            raise WhenError(f"expected a pattern name or '(' at column {column}, got {token!r}")
        return (frozenset({token}),)


def _minimal(clauses: list[frozenset[str]]) -> Clauses:
    """The clauses without duplicates or supersets of another (they add nothing)."""
    unique = sorted(set(clauses), key=lambda c: (len(c), sorted(c)))
    kept = [c for i, c in enumerate(unique) if not any(k < c for k in unique[:i])]
    if len(kept) > MAX_CLAUSES:
        raise WhenError(f"too complex: more than {MAX_CLAUSES} ways to be satisfied")
    return tuple(kept)


def parse_when(text: str) -> Clauses:
    """``when`` as clauses (sets of names that must all have matched), at least one.

    Raises:
        WhenError: the text is not names joined by ``and`` / ``or`` with parentheses.
    """
    return _Parser(text).parse()


class Correlation(Spec):
    """``correlate``: named event ``patterns``, the ``when`` that completes them, the
    ``window`` (seconds) within which the matches must fall, and an optional ``key``
    expression that correlates each key's events apart.

    ``when`` defaults to every name joined with ``and``.
    """

    patterns: Annotated[
        dict[str, NonEmptyDict],
        WithJsonSchema(
            {
                "type": "object",
                "minProperties": 2,
                "propertyNames": {"pattern": f"^{_NAME}$", "not": {"enum": sorted(_KEYWORDS)}},
                "additionalProperties": {"type": "object", "minProperties": 1},
            }
        ),
    ]
    when: str | None = None
    window: PositiveFloat
    key: Name | None = None
    _clauses: Clauses = PrivateAttr(default=())

    @field_validator("patterns")
    @classmethod
    def _several(cls, patterns: dict[str, Any]) -> dict[str, Any]:
        bad = [n for n in patterns if n in _KEYWORDS or not re.fullmatch(_NAME, n)]
        if bad:
            raise PydanticCustomError(
                "patterns",
                "pattern name {bad} may only hold letters, digits, '_' and '-', start with a "
                "letter or '_', and not be 'and' or 'or'",
                {"bad": _quoted(bad)},
            )
        if len(patterns) < 2:
            raise PydanticCustomError(
                "patterns",
                "expected at least 2 named patterns, got {count} (use 'pattern' for one)",
                {"count": len(patterns)},
            )
        return patterns

    @field_validator("when")
    @classmethod
    def _valid_when(cls, when: str, info: ValidationInfo) -> str:
        try:
            clauses = parse_when(when)
        except WhenError as exc:
            raise PydanticCustomError(
                "when", "invalid 'when' {when}: {reason}", {"when": shown(when), "reason": str(exc)}
            ) from None
        names = info.data.get("patterns")
        if names is None:  # already reported
            return when
        used = frozenset().union(*clauses)
        unknown = sorted(used - set(names))
        if unknown:
            raise PydanticCustomError(
                "when",
                "'when' names {unknown}, not among the patterns ({known})",
                {"unknown": _quoted(unknown), "known": _quoted(sorted(names))},
            )
        unused = sorted(set(names) - used)
        if unused:
            raise PydanticCustomError(
                "when",
                "'when' never uses pattern {unused}, so it could not matter",
                {"unused": _quoted(unused)},
            )
        return when

    def model_post_init(self, context: Any, /) -> None:
        """Parse ``when`` once (validated already), or default to every name with ``and``."""
        self._clauses = parse_when(self.when) if self.when else (frozenset(self.patterns),)

    def holds(self, present: Collection[str]) -> bool:
        """Whether the names in ``present`` satisfy ``when``."""
        return any(clause.issubset(present) for clause in self._clauses)

    def missing(self, present: Collection[str]) -> list[str]:
        """The fewest names that, matched too, would satisfy ``when`` (sorted)."""
        gaps: list[frozenset[str]] = [c.difference(present) for c in self._clauses]
        return sorted(sorted(gaps, key=len)[0])


def _quoted(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)
