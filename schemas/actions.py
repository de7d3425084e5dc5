"""Action requests (engine → executors) and their results (executors → engine)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, ValidationError

from schemas.base import SCHEMA_VERSION, Message, UndecodableMessage, describe_error, utcnow


class CallerCredentials(Message):
    """The OpenStack identity an execution carries to its actions (Mistral's security
    context).

    ``cloud`` is the ``clouds.yaml`` entry chosen for the execution
    (``params.openstack.cloud``, else ``env.openstack_cloud``); an action's own
    ``cloud`` input still wins over it. ``auth_token`` (with ``project_id``), from
    ``params.openstack``, authenticates against that cloud's Keystone instead of the
    cloud's own credentials.
    """

    auth_token: str | None = Field(default=None, min_length=1, repr=False)
    project_id: str | None = None
    cloud: str | None = Field(default=None, min_length=1)


class ActionRequest(Message):
    """Ask an executor to run one action once; keyed by ``action_execution_id``.

    ``action_execution_id`` names one attempt of one action: a redelivered request
    carries the same id, and the executor's claim on that id makes it run at most once.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    action_execution_id: str
    execution_id: str
    task_id: str
    task_name: str
    workflow_name: str
    project: str = "default"
    action: str
    input: dict[str, Any] = Field(default_factory=dict)
    item_index: int | None = None
    attempt: int = 0
    timeout_s: float | None = None
    safe_rerun: bool = False
    security: CallerCredentials | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ActionResult(Message):
    """The outcome of one action execution, sent on the commands topic.

    ``command_id`` is derived from the action execution id, so a result sent twice
    is recognised by the engine and applied once.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    kind: Literal["action_result"] = "action_result"
    command_id: str
    execution_id: str
    task_id: str
    action_execution_id: str
    item_index: int | None = None
    attempt: int = 0
    state: Literal["SUCCESS", "ERROR"]
    output: Any = None
    #: Set instead of ``output`` when the output is larger than the configured threshold:
    #: the ``_id`` of a document ``{_id, value}`` in the ``results`` collection.
    output_ref: str | None = None
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime = Field(default_factory=utcnow)


def decode_action_request(raw: bytes) -> ActionRequest:
    """Parse one actions-topic message, raising UndecodableMessage with the reason."""
    try:
        return ActionRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise UndecodableMessage(describe_error(exc)) from None
