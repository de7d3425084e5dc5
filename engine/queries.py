"""Read-side views of the engine's documents, as the API shows them."""

from __future__ import annotations

from typing import Any

from schemas import ExecutionDoc, TaskDoc

_HIDDEN_TASK_FIELDS = ("in_context", "next", "error_handled", "action_execution_id")


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
