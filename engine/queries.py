"""Read-side views of the engine's documents, as the API shows them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from engine.workflow.lookups import LookupKey, Lookups, stored_apart
from schemas import ExecutionDoc, TaskDoc

_HIDDEN_TASK_FIELDS = ("in_context", "next", "error_handled", "action_execution_id")


class ResultSource(Protocol):
    """Where results kept apart from the execution document are read from."""

    async def load_lookups(self, lookups: Lookups, keys: Sequence[LookupKey]) -> None:
        """Load the stored data ``keys`` name into ``lookups``."""


def execution_view(doc: dict[str, Any]) -> ExecutionDoc:
    """An execution with its tasks in the order they started, internals left out."""
    tasks = sorted(doc.get("tasks", {}).values(), key=lambda t: t["created_at"])
    return ExecutionDoc(
        id=doc["_id"],
        project=doc["project"],
        workflow_name=doc["workflow_name"],
        state=doc["state"],
        state_info=doc.get("state_info"),
        input=doc.get("input") or {},
        params=doc.get("params") or {},
        output=doc.get("output"),
        description=doc.get("description", ""),
        event_id=doc.get("event_id"),
        rule=doc.get("rule"),
        parent_execution_id=doc.get("parent_execution_id"),
        parent_task_id=doc.get("parent_task_id"),
        root_execution_id=doc.get("root_execution_id"),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        history=doc.get("history", []),
        tasks=[
            TaskDoc(
                execution_id=doc["_id"],
                **{k: v for k, v in t.items() if k not in _HIDDEN_TASK_FIELDS},
            )
            for t in tasks
        ],
    )


async def resolve_results(doc: dict[str, Any], source: ResultSource) -> dict[str, Any]:
    """``doc`` with every task result that is stored apart read back in (for the API)."""
    await resolve_task_results(doc.get("tasks", {}).values(), source)
    return doc


async def resolve_task_results(tasks: Iterable[dict[str, Any]], source: ResultSource) -> None:
    """Read back in the results of ``tasks`` (execution tasks or ``live_tasks`` entries)
    that are stored apart, as the engine reads them for expressions."""
    wanted = [(task, key) for task in tasks if (key := stored_apart(task)) is not None]
    if not wanted:
        return
    lookups = Lookups()
    await source.load_lookups(lookups, [key for _, key in wanted])
    for (task, _), value in zip(wanted, lookups.results([k for _, k in wanted]), strict=True):
        task["result"] = value


def live_tasks(
    index: list[dict[str, Any]], executions: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Task index entries completed with their current state from their executions.

    Entries whose execution is gone are dropped.
    """
    live = []
    for entry in index:
        execution = executions.get(entry["execution_id"])
        if execution is None or entry["_id"] not in execution.get("tasks", {}):
            continue
        task = execution["tasks"][entry["_id"]]
        fields = {k: v for k, v in task.items() if k not in ("id", "in_context", "chosen")}
        live.append({**fields, **entry, "workflow_name": execution["workflow_name"]})
    return live
