"""Mistral's ``/v2/executions``: start, read, list, steer and delete workflow executions."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from aiohttp import web

from engine.workflow import allows
from engine.workflow.attempts import attempt_ids
from schemas.masking import mask_secrets
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
    invalid_field,
    json_body,
    list_query,
    page,
    query_flag,
    stamp,
    text_field,
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
    "project_id": "project",
}
#: Mistral's execution filters on JSON documents, which Squall does not index.
REFUSED = frozenset({"params", "input", "output", "tags", "all_projects"})
#: Mistral's target state of ``PUT /executions/{id}`` → the control command.
STATE_ACTIONS = {
    "PAUSED": "pause",
    "RUNNING": "resume",
    "CANCELLED": "cancel",
    "ERROR": "fail",
    "SUCCESS": "succeed",
}


def published_global(doc: Doc, variables: Collection[str]) -> Doc:
    """What the execution's tasks published with ``publish: global:``: its context
    without the workflow's ``vars`` and the engine's own ``__`` entries."""
    return {
        k: v
        for k, v in (doc.get("context") or {}).items()
        if not k.startswith("__") and k not in variables
    }


#: Names of each workflow version's ``vars``, by snapshot hash. A snapshot never
#: changes, so each process reads one once instead of on every GET.
_VARS: dict[str, frozenset[str]] = {}
_VARS_KEPT = 1024


async def _workflow_vars(svc: Services, doc: Doc) -> frozenset[str]:
    """The names of the ``vars`` of the workflow version the execution runs."""
    key = doc.get("spec_hash")
    if key in _VARS:
        return _VARS[key]
    spec = await svc.engine_store.specs.find_one({"_id": key})
    names = frozenset(((spec or {}).get("definition") or {}).get("vars") or {})
    if spec is not None and isinstance(key, str):
        if len(_VARS) >= _VARS_KEPT:
            _VARS.pop(next(iter(_VARS)))
        _VARS[key] = names
    return names


async def full_view(svc: Services, doc: Doc) -> Doc:
    """An execution as Mistral's single-execution answers show it (with ``published_global``)."""
    view = execution_view(doc)
    view["published_global"] = encoded(published_global(doc, await _workflow_vars(svc, doc)))
    return view


def execution_view(doc: Doc, *, output: bool = True) -> Doc:
    """An execution document as Mistral's lists show it."""
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
        name = by_workflow_id(svc, owner, ident)
        if name != ident:
            return str(name)
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
            return answer(await full_view(svc, existing), 201)
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
        description=text_field(body, "description") or "",
    )
    doc = await control.wait_for_execution(svc, execution_id, lambda d: d["state"] != "IDLE")
    if doc is None:
        return answer(_pending_view(execution_id, owner, name, workflow_input, params, body), 201)
    return answer(await full_view(svc, doc), 201)


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


def by_workflow_id(svc: Services, owner: str, condition: Any) -> Any:
    """A filter on workflow ids (a value or ``{$op: operand}``) as one on workflow names."""
    names = {
        definition_id(owner, "workflow", n): n for p, n in svc.definitions.workflows if p == owner
    }

    def name(ident: Any) -> Any:
        return names.get(ident, ident)

    if not isinstance(condition, dict):
        return name(condition)
    return {
        op: [name(v) for v in operand] if isinstance(operand, list) else name(operand)
        for op, operand in condition.items()
    }


@routes.get("/v2/executions")
async def list_executions(request: web.Request) -> web.Response:
    """The project's executions, filtered, sorted and paged as in Mistral."""
    svc, owner = services(request), project(request)
    query = list_query(request, COLUMNS, "created_at", REFUSED)
    # Another project's executions stay invisible, even when asked for by project_id.
    clauses: list[Doc] = [query.filters, {"project": owner}]
    if "workflow_id" in query.filters:
        clauses.append(
            {"workflow_name": by_workflow_id(svc, owner, query.filters.pop("workflow_id"))}
        )
    condition: Doc = {"$and": clauses}
    if query.marker:
        marker = await svc.engine_store.executions.find_one({"_id": query.marker, "project": owner})
        if marker is None:
            raise not_found("WorkflowExecution", query.marker)
        condition = {"$and": [condition, after_marker(marker, query.sort)]}
    include_output = query_flag(request, "include_output")
    cursor = svc.engine_store.executions.find(condition, {"tasks": 0, "outbox": 0, "history": 0})
    cursor = cursor.sort(query.sort)
    if query.limit:
        cursor = cursor.limit(query.limit)
    items = [execution_view(doc, output=include_output) async for doc in cursor]
    return page(request, "executions", items, query, len(items) == query.limit)


@routes.get("/v2/executions/{id}")
async def get_execution(request: web.Request) -> web.Response:
    """One execution."""
    svc = services(request)
    doc = await owned_execution(svc, project(request), request.match_info["id"])
    return answer(await full_view(svc, doc))


