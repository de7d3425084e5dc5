"""Execution and task documents as the API shows them (and MongoDB stores them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schemas.states import ExecutionState, TaskState


class HistoryEntry(BaseModel):
    """One state change of an execution or task: when, to what, and why."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    state: str
    task: str | None = None
    reason: str | None = None


class TaskDoc(BaseModel):
    """One task execution of a workflow execution."""

    model_config = ConfigDict(extra="ignore")

    id: str
    execution_id: str
    name: str
    state: TaskState
    state_info: str | None = None
    action: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    result: Any = None
    published: dict[str, Any] = Field(default_factory=dict)
    #: Mistral's runtime context: ``retry_task_policy``, ``with_items``, ``triggered_by``.
    runtime_context: dict[str, Any] = Field(default_factory=dict)
    #: ``ACTION`` or ``WORKFLOW`` (a sub-workflow task), as in Mistral.
    type: str = "ACTION"
    created_at: datetime
    updated_at: datetime


class ExecutionDoc(BaseModel):
    """A workflow execution: its state, input, output and where it came from."""

    model_config = ConfigDict(extra="ignore")

    id: str
    project: str
    workflow_name: str
    state: ExecutionState
    state_info: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    output: Any = None
    description: str = ""
    event_id: str | None = None
    rule: str | None = None
    parent_execution_id: str | None = None
    parent_task_id: str | None = None
    root_execution_id: str | None = None
    created_at: datetime
    updated_at: datetime
    history: list[HistoryEntry] = Field(default_factory=list)
    tasks: list[TaskDoc] = Field(default_factory=list)
