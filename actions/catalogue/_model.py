"""What an action is: its input model, its run context, and the outcome of a run."""

from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticUndefined

from schemas.actions import ActionRequest


class ActionSettings(BaseModel):
    """Operator settings that bound what actions may do; shared by every run.

    Attributes:
        allow_private_networks: let std.http reach loopback and private addresses
            (link-local and cloud metadata addresses stay refused).
        http_timeout_s: timeout of an HTTP request whose input gives none.
        http_max_response_bytes: largest HTTP response body read; larger is an error.
        api_url: base URL of Squall's API, used to build std.mistral_http callbacks.
        connect_timeout_s: timeout for opening SMTP and SSH connections.
        smtp_ca_file: CA bundle to verify SMTP servers with (default: system store).
        ssh_key_dir: directory that std.ssh ``private_key_filename`` is relative to.
        ssh_known_hosts: known_hosts file to verify SSH host keys with; None skips
            the check, as Mistral does.
        openstack_cloud: the ``clouds.yaml`` entry OpenStack actions use when their
            input names none (None: ``OS_CLOUD`` or the ``OS_*`` variables).
        openstack_threads: threads that run the (blocking) OpenStack SDK calls.
        kafka_bootstrap: the cluster std.kafka publishes to when its input names none.
        kafka_internal_prefix: Squall's topic prefix; std.kafka refuses its internal
            topics (commands, actions, dead letters).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    allow_private_networks: bool = False
    http_timeout_s: float = Field(default=60.0, gt=0)
    http_max_response_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    api_url: str | None = None
    connect_timeout_s: float = Field(default=30.0, gt=0)
    smtp_ca_file: str | None = None
    ssh_key_dir: str = "~/.ssh"
    ssh_known_hosts: str | None = None
    openstack_cloud: str | None = None
    openstack_threads: int = Field(default=32, ge=1, le=1024)
    kafka_bootstrap: str | None = None
    kafka_internal_prefix: str | None = None


class SecurityContext(BaseModel):
    """The caller's credentials carried by an execution, as Mistral's security context.

    OpenStack actions use ``cloud`` (a ``clouds.yaml`` entry) when their input names
    none, and ``auth_token`` (scoped to ``project_id``) against the Keystone of the
    configured cloud instead of the cloud's own credentials.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    auth_token: str | None = Field(default=None, repr=False)
    project_id: str | None = None
    cloud: str | None = None


class ActionContext(BaseModel):
    """Where an action runs: the execution, task and attempt it belongs to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    execution_id: str = ""
    task_id: str = ""
    task_name: str = ""
    workflow_name: str = ""
    action_execution_id: str = ""
    project: str = "default"
    settings: ActionSettings = Field(default_factory=ActionSettings)
    security: SecurityContext | None = None

    @classmethod
    def from_request(
        cls, request: ActionRequest, settings: ActionSettings | None = None
    ) -> ActionContext:
        """Build the context of one action request.

        Args:
            request: the request the executor consumed.
            settings: the executor's action settings (defaults if omitted).
        """
        return cls(
            execution_id=request.execution_id,
            task_id=request.task_id,
            task_name=request.task_name,
            workflow_name=request.workflow_name,
            action_execution_id=request.action_execution_id,
            project=request.project,
            settings=settings or ActionSettings(),
        )


class ActionOutcome(BaseModel):
    """The result of running an action once.

    ``state`` is SUCCESS or ERROR. On ERROR, ``error`` is a readable message and
    ``output`` holds the action's structured error data when it has one (Mistral's
    error result). ``is_async`` means the action only started: its result arrives
    later through the API, so no result must be reported now.
    """

    model_config = ConfigDict(frozen=True)

    state: Literal["SUCCESS", "ERROR"]
    output: Any = None
    error: str | None = None
    is_async: bool = False

    @classmethod
    def success(cls, output: Any = None) -> ActionOutcome:
        """A successful outcome carrying ``output``."""
        return cls(state="SUCCESS", output=output)

    @classmethod
    def failure(cls, error: str, data: Any = None) -> ActionOutcome:
        """A failed outcome with a message and optional structured error data."""
        return cls(state="ERROR", error=error, output=data)

    @classmethod
    def started(cls) -> ActionOutcome:
        """An async action that started; its result comes later through the API."""
        return cls(state="SUCCESS", is_async=True)


class ActionInfo(BaseModel):
    """How an action is listed: as in Mistral's ``GET /v2/actions``.

    ``base`` is the action an ad-hoc action runs (None for the catalogue's own).
    """

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    input: str
    is_async: bool = False
    base: str | None = None


class ActionInput(BaseModel):
    """Base of action input models: unknown inputs are refused, as in Mistral."""

    # populate_by_name works on every pydantic 2.x the project allows.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class NoInput(ActionInput):
    """The input of an action that takes no parameters."""


InputT = TypeVar("InputT", bound=BaseModel)


class Action(ABC, Generic[InputT]):
    """An action: a name, a description, an input model and an async ``run``.

    Subclasses set ``name`` and ``input_model`` as class attributes; the description
    defaults to the class docstring. ``is_async`` actions return nothing useful from
    ``run``: their result is posted later through the API.
    """

    name: str
    input_model: type[InputT]
    description: str = ""
    is_async: bool = False

    @abstractmethod
    async def run(self, params: InputT, ctx: ActionContext) -> Any:
        """Run once with validated ``params``; raise ``ActionFailed`` to fail."""

    def info(self, name: str | None = None) -> ActionInfo:
        """This action's listing entry (optionally under another registered name)."""
        return ActionInfo(
            name=name or self.name,
            description=self.description or inspect.getdoc(type(self)) or "",
            input=input_signature(self.input_model),
            is_async=self.is_async,
        )


def input_signature(model: type[BaseModel]) -> str:
    """Mistral's one-line input signature: ``url, method="GET", params=null``.

    Required inputs come bare, optional ones with their JSON-encoded default.
    """
    parts: list[str] = []
    for field_name, field in model.model_fields.items():
        key = field.alias or field_name
        if field.is_required():
            parts.append(key)
            continue
        default = field.default
        if default is PydanticUndefined and field.default_factory is not None:
            default = field.default_factory()  # type: ignore[call-arg]
        try:
            parts.append(f"{key}={json.dumps(default)}")
        except TypeError:
            parts.append(f"{key}={default!r}")
    return ", ".join(parts)
