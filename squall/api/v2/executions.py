"""Mistral's ``/v2/executions``: start, read, list, steer and delete workflow executions."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actions.catalogue import mask_secrets
from engine.workflow import allows
from schemas.states import ExecutionState
from squall.api import control
from squall.api.context import project, services
from squall.api.errors import ApiError, not_found
from squall.api.stored import definition_id
from squall.api.v2.format import (
    UUID_LIKE,
    after_marker,
    answer,
    decoded,
    encoded,
    json_body,
    list_query,
    page,
    stamp,
)
from squall.services import Services

routes = web.RouteTableDef()
Doc = dict[str, Any]

#: API field → stored field, for filters and sorting.
COLUMNS = {
    "id": "_id",
    "workflow_name": "workflow_name",
    "state": "state",
    "state_info": "state_info",
    "description": "description",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "task_execution_id": "parent_task_id",
    "root_execution_id": "root_execution_id",
    "workflow_id": "workflow_id",
}
#: Mistral's target state of ``PUT /executions/{id}`` → the control command.
STATE_ACTIONS = {
    "PAUSED": "pause",
    "RUNNING": "resume",
    "CANCELLED": "cancel",
    "ERROR": "fail",
    "SUCCESS": "succeed",
}


def execution_view(doc: Doc, *, output: bool = True) -> Doc:
    """An execution document as Mistral shows it."""
    params = {"namespace": "", "env": {}, **(doc.get("params") or {})}
    view: Doc = {
        "id": doc["_id"],
        "workflow_id": definition_id(doc["project"], "workflow", doc["workflow_name"]),
        "workflow_name": doc["workflow_name"],
        "workflow_namespace": "",
        "description": doc.get("description") or "",
        "tags": [],
        # Params may carry the caller's OpenStack token (params.openstack.auth_token).
        "params": encoded(mask_secrets(params)),
        "task_execution_id": doc.get("parent_task_id"),
        "root_execution_id": doc.get("root_execution_id"),
        "state": doc["state"],
        "state_info": doc.get("state_info"),
        "input": encoded(doc.get("input") or {}),
        "created_at": stamp(doc["created_at"]),
        "updated_at": stamp(doc["updated_at"]),
        "project_id": doc["project"],
    }
    if output:
        view["output"] = encoded(doc.get("output") or {})
        view["published_global"] = "{}"
    return view


async def owned_execution(svc: Services, owner: str, execution_id: str) -> Doc:
    """An execution of ``owner``'s project; 404 for any other (never 403: ids stay secret)."""
    doc = await svc.engine_store.executions.find_one({"_id": execution_id, "project": owner})
    if doc is None:
        raise not_found("WorkflowExecution", execution_id)
    return doc


async def _environment(svc: Services, owner: str, env: Any) -> Any:
    if not isinstance(env, str):
        return env
    doc = await svc.db["environments"].find_one({"_id": f"{owner}/{env}"})
    if doc is None:
        raise not_found("Environment", env)
    return doc["variables"]


def workflow_name_of(svc: Services, owner: str, body: Doc) -> str:
    ident = body.get("workflow_id") or body.get("workflow_name")
    if not isinstance(ident, str) or not ident:
        raise ApiError(400, "invalid_input", "workflow_name or workflow_id is required")
    if svc.definitions.workflow(owner, ident) is not None:
        return ident
    if UUID_LIKE.match(ident):
        for proj, name in svc.definitions.workflows:
            if proj == owner and definition_id(owner, "workflow", name) == ident:
                return name
    raise not_found("Workflow", ident)


@routes.post("/v2/executions")
async def create_execution(request: web.Request) -> web.Response:
    """Start a workflow; answers with the execution once the engine created it."""
    svc, owner = services(request), project(request)
    body = await json_body(request)
    requested_id = body.get("id")
    if requested_id is not None:
        if not isinstance(requested_id, str) or not requested_id:
            raise ApiError(400, "invalid_input", "id must be a non-empty string", "id")
        existing = await svc.engine_store.executions.find_one({"_id": requested_id})
        if existing is not None:
            if existing["project"] != owner:
                raise ApiError(409, "conflict", f"execution id '{requested_id}' is taken")
            return answer(execution_view(existing), 201)
    await svc.definitions.refresh()
    name = workflow_name_of(svc, owner, body)
    workflow_input = decoded(body.get("input") or {}, "input")
    params = decoded(body.get("params") or {}, "params")
    if not isinstance(workflow_input, dict) or not isinstance(params, dict):
        raise ApiError(400, "invalid_input", "input and params must be JSON objects")
    workflow = svc.definitions.workflow(owner, name)
    assert workflow is not None
    control.check_input(workflow, workflow_input)
    if "env" in params:
        params["env"] = await _environment(svc, owner, params["env"])
    execution_id = await control.start(
        svc,
        owner,
        name,
        execution_id=requested_id,
        input=workflow_input,
        params=params,
        description=str(body.get("description") or ""),
    )
    doc = await control.wait_for_execution(svc, execution_id, lambda d: d["state"] != "IDLE")
    if doc is None:
        return answer(_pending_view(execution_id, owner, name, workflow_input, params, body), 201)
    return answer(execution_view(doc), 201)


