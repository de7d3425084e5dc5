"""Stored data that expressions read, loaded on demand: the executions ``tasks()`` and
``executions()`` read, and task results kept apart from their execution document.

Expressions run synchronously while the store is asynchronous, so an expression that
asks for data not loaded yet raises :class:`NeedsLoading` naming the queries; the
engine loads them into the batch's :class:`Lookups` and applies the commands again to
the execution as stored (applying is a pure function of the document, the commands and
what was loaded, so the retry does what a single pass with the data at hand would have
done). Only workflows whose text mentions these functions, and executions that have a
result stored apart, get a ``Lookups``: the others never pay for it. What was loaded
lives as long as the batch: the execution document keeps only the reference.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from engine.expressions import ExpressionError
from schemas import TaskState
from schemas.base import as_utc

Doc = dict[str, Any]
#: A query: ``("execution", project, id)``, ``("tree", project, root id)``,
#: ``("project", project)`` or ``("executions", project, id, root id, state, from, to)``
#: select executions; ``("result", action execution id)`` and ``("items", task id,
#: count)`` a task result stored apart.
LookupKey = tuple[str | None, ...]

#: The key of the placeholder a task result stored apart leaves in the document.
RESULT_REF = "__result_ref__"
#: Set on an execution document once one of its task results is stored apart.
RESULTS_APART = "results_apart"
#: Lookup kinds that name a task result stored apart rather than executions.
RESULT_KINDS = ("result", "items")

_MENTION = re.compile(r"\b(?:tasks|executions)\s*\(")
#: Fields never read through the functions, left out of what is loaded.
_UNREAD = {"outbox": 0, "history": 0, "joins": 0, "adhoc": 0}


def mentions_lookups(text: str) -> bool:
    """Whether a workflow's text calls ``tasks()`` or ``executions()``."""
    return _MENTION.search(text) is not None


def stored_apart(task: Doc) -> LookupKey | None:
    """The query that loads ``task``'s result when it is kept apart from its execution
    (a large result, or the items of a large with-items task); None when it is not."""
    result = task.get("result")
    if isinstance(result, dict) and len(result) == 1 and RESULT_REF in result:
        return ("result", str(result[RESULT_REF]))
    items = task.get("items")
    if (
        result is None
        and items
        and task.get("result_ref") == "items"
        and TaskState(task["state"]).is_final
    ):
        # Execution documents name a task ``id``; the task index (and its views) ``_id``.
        return ("items", task.get("id") or task["_id"], str(items["count"]))
    return None


def assemble_items(known: dict[int, tuple[str, Any]], count: int) -> list[Any]:
    """A with-items task's result from its items' (state, result) by index: the results
    in item order, None for an item with none."""
    return [known[i][1] if i in known else None for i in range(count)]


class NeedsLoading(Exception):
    """An expression asked for stored data that is not loaded yet."""

    def __init__(self, key: LookupKey, *more: LookupKey) -> None:
        super().__init__(f"stored data not loaded: {key}")
        self.key = key
        #: Every query the expression is known to need, loaded in one round.
        self.keys = (key, *more)

    @property
    def only_results(self) -> bool:
        """Whether only task results stored apart are missing: each is loaded once per
        batch, so asking for them again and again cannot go on forever."""
        return all(key[0] in RESULT_KINDS for key in self.keys)


class Lookups:
    """What one batch loaded for ``tasks()`` and ``executions()``: executions by query
    and the workflow definitions they ran, by hash."""

    def __init__(self) -> None:
        self._found: dict[LookupKey, list[Doc]] = {}
        self._results: dict[LookupKey, Any] = {}
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

    def results(self, keys: list[LookupKey]) -> list[Any]:
        """The task results stored apart that ``keys`` name, in order.

        Raises:
            NeedsLoading: some are not loaded yet (it names them all).
            ExpressionError: some are not loaded and no more rounds are allowed.
        """
        missing = [key for key in keys if key not in self._results]
        if not missing:
            return [self._results[key] for key in keys]
        if self.final:
            raise ExpressionError("task()", "too many task results stored apart asked for")
        raise NeedsLoading(*missing)

    def put_result(self, key: LookupKey, value: Any) -> None:
        """Record the task result stored apart that ``key`` names."""
        self._results[key] = value

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
    return as_utc(value)
