"""What Squall's OpenStack-compatible routes take and answer, for the OpenAPI document.

Mistral's ``/v2`` and Keystone's ``/v3`` are plain aiohttp routes whose handlers speak
those services' wire formats. ``OPERATIONS`` describes each of them by
``(method, path)``: query parameters, request bodies and answers as Mistral's API
reference and Keystone's identity API define them, limited to what Squall reads.
``squall.api.openapi`` merges the table in; a test fails when a route has no entry.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from squall.api.endpoint import Endpoint
from squall.api.keystone import KeystoneAuthRequest, KeystoneFault

#: Mistral's clients send JSON fields (input, params, variables) encoded or not.
Encoded = str | dict[str, Any]
Scope = Literal["private", "public"]
ExecutionState = Literal["PAUSED", "RUNNING", "CANCELLED", "ERROR", "SUCCESS"]


class _Open(BaseModel):
    # Mistral's resources carry more fields than any one request needs.
    model_config = ConfigDict(extra="allow")


class MistralFault(BaseModel):
    """Mistral's error body, which its clients show their user."""

    faultcode: Literal["Client", "Server"]
    faultstring: str
    debuginfo: str | None = None


# Query parameters.


class ListQuery(BaseModel):
    """Mistral's paging, sorting and projection of a list."""

    marker: str | None = Field(None, description="id of the last item of the previous page")
    limit: int | None = Field(None, description="most items in one answer (capped at 1000)")
    sort_keys: str | None = Field(None, description="comma-separated fields to sort by")
    sort_dirs: str | None = Field(None, description="comma-separated asc or desc, per sort key")
    fields: str | None = Field(None, description="comma-separated fields to answer (and id)")


_FILTER = "equal to this value, or eq:, neq:, in:a,b, nin:, gt:, gte:, lt:, lte: a value"


class ExecutionListQuery(ListQuery):
    """Filters of ``GET /v2/executions``: each is a value or an operator and a value."""

    id: str | None = Field(None, description=_FILTER)
    workflow_name: str | None = Field(None, description=_FILTER)
    workflow_id: str | None = Field(None, description="the workflow's id")
    description: str | None = Field(None, description=_FILTER)
    state: str | None = Field(None, description=_FILTER)
    state_info: str | None = Field(None, description=_FILTER)
    task_execution_id: str | None = Field(None, description="the parent task's id")
    root_execution_id: str | None = Field(None, description=_FILTER)
    created_at: str | None = Field(None, description=_FILTER)
    updated_at: str | None = Field(None, description=_FILTER)
    include_output: bool | None = Field(None, description="answer each execution's output")


class TaskListQuery(ListQuery):
    """Filters of ``GET /v2/tasks``: each is a value or an operator and a value."""

    id: str | None = Field(None, description=_FILTER)
    name: str | None = Field(None, description=_FILTER)
    state: str | None = Field(None, description=_FILTER)
    type: str | None = Field(None, description=_FILTER)
    workflow_execution_id: str | None = Field(None, description=_FILTER)
    created_at: str | None = Field(None, description=_FILTER)
    updated_at: str | None = Field(None, description=_FILTER)


class ActionExecutionListQuery(ListQuery):
    """Filters of ``GET /v2/action_executions``: each is a value or an operator and a value."""

    name: str | None = Field(None, description=_FILTER)
    state: str | None = Field(None, description=_FILTER)
    workflow_name: str | None = Field(None, description=_FILTER)
    task_name: str | None = Field(None, description=_FILTER)
    task_execution_id: str | None = Field(None, description=_FILTER)
    created_at: str | None = Field(None, description=_FILTER)
    include_output: bool | None = Field(None, description="answer each one's output")


class DeleteQuery(BaseModel):
    """Parameters of ``DELETE /v2/executions/{id}``."""

    force: bool | None = Field(None, description="delete even an execution still running")


class TreeQuery(BaseModel):
    """Parameters of an execution's report and sub-executions."""

    errors_only: bool | None = Field(None, description="only what ended in ERROR")
    max_depth: int | None = Field(None, description="levels of sub-workflows (-1: all)")


# Request bodies.


class ExecutionCreate(_Open):
    """Body of ``POST /v2/executions``; a workflow name or id is required."""

    id: str | None = Field(None, description="makes creation idempotent")
    workflow_id: str | None = None
    workflow_name: str | None = None
    workflow_namespace: str | None = None
    description: str | None = None
    input: Encoded | None = None
    params: Encoded | None = Field(None, description="env: an environment or its name")


