"""``/v1/executions``: start, list, read, history and the graph of what ran."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from engine.queries import execution_view, resolve_results
from schemas import ExecutionDoc
from schemas.executions import HistoryEntry
from schemas.masking import mask_secrets
from schemas.states import ExecutionState, TaskState
from squall.api import control
from squall.api.context import project, services
from squall.api.errors import ApiError
from squall.api.v1.common import body_as, model_response, query_as, registry
from squall.services import Services

Doc = dict[str, Any]
#: What a listing reads of each execution: never its tasks, outbox or history.
SUMMARY_FIELDS = {
    f: 1
    for f in (
        "project",
        "workflow_name",
        "state",
        "state_info",
        "rule",
        "event_id",
        "description",
        "parent_execution_id",
        "created_at",
        "updated_at",
    )
}


class StartRequest(BaseModel):
    """Body of ``POST /v1/executions``."""

    workflow_name: str = Field(min_length=1)
    input: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    description: str = ""
    id: str | None = Field(
        default=None, min_length=1, description="client-chosen id: a retry is idempotent"
    )


class Started(BaseModel):
    """The id of an execution the engine is about to create."""

    id: str
    workflow_name: str


class ExecutionQuery(BaseModel):
    """Filters and paging of ``GET /v1/executions`` (newest first)."""

    state: ExecutionState | None = None
    workflow_name: str | None = None
    rule: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    marker: str | None = Field(default=None, description="the last id of the previous page")


class ExecutionSummary(BaseModel):
    """An execution as listed."""

    id: str
    workflow_name: str
    state: ExecutionState
    state_info: str | None = None
    rule: str | None = None
    event_id: str | None = None
    description: str = ""
    parent_execution_id: str | None = None
    created_at: datetime
    updated_at: datetime


class ExecutionPage(BaseModel):
    """One page of executions; ``next_marker`` fetches the next one."""

    executions: list[ExecutionSummary]
    next_marker: str | None = None


class ExecutionHistory(BaseModel):
    """Every state change of an execution and its tasks, oldest first."""

    execution_id: str
    state: ExecutionState
    history: list[HistoryEntry]


class GraphNode(BaseModel):
    """One task execution."""

    id: str
    name: str
    state: TaskState
    type: str
    action: str | None = None


class GraphEdge(BaseModel):
    """A transition the execution took: ``source`` task led to ``target`` task."""

    source: str
    target: str
    event: str


class ExecutionGraph(BaseModel):
    """The tasks that ran and the transitions actually taken between them."""

    execution_id: str
    state: ExecutionState
    nodes: list[GraphNode]
    edges: list[GraphEdge]


async def owned(svc: Services, owner: str, execution_id: str) -> Doc:
    """An execution of ``owner``'s project; 404 for any other (ids stay secret)."""
    doc = await svc.engine_store.executions.find_one({"_id": execution_id, "project": owner})
    if doc is None:
        raise ApiError(404, "not_found", f"no execution with id '{execution_id}'")
    return doc


@registry.route(
    "POST",
    "/v1/executions",
    "Start a workflow; the execution runs once the engine takes the command",
    request=StartRequest,
    response=Started,
    status=201,
    errors=(404, 409),
)
async def start_execution(request: web.Request) -> web.Response:
    """Start a workflow; the execution runs once the engine takes the command."""
    svc, owner = services(request), project(request)
    body = await body_as(request, StartRequest)
    if body.id is not None:
        taken = await svc.engine_store.executions.find_one({"_id": body.id}, {"project": 1})
        # The engine would drop a start under another project's id: say so, as /v2 does.
        if taken is not None and taken["project"] != owner:
            raise ApiError(409, "conflict", f"execution id '{body.id}' is taken", "id")
    if svc.definitions.workflow(owner, body.workflow_name) is None:
        await svc.definitions.refresh()
    if svc.definitions.workflow(owner, body.workflow_name) is None:
        raise ApiError(
            404, "not_found", f"no workflow named '{body.workflow_name}'", "workflow_name"
        )
    execution_id = await control.start(
        svc,
        owner,
        body.workflow_name,
        execution_id=body.id,
        input=body.input,
        params=body.params,
        description=body.description,
    )
    return model_response(Started(id=execution_id, workflow_name=body.workflow_name), 201)


