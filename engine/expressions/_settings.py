"""Evaluation settings: Mistral's ``[yaql]`` options plus Squall's own limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ExpressionSettings"]

UNLIMITED = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpressionSettings:
    """How expressions are evaluated.

    Mistral ships with no limits (``-1``); Squall runs untrusted workflow text on a shared
    engine, so it limits by default. ``-1`` (or ``None`` for ``timeout``) disables a limit.

    Args:
        limit_iterators: most items a collection may yield inside one YAQL function call,
            and the largest Jinja2 ``range()``.
        memory_quota: bytes one YAQL value (or one Jinja2 repeated string/list) may take.
        timeout: seconds one expression may run before it is stopped.
        cache_size: how many distinct parsed expressions each cache keeps (LRU).
        convert_input_data: give YAQL frozen (hashable) copies of the data, as Mistral
            does by default; only the top-level keys an expression reads get converted.
        convert_tuples_to_lists: YAQL results hold lists, not tuples.
        convert_sets_to_lists: YAQL results hold lists, not sets (Mistral's JSON
            serializer turns sets into lists anyway).
        iterable_dicts: YAQL iterates over a dict's keys (yaql 0.2 behaviour).
        keyword_operator: YAQL's named-argument operator (``=>``).
        allow_delegates: let YAQL parse delegate expressions.
    """

    limit_iterators: int = 100_000
    memory_quota: int = 64 * 1024 * 1024
    timeout: float | None = 5.0
    cache_size: int = 4096
    convert_input_data: bool = True
    convert_tuples_to_lists: bool = True
    convert_sets_to_lists: bool = True
    iterable_dicts: bool = False
    keyword_operator: str = "=>"
    allow_delegates: bool = False

    def __post_init__(self) -> None:
        for name in ("limit_iterators", "memory_quota"):
            value = getattr(self, name)
            if value < UNLIMITED or value == 0:
                raise ValueError(f"{name} must be a positive number or -1, got {value}")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f"timeout must be positive or None, got {self.timeout}")
        if self.cache_size < 1:
            raise ValueError(f"cache_size must be at least 1, got {self.cache_size}")

    def yaql_options(self) -> dict[str, Any]:
        """The options dict handed to ``yaql``'s engine factory."""
        return {
            "yaql.limitIterators": self.limit_iterators,
            "yaql.memoryQuota": self.memory_quota,
            "yaql.convertTuplesToLists": self.convert_tuples_to_lists,
            "yaql.convertSetsToLists": self.convert_sets_to_lists,
            "yaql.iterableDicts": self.iterable_dicts,
            "yaql.convertOutputData": True,
            "yaql.convertInputData": self.convert_input_data,
        }