class ExecutionUpdate(_Open):
    """Body of ``PUT /v2/executions/{id}``: a new state, description or env."""

    state: ExecutionState | None = None
    state_info: str | None = None
    description: str | None = None
    params: Encoded | None = Field(None, description="env: variables to change")


class ActionExecutionCreate(_Open):
    """Body of ``POST /v2/action_executions``: run one action."""

    name: str
    input: Encoded | None = None
    params: Encoded | None = Field(None, description="save_result, run_sync")
    description: str | None = None


class ActionExecutionUpdate(_Open):
    """Body of ``PUT /v2/action_executions/{id}``: an async action's result."""

    state: Literal["SUCCESS", "ERROR"] | None = None
    output: Any = None


class TaskUpdate(_Open):
    """Body of ``PUT /v2/tasks/{id}``: re-run a task in ERROR."""

    state: Literal["RUNNING"]
    reset: bool | None = None
    env: Encoded | None = None


class CronTriggerCreate(_Open):
    """Body of ``POST /v2/cron_triggers``: a pattern, a first time, or both."""

    name: str
    workflow_name: str | None = None
    workflow_id: str | None = None
    workflow_input: Encoded | None = None
    workflow_params: Encoded | None = None
    pattern: str | None = None
    first_execution_time: str | None = None
    remaining_executions: int | None = Field(None, ge=1)
    scope: Scope | None = None


class EventTriggerCreate(_Open):
    """Body of ``POST /v2/event_triggers``."""

    name: str
    workflow_id: str | None = None
    workflow_name: str | None = None
    workflow_input: Encoded | None = None
    workflow_params: Encoded | None = None
    exchange: str
    topic: str
    event: str
    scope: Scope | None = None


class EventTriggerUpdate(_Open):
    """Body of ``PUT /v2/event_triggers/{id}``: exchange, topic and event cannot change."""

    workflow_id: str | None = None
    workflow_name: str | None = None
    workflow_input: Encoded | None = None
    workflow_params: Encoded | None = None


class EnvironmentBody(_Open):
    """Body of ``POST`` and ``PUT /v2/environments``."""

    name: str
    description: str | None = None
    variables: Encoded | None = None
    scope: Scope | None = None


# Answers: the fields every answer holds; Mistral's others are allowed.


class Version(_Open):
    """Mistral's version document."""

    id: str
    status: str


class Execution(_Open):
    """A workflow execution; input, params and output are JSON-encoded. A list asked
    for some ``fields`` holds only those and ``id``."""

    id: str
    workflow_name: str | None = None
    state: str | None = None
    input: str | None = None
    params: str | None = None


class Executions(_Open):
    """A page of executions, with a ``next`` link when there may be more."""

    executions: list[Execution]
    next: str | None = None


class Task(_Open):
    """A task execution. A list asked for some ``fields`` holds only those and ``id``."""

    id: str
    name: str | None = None
    state: str | None = None
    workflow_execution_id: str | None = None


class Tasks(_Open):
    """A page of task executions."""

    tasks: list[Task]
    next: str | None = None


class ActionExecution(_Open):
    """An action execution. A list asked for some ``fields`` holds only those and ``id``."""

    id: str
    name: str | None = None
    state: str | None = None


class ActionExecutions(_Open):
    """Action executions."""

    action_executions: list[ActionExecution]


class Action(_Open):
    """An action: built in, from a plugin, or ad hoc."""

    id: str
    name: str


class Actions(_Open):
    """Actions."""

    actions: list[Action]


class Workflow(_Open):
    """A workflow definition."""

    id: str
    name: str
    definition: str


class Workflows(_Open):
    """Workflow definitions."""

    workflows: list[Workflow]


class Workbook(_Open):
    """A workbook."""

    id: str
    name: str
    definition: str


class Workbooks(_Open):
    """Workbooks."""

    workbooks: list[Workbook]


class Validation(_Open):
    """Whether a definition is valid, and why not."""

    valid: bool
    error: str | None = None


class CronTrigger(_Open):
    """A cron trigger (a Squall timer)."""

    id: str
    name: str


class CronTriggers(_Open):
    """Cron triggers."""

    cron_triggers: list[CronTrigger]


class EventTrigger(_Open):
    """An event trigger (a Squall rule)."""

    id: str
    name: str
    exchange: str
    topic: str
    event: str


class EventTriggers(_Open):
    """Event triggers."""

    event_triggers: list[EventTrigger]


class Environment(_Open):
    """An environment; variables are JSON-encoded."""

    id: str
    name: str
    variables: str


class Environments(_Open):
    """Environments."""

    environments: list[Environment]


