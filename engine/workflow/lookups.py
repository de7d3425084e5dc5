"""Stored executions that ``tasks()`` and ``executions()`` read, loaded on demand.

Expressions run synchronously while the store is asynchronous, so an expression that
asks for executions not loaded yet raises :class:`NeedsLoading` naming the query; the
engine loads it into the batch's :class:`Lookups` and applies the commands again to the
execution as stored (applying is a pure function of the document, the commands and what
was loaded, so the retry does what a single pass with the data at hand would have done).
Only workflows whose text mentions these functions get a ``Lookups``: the others never
pay for it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from engine.expressions import ExpressionError

Doc = dict[str, Any]
#: A query: ``("execution", project, id)``, ``("tree", project, root id)``,
#: ``("project", project)`` or ``("executions", project, id, root id, state, from, to)``.
LookupKey = tuple[str | None, ...]

_MENTION = re.compile(r"\b(?:tasks|executions)\s*\(")
#: Fields never read through the functions, left out of what is loaded.
_UNREAD = {"outbox": 0, "history": 0, "joins": 0, "adhoc": 0}


def mentions_lookups(text: str) -> bool:
    """Whether a workflow's text calls ``tasks()`` or ``executions()``."""
    return _MENTION.search(text) is not None


class NeedsLoading(Exception):
    """An expression asked for stored executions that are not loaded yet."""

    def __init__(self, key: LookupKey) -> None:
        super().__init__(f"stored executions not loaded: {key}")
        self.key = key


class Lookups:
    """What one batch loaded for ``tasks()`` and ``executions()``: executions by query
    and the workflow definitions they ran, by hash."""

    def __init__(self) -> None:
        self._found: dict[LookupKey, list[Doc]] = {}
        self.specs: dict[str, Doc] = {}
        #: Set for a last attempt: a query still missing then fails the expression
        #: instead of asking for another round.
        self.final = False

    def get(self, key: LookupKey) -> list[Doc]:
        """The executions ``key`` selects, oldest first.

        Raises:
            NeedsLoading: they are not loaded yet.
            ExpressionError: they are not loaded and no more rounds are allowed.
        """
        found = self._found.get(key)
        if found is not None:
            return found
        if self.final:
            raise ExpressionError(
                f"{key[0]}()", "too many different stored executions asked for at once"
            )
        raise NeedsLoading(key)

    def put(self, key: LookupKey, docs: list[Doc], specs: dict[str, Doc]) -> None:
        """Record what ``key`` selected and the definitions those executions ran."""
        self._found[key] = docs
        self.specs.update(specs)


def query_of(key: LookupKey) -> tuple[Doc, Doc]:
    """The MongoDB filter and projection that load ``key``."""
    kind, project = key[0], key[1]
    if kind == "execution":
        return {"_id": key[2], "project": project}, _UNREAD
    if kind == "tree":
        root = key[2]
        return {"project": project, "$or": [{"_id": root}, {"root_execution_id": root}]}, _UNREAD
    if kind == "project":
        return {"project": project}, _UNREAD
    _, _, id_, root, state, from_time, to_time = key
    query: Doc = {"project": project}
    for field, value in (("_id", id_), ("root_execution_id", root), ("state", state)):
        if value is not None:
            query[field] = value
    created: Doc = {}
    if from_time is not None:
        created["$gte"] = parse_time(from_time)
    if to_time is not None:
        created["$lt"] = parse_time(to_time)
    if created:
        query["created_at"] = created
    return query, {**_UNREAD, "tasks": 0}


def parse_time(text: str) -> datetime:
    """A time given to ``executions()`` (``YYYY-MM-DD[ HH:MM:SS]``, UTC unless it says)."""
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        raise ExpressionError(
            "executions()", f"invalid time {text!r}, expected YYYY-MM-DD HH:MM:SS"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
