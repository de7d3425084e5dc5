"""Commands on the commands topic, each keyed by the execution it acts on.

Keying by execution id puts every command for one execution on one partition, so one
engine at a time applies them, in order.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from schemas.actions import ActionResult
from schemas.base import SCHEMA_VERSION, Message, UndecodableMessage, describe_error


class StartExecution(Message):
    """Start a workflow execution whose id the sender chose (so a retry is idempotent)."""

    schema_version: Literal[1] = SCHEMA_VERSION
    kind: Literal["start_execution"] = "start_execution"
    command_id: str
    execution_id: str
    project: str = "default"
    workflow_name: str
    input: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    description: str = ""
    event_id: str | None = None
    rule: str | None = None
    #: Set when a task of another execution started this one as a sub-workflow.
    parent_execution_id: str | None = None
    parent_task_id: str | None = None
    item_index: int | None = None
    root_execution_id: str | None = None


class ControlExecution(Message):
    """Change a running execution's course: pause, resume, cancel, fail or succeed it,
    or merge ``env`` into the env of one that waits (``update_env``).

    Pause, resume and cancel cascade to its sub-workflow executions.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    kind: Literal["control_execution"] = "control_execution"
    command_id: str
    execution_id: str
    action: Literal["pause", "resume", "cancel", "fail", "succeed", "update_env"]
    message: str | None = None
    #: For ``resume`` and ``update_env``: variables merged into the execution's env.
    env: dict[str, Any] | None = None


class RerunTask(Message):
    """Run a failed task again (Mistral's task rerun; Step Functions' redrive).

    ``reset`` false re-runs only the failed items of a with-items task.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    kind: Literal["rerun_task"] = "rerun_task"
    command_id: str
    execution_id: str
    task_id: str
    reset: bool = True
    env: dict[str, Any] | None = None


class DelayFired(Message):
    """A persisted delay (wait-before, wait-after, retry delay, timeout) came due.

    The delay poller publishes it; ``delay_id`` names the delay, so the engine applies
    it only while the task still waits for exactly that delay.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    kind: Literal["delay_fired"] = "delay_fired"
    command_id: str
    execution_id: str
    task_id: str
    delay_id: str
    delay_kind: Literal["wait_before", "wait_after", "retry", "timeout"]


class ChildFinished(Message):
    """A sub-workflow execution ended: its outcome, sent to the parent execution."""

    schema_version: Literal[1] = SCHEMA_VERSION
    kind: Literal["child_finished"] = "child_finished"
    command_id: str
    execution_id: str
    task_id: str
    child_execution_id: str
    item_index: int | None = None
    state: Literal["SUCCESS", "ERROR", "CANCELLED"]
    output: Any = None
    error: str | None = None


Command = Annotated[
    StartExecution | ActionResult | ControlExecution | RerunTask | DelayFired | ChildFinished,
    Field(discriminator="kind"),
]

_COMMAND = TypeAdapter[Command](Command)


class CommandMessage(Message):
    """The JSON form of a command on the wire (used to publish the JSON Schema)."""

    command: Command


def decode_command(raw: bytes) -> Command:
    """Parse one commands-topic message, raising UndecodableMessage with the reason."""
    try:
        return _COMMAND.validate_json(raw)
    except ValidationError as exc:
        raise UndecodableMessage(describe_error(exc)) from None