class Report(_Open):
    """An execution's tree of tasks, actions and sub-workflows."""

    root_workflow_execution: dict[str, Any]
    statistics: dict[str, Any]


class KeystoneVersion(_Open):
    """Keystone's version document."""

    version: dict[str, Any]


class KeystoneToken(_Open):
    """A token with its project, roles and a catalogue naming Squall's ``/v2``."""

    token: dict[str, Any]


#: A Mistral operation: answers its errors in Mistral's shape.
_v2 = partial(Endpoint, tag="v2", fault=MistralFault)

ENDPOINTS = [
    _v2("GET", "/v2", "Mistral's version document", response=Version, public=True),
    _v2(
        "GET",
        "/v2/",
        "Mistral's version document (as some clients ask for it)",
        response=Version,
        public=True,
    ),
    _v2(
        "POST",
        "/v2/executions",
        "Start a workflow by name or id, with input and params (env)",
        request=ExecutionCreate,
        response=Execution,
        status=201,
        errors=(404, 409),
    ),
    _v2(
        "GET",
        "/v2/executions",
        "The project's executions, filtered, sorted and paged",
        query=ExecutionListQuery,
        response=Executions,
        errors=(404,),
    ),
    _v2("GET", "/v2/executions/{id}", "One execution", response=Execution, errors=(404,)),
    _v2(
        "PUT",
        "/v2/executions/{id}",
        "Pause, resume, cancel, fail or succeed an execution, or change its description or env",
        request=ExecutionUpdate,
        response=Execution,
        errors=(404,),
    ),
    _v2(
        "DELETE",
        "/v2/executions/{id}",
        "Delete a finished execution (or any, with force)",
        query=DeleteQuery,
        status=204,
        errors=(404,),
    ),
    _v2(
        "GET",
        "/v2/executions/{id}/executions",
        "The executions started below this one (sub-workflows)",
        query=TreeQuery,
        response=Executions,
        errors=(404,),
    ),
    _v2(
        "GET",
        "/v2/executions/{id}/report",
        "The execution's tree of tasks, actions and sub-workflows, with statistics",
        query=TreeQuery,
        response=Report,
        errors=(404,),
    ),
    _v2(
        "GET",
        "/v2/executions/{id}/tasks",
        "The task executions of one execution",
        query=TaskListQuery,
        response=Tasks,
        errors=(404,),
    ),
    _v2(
        "GET",
        "/v2/tasks",
        "The project's task executions, filtered, sorted and paged",
        query=TaskListQuery,
        response=Tasks,
        errors=(404,),
    ),
    _v2(
        "GET", "/v2/tasks/{id}", "One task execution, with its result", response=Task, errors=(404,)
    ),
    _v2(
        "PUT",
        "/v2/tasks/{id}",
        "Re-run a task in ERROR",
        request=TaskUpdate,
        response=Task,
        errors=(404,),
    ),
    _v2(
        "GET",
        "/v2/tasks/{id}/action_executions",
        "The action executions of one task",
        query=ActionExecutionListQuery,
        response=ActionExecutions,
        errors=(404,),
    ),
    _v2(
        "GET",
        "/v2/action_executions",
        "The project's action executions (optionally of one task)",
        query=ActionExecutionListQuery,
        response=ActionExecutions,
        errors=(404,),
    ),
    _v2(
        "POST",
        "/v2/action_executions",
        "Run an action directly, synchronously unless asked not to",
        request=ActionExecutionCreate,
        response=ActionExecution,
        status=201,
        errors=(404, 504),
    ),
    _v2(
        "GET",
        "/v2/action_executions/{id}",
        "One action execution",
        response=ActionExecution,
        errors=(404,),
    ),
    _v2(
        "PUT",
        "/v2/action_executions/{id}",
        "Report the result of an async action",
        request=ActionExecutionUpdate,
        response=ActionExecution,
        errors=(404,),
    ),
    _v2("GET", "/v2/actions", "Every action: built in, from plugins and ad hoc", response=Actions),
    _v2(
        "POST",
        "/v2/actions",
        "Create ad-hoc actions from a YAML document",
        body="text",
        response=Actions,
        status=201,
        errors=(409,),
    ),
    _v2("GET", "/v2/actions/{name}", "One action by name", response=Action, errors=(404,)),
    _v2("DELETE", "/v2/actions/{name}", "Delete an ad-hoc action", status=204, errors=(404,)),
    _v2(
        "POST",
        "/v2/workflows",
        "Create the workflows of a YAML document",
        body="text",
        response=Workflows,
        status=201,
        errors=(409,),
    ),
    _v2(
        "PUT",
        "/v2/workflows",
        "Replace existing workflows with those of a YAML document",
        body="text",
        response=Workflows,
        errors=(404,),
    ),
    _v2(
        "POST",
        "/v2/workflows/validate",
        "Check a workflows document without storing it",
        body="text",
        response=Validation,
    ),
    _v2("GET", "/v2/workflows", "Every workflow of the project", response=Workflows),
    _v2(
        "GET",
        "/v2/workflows/{identifier}",
        "One workflow by name or id",
        response=Workflow,
        errors=(404,),
    ),
    _v2(
        "DELETE",
        "/v2/workflows/{identifier}",
        "Delete a workflow by name or id",
        status=204,
        errors=(404,),
    ),
    _v2(
        "POST",
        "/v2/workbooks",
        "Create a workbook and the definitions it holds",
        body="text",
        response=Workbook,
        status=201,
        errors=(409,),
    ),
    _v2(
        "PUT",
        "/v2/workbooks",
        "Replace a workbook (definitions it no longer holds are removed)",
        body="text",
        response=Workbook,
        errors=(404,),
    ),
    _v2(
        "POST",
        "/v2/workbooks/validate",
        "Check a workbook without storing it",
        body="text",
        response=Validation,
    ),
    _v2("GET", "/v2/workbooks", "Every workbook of the project", response=Workbooks),
    _v2("GET", "/v2/workbooks/{name}", "One workbook by name", response=Workbook, errors=(404,)),
    _v2(
        "DELETE",
        "/v2/workbooks/{name}",
        "Delete a workbook and the definitions it brought",
        status=204,
        errors=(404,),
    ),
    _v2(
        "POST",
        "/v2/cron_triggers",
        "Create a cron trigger: a timer that starts a workflow",
        request=CronTriggerCreate,
        response=CronTrigger,
        status=201,
        errors=(404, 409),
    ),
    _v2("GET", "/v2/cron_triggers", "The project's cron triggers", response=CronTriggers),
    _v2(
        "GET",
        "/v2/cron_triggers/{name}",
        "One cron trigger by name or id",
        response=CronTrigger,
        errors=(404,),
    ),
    _v2(
        "DELETE",
        "/v2/cron_triggers/{name}",
        "Delete a cron trigger",
        status=204,
        errors=(404,),
    ),
    _v2(
        "POST",
        "/v2/event_triggers",
        "Create an event trigger: a rule starting a workflow on matching events",
        request=EventTriggerCreate,
        response=EventTrigger,
        status=201,
        errors=(404, 409),
    ),
    _v2("GET", "/v2/event_triggers", "The project's event triggers", response=EventTriggers),
    _v2(
        "GET",
        "/v2/event_triggers/{id}",
        "One event trigger by id or name",
        response=EventTrigger,
        errors=(404,),
    ),
    _v2(
        "PUT",
        "/v2/event_triggers/{id}",
        "Change the workflow an event trigger starts, or its input or params",
        request=EventTriggerUpdate,
        response=EventTrigger,
        errors=(404,),
    ),
    _v2(
        "DELETE",
        "/v2/event_triggers/{id}",
        "Delete an event trigger",
        status=204,
        errors=(404,),
    ),
    _v2(
        "POST",
        "/v2/environments",
        "Create an environment",
        request=EnvironmentBody,
        response=Environment,
        status=201,
        errors=(409,),
    ),
    _v2(
        "PUT",
        "/v2/environments",
        "Replace an environment's variables or description",
        request=EnvironmentBody,
        response=Environment,
        errors=(404,),
    ),
    _v2("GET", "/v2/environments", "The project's environments", response=Environments),
    _v2(
        "GET",
        "/v2/environments/{name}",
        "One environment",
        response=Environment,
        errors=(404,),
    ),
    _v2(
        "DELETE",
        "/v2/environments/{name}",
        "Delete an environment",
        status=204,
        errors=(404,),
    ),
    Endpoint(
        method="GET",
        path="/v3",
        summary="Keystone's version document for v3",
        response=KeystoneVersion,
        tag="v3",
        public=True,
        fault=KeystoneFault,
    ),
    Endpoint(
        method="POST",
        path="/v3/auth/tokens",
        summary="Exchange a Squall API token (token or password method) for a Keystone token",
        request=KeystoneAuthRequest,
        response=KeystoneToken,
        status=201,
        errors=(401, 413),
        tag="v3",
        public=True,
        fault=KeystoneFault,
    ),
]

#: Every OpenStack-compatible operation, by method and path.
OPERATIONS = {(e.method, e.path): e for e in ENDPOINTS}