def _update_request(body: Doc) -> tuple[str | None, str | None, Doc | None]:
    """The state, description and env change a ``PUT`` asks for, checked as Mistral does."""
    state = text_field(body, "state")
    if state is not None and state not in STATE_ACTIONS:
        raise invalid_field("state", state, f"Allowed states are: {', '.join(STATE_ACTIONS)}")
    description = text_field(body, "description")
    params = decoded(body.get("params") or {}, "params")
    if not isinstance(params, dict):
        raise invalid_field("params", params, "Value should be a JSON object")
    env = params.get("env") or None
    if env is not None and not isinstance(env, dict):
        raise invalid_field("params", params, "params.env should be a JSON object")
    if not (state or description or env):
        raise ApiError(
            400,
            "invalid_input",
            "The property state, description, or env is not provided for update.",
        )
    if description and state:
        raise ApiError(
            400, "invalid_input", "The property description must be updated separately from state."
        )
    if env and state and state != "RUNNING":
        raise ApiError(
            400,
            "invalid_input",
            "The property env can only be updated when workflow execution is not running "
            "or on resume from pause.",
        )
    return state, description, env


@routes.put("/v2/executions/{id}")
async def update_execution(request: web.Request) -> web.Response:
    """Change an execution's state (pause, resume, cancel, fail, succeed), description or env."""
    svc, owner = services(request), project(request)
    doc = await owned_execution(svc, owner, request.match_info["id"])
    body = await json_body(request)
    state, description, env = _update_request(body)
    if description:
        await svc.engine_store.executions.update_one(
            {"_id": doc["_id"]}, {"$set": {"description": description}}
        )
        doc = {**doc, "description": description}
    if state is None:
        if env is not None:
            doc = await _update_env(svc, doc, env)
        return answer(execution_view(doc))
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
    await control.control(
        svc, doc["_id"], STATE_ACTIONS[state], text_field(body, "state_info"), env
    )
    after = await control.wait_for_execution(svc, doc["_id"], lambda d: d["state"] == state)
    return answer(execution_view(after or doc))


async def _update_env(svc: Services, doc: Doc, env: Doc) -> Doc:
    """Merge ``env`` into a waiting execution's env, through the engine (which applies it
    only while the execution is still IDLE, PAUSED or ERROR)."""
    if not allows("update_env", ExecutionState(doc["state"])):
        raise ApiError(
            400,
            "invalid_state",
            "Updating env to workflow execution is only permitted if it is in IDLE, PAUSED, "
            "or ERROR state.",
        )
    merged = {**((doc.get("params") or {}).get("env") or {}), **env}
    await control.control(svc, doc["_id"], "update_env", env=env)
    after = await control.wait_for_execution(
        svc, doc["_id"], lambda d: (d.get("params") or {}).get("env") == merged
    )
    return after or doc


async def _family(svc: Services, root: Doc) -> tuple[list[str], list[str]]:
    """The ids of ``root`` and every sub-workflow execution below it, and of the action
    runs they made: all derived from their tasks and fetched by id, never searched."""
    executions: list[str] = [root["_id"]]
    runs: list[str] = []
    level = [root]
    while level:
        children: list[str] = []
        for doc in level:
            for task in (doc.get("tasks") or {}).values():
                ids = attempt_ids(task)
                (children if task.get("type") == "WORKFLOW" else runs).extend(ids)
        level = (
            [d async for d in svc.engine_store.executions.find({"_id": {"$in": children}})]
            if children
            else []
        )
        executions += [d["_id"] for d in level]
    return executions, runs


@routes.delete("/v2/executions/{id}")
async def delete_execution(request: web.Request) -> web.Response:
    """Delete a finished execution (or any with ``force``) with everything it left: task
    records, action executions and sub-workflow executions."""
    svc, owner = services(request), project(request)
    doc = await owned_execution(svc, owner, request.match_info["id"])
    if not query_flag(request, "force") and not ExecutionState(doc["state"]).is_final:
        raise ApiError(
            400,
            "invalid_state",
            "Only completed executions can be deleted. Use --force to override this. "
            f"Execution {doc['_id']} is in {doc['state']} state",
        )
    family, runs = await _family(svc, doc)
    # The execution itself goes last: a failure part way leaves it, so a retry of the
    # delete finds and removes the rest.
    if runs:
        await svc.db["action_runs"].delete_many({"_id": {"$in": runs}})
    await svc.engine_store.tasks.delete_many({"execution_id": {"$in": family}})
    await svc.engine_store.executions.delete_many({"_id": {"$in": family[1:]}})
    await svc.engine_store.executions.delete_one({"_id": doc["_id"]})
    return web.Response(status=204)
