"""Lifecycle events the engine publishes, so rules can chain on executions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas import CloudEvent
from schemas.ids import derive_id

SOURCE = "squall/engine"


def execution_event(doc: dict[str, Any], state: str, now: datetime) -> CloudEvent:
    """``squall.execution.<state>`` for an execution that started or finished."""
    return CloudEvent(
        id=derive_id(doc["_id"], "execution", state),
        source=SOURCE,
        type=f"squall.execution.{state.lower()}",
        subject=doc["_id"],
        time=now,
        project=doc["project"],
        data={
            "execution_id": doc["_id"],
            "workflow_name": doc["workflow_name"],
            "state": state,
            "state_info": doc["state_info"],
            "output": doc["output"] if state != "RUNNING" else None,
            "rule": doc["rule"],
            "event_id": doc["event_id"],
        },
    )


def task_failed_event(doc: dict[str, Any], task: dict[str, Any], now: datetime) -> CloudEvent:
    """``squall.task.failed`` for a task that ended in ERROR."""
    return CloudEvent(
        id=derive_id(task["id"], "task", "ERROR"),
        source=SOURCE,
        type="squall.task.failed",
        subject=doc["_id"],
        time=now,
        project=doc["project"],
        data={
            "execution_id": doc["_id"],
            "workflow_name": doc["workflow_name"],
            "task_id": task["id"],
            "task_name": task["name"],
            "state_info": task["state_info"],
        },
    )
