"""Contracts shared by every part of Squall: messages on Kafka and documents in MongoDB.

Everything here is a pydantic v2 model; every other package depends on this one and
this one depends on no other Squall package.
"""

from schemas.actions import ActionRequest, ActionResult
from schemas.commands import (
    Command,
    CommandMessage,
    ControlExecution,
    RerunTask,
    StartExecution,
    decode_command,
)
from schemas.events import CloudEvent, decode_event
from schemas.executions import ExecutionDoc, HistoryEntry, TaskDoc
from schemas.states import ExecutionState, TaskState

__all__ = [
    "ActionRequest",
    "ActionResult",
    "CloudEvent",
    "Command",
    "CommandMessage",
    "ControlExecution",
    "ExecutionDoc",
    "ExecutionState",
    "HistoryEntry",
    "RerunTask",
    "StartExecution",
    "TaskDoc",
    "TaskState",
    "decode_command",
    "decode_event",
]
