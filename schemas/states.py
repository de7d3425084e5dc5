"""Mistral's execution and task states, and which transitions between them are allowed."""

from __future__ import annotations

from enum import StrEnum


class ExecutionState(StrEnum):
    """State of a workflow execution, with Mistral's names."""

    IDLE = "IDLE"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        """True once nothing can change the execution any more (short of a re-run)."""
        return self in _FINAL


class TaskState(StrEnum):
    """State of a task execution, with Mistral's names."""

    IDLE = "IDLE"
    WAITING = "WAITING"
    RUNNING = "RUNNING"
    RUNNING_DELAYED = "RUNNING_DELAYED"
    PAUSED = "PAUSED"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        """True for SUCCESS, ERROR and CANCELLED."""
        return self in _FINAL


_FINAL = frozenset({"SUCCESS", "ERROR", "CANCELLED"})