def _pending_view(
    execution_id: str, owner: str, name: str, given: Doc, params: Doc, body: Doc
) -> Doc:
    from schemas.base import utcnow

    now = utcnow()
    doc = {
        "_id": execution_id,
        "project": owner,
        "workflow_name": name,
        "state": ExecutionState.RUNNING.value,
        "input": given,
        "params": params,
        "description": body.get("description") or "",
        "created_at": now,
        "updated_at": now,
    }
    return execution_view(doc)


@routes.get("/v2/executions")
async def list_executions(request: web.Request) -> web.Response:
    """The project's executions, filtered, sorted and paged as in Mistral."""
    svc, owner = services(request), project(request)
    query = list_query(request, COLUMNS, "created_at")
    workflow_id = query.filters.pop("workflow_id", None)
    if isinstance(workflow_id, str):
        query.filters["workflow_name"] = {
            "$in": [
                n
                for p, n in svc.definitions.workflows
                if p == owner and definition_id(owner, "workflow", n) == workflow_id
            ]
        }
    condition: Doc = {**query.filters, "project": owner}
    if query.marker:
        marker = await svc.engine_store.executions.find_one({"_id": query.marker, "project": owner})
        if marker is None:
            raise not_found("WorkflowExecution", query.marker)
        condition = {"$and": [condition, after_marker(marker, query.sort)]}
    cursor = svc.engine_store.executions.find(condition, {"tasks": 0, "outbox": 0, "history": 0})
    cursor = cursor.sort(query.sort)
    if query.limit:
        cursor = cursor.limit(query.limit)
    include_output = request.query.get("include_output", "").lower() == "true"
    items = [execution_view(doc, output=include_output) async for doc in cursor]
    return page(request, "executions", items, query, len(items) == query.limit)


@routes.get("/v2/executions/{id}")
async def get_execution(request: web.Request) -> web.Response:
    """One execution."""
    doc = await owned_execution(services(request), project(request), request.match_info["id"])
    return answer(execution_view(doc))


@routes.put("/v2/executions/{id}")
async def update_execution(request: web.Request) -> web.Response:
    """Change an execution's state (pause, resume, cancel, fail, succeed), description or env."""
    svc, owner = services(request), project(request)
    doc = await owned_execution(svc, owner, request.match_info["id"])
    body = await json_body(request)
    if "description" in body and body["description"] is not None:
        await svc.engine_store.executions.update_one(
            {"_id": doc["_id"]}, {"$set": {"description": str(body["description"])}}
        )
    params = decoded(body.get("params") or {}, "params")
    env = params.get("env") if isinstance(params, dict) else None
    state = body.get("state")
    if state is None:
        if env is not None:
            await control.control(svc, doc["_id"], "resume", env=env)
        doc = await owned_execution(svc, owner, doc["_id"])
        return answer(execution_view(doc))
    if state not in STATE_ACTIONS:
        raise ApiError(
            400, "invalid_input", f"state must be one of {', '.join(STATE_ACTIONS)}", "state"
        )
    current = ExecutionState(doc["state"])
    if current.is_final:
        raise ApiError(
            400,
            "invalid_state",
            f"Execution {doc['_id']} is already in a final state {doc['state']}",
            "state",
        )
    if state == doc["state"] and state in ("PAUSED", "RUNNING"):
        # Mistral answers a pause of a paused (or a resume of a running) execution as done.
        return answer(execution_view(doc))
    if not allows(STATE_ACTIONS[state], current):
        raise ApiError(
            400,
            "invalid_state",
            f"Can't change workflow execution state from {current.value} to {state}. "
            f"[execution_id={doc['_id']}]",
            "state",
        )
    await control.control(svc, doc["_id"], STATE_ACTIONS[state], body.get("state_info"), env)
    after = await control.wait_for_execution(svc, doc["_id"], lambda d: d["state"] == state)
    return answer(execution_view(after or doc))


@routes.delete("/v2/executions/{id}")
async def delete_execution(request: web.Request) -> web.Response:
    """Delete a finished execution (or any with ``force``) and its task records."""
    svc, owner = services(request), project(request)
    doc = await owned_execution(svc, owner, request.match_info["id"])
    force = request.query.get("force", "").lower() == "true"
    if not force and not ExecutionState(doc["state"]).is_final:
        raise ApiError(
            400,
            "invalid_state",
            f"Only completed executions can be deleted; {doc['_id']} is {doc['state']} (use force)",
        )
    await svc.engine_store.executions.delete_one({"_id": doc["_id"]})
    await svc.engine_store.tasks.delete_many({"execution_id": doc["_id"]})
    return web.Response(status=204)