def _filters(query: ExecutionQuery, owner: str) -> Doc:
    condition: Doc = {"project": owner}
    for field in ("state", "workflow_name", "rule"):
        value = getattr(query, field)
        if value is not None:
            condition[field] = str(value.value if isinstance(value, ExecutionState) else value)
    created: Doc = {}
    if query.created_after is not None:
        created["$gt"] = query.created_after
    if query.created_before is not None:
        created["$lt"] = query.created_before
    if created:
        condition["created_at"] = created
    return condition


@registry.route(
    "GET",
    "/v1/executions",
    "The project's executions, newest first, filtered and paged",
    query=ExecutionQuery,
    response=ExecutionPage,
    errors=(404,),
)
async def list_executions(request: web.Request) -> web.Response:
    """The project's executions, newest first, filtered and paged."""
    svc, owner = services(request), project(request)
    query = query_as(request, ExecutionQuery)
    condition = _filters(query, owner)
    if query.marker is not None:
        marker = await owned(svc, owner, query.marker)
        after = marker["created_at"]
        condition = {
            "$and": [
                condition,
                {
                    "$or": [
                        {"created_at": {"$lt": after}},
                        {"created_at": after, "_id": {"$lt": marker["_id"]}},
                    ]
                },
            ]
        }
    cursor = svc.engine_store.executions.find(condition, SUMMARY_FIELDS)
    cursor = cursor.sort([("created_at", -1), ("_id", -1)]).limit(query.limit + 1)
    docs = [doc async for doc in cursor]
    more = len(docs) > query.limit
    items = [ExecutionSummary(id=d["_id"], **d) for d in docs[: query.limit]]
    page = ExecutionPage(executions=items, next_marker=items[-1].id if more else None)
    return model_response(page)


@registry.route(
    "GET",
    "/v1/executions/{id}",
    "An execution with its state, tasks, results and history",
    response=ExecutionDoc,
    errors=(404,),
)
async def get_execution(request: web.Request) -> web.Response:
    """An execution with its state, tasks, results and history."""
    svc = services(request)
    doc = await owned(svc, project(request), request.match_info["id"])
    doc = await resolve_results(doc, svc.engine_store)
    view = execution_view(doc)
    # Params may carry the caller's OpenStack token (params.openstack.auth_token), and
    # action inputs passwords or keys: neither is shown.
    tasks = [t.model_copy(update={"input": mask_secrets(t.input)}) for t in view.tasks]
    masked = {"params": mask_secrets(view.params), "tasks": tasks}
    return model_response(view.model_copy(update=masked))


@registry.route(
    "GET",
    "/v1/executions/{id}/history",
    "Every state change of an execution and its tasks, oldest first",
    response=ExecutionHistory,
    errors=(404,),
)
async def get_history(request: web.Request) -> web.Response:
    """Every state change of an execution and its tasks, oldest first."""
    doc = await owned(services(request), project(request), request.match_info["id"])
    history = ExecutionHistory(
        execution_id=doc["_id"], state=doc["state"], history=doc.get("history", [])
    )
    return model_response(history)


def execution_graph(doc: Doc) -> ExecutionGraph:
    """The tasks of an execution document and the transitions taken between them.

    A task started by a transition names the task that triggered it; a join names
    none, so its edges come from the tasks whose chosen transitions led to it.
    """
    tasks = sorted(doc.get("tasks", {}).values(), key=lambda t: t["created_at"])
    nodes = [
        GraphNode(
            id=t["id"],
            name=t["name"],
            state=t["state"],
            type=t.get("type", "ACTION"),
            action=t.get("action"),
        )
        for t in tasks
    ]
    known = {t["id"] for t in tasks}
    edges: list[GraphEdge] = []
    for task in tasks:
        triggers = (task.get("runtime_context") or {}).get("triggered_by") or []
        for trigger in triggers:
            if trigger.get("task_id") in known:
                edges.append(
                    GraphEdge(source=trigger["task_id"], target=task["id"], event=trigger["event"])
                )
        if triggers:
            continue
        for source in tasks:
            if task["name"] in (source.get("next") or []) and (
                source["created_at"] <= task["created_at"] and source is not task
            ):
                edges.append(GraphEdge(source=source["id"], target=task["id"], event="join"))
    return ExecutionGraph(execution_id=doc["_id"], state=doc["state"], nodes=nodes, edges=edges)


@registry.route(
    "GET",
    "/v1/executions/{id}/graph",
    "The tasks that ran and the transitions taken between them",
    response=ExecutionGraph,
    errors=(404,),
)
async def get_graph(request: web.Request) -> web.Response:
    """The tasks that ran and the transitions taken between them."""
    doc = await owned(services(request), project(request), request.match_info["id"])
    return model_response(execution_graph(doc))
