"""Mistral's ``/v2/tasks``: task executions, read and re-run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from engine.queries import live_tasks, resolve_task_results
from squall.api import control
from squall.api.context import project, services
from squall.api.errors import ApiError, not_found
from squall.api.stored import definition_id
from squall.api.v2.executions import by_workflow_id, owned_execution
from squall.api.v2.format import (
    after_marker,
    answer,
    decoded,
    encoded,
    invalid_field,
    json_body,
    list_query,
    page,
    stamp,
)
from squall.services import Services

routes = web.RouteTableDef()
Doc = dict[str, Any]

COLUMNS = {
    "id": "_id",
    "name": "name",
    "state": "state",
    "workflow_execution_id": "execution_id",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "type": "type",
    "workflow_name": "workflow_name",
    "workflow_id": "workflow_name",
    "state_info": "state_info",
    "processed": "processed",
}
#: Mistral's task filters on JSON documents and on fields Squall does not keep.
REFUSED = frozenset({"tags", "result", "published", "reset", "env"})
FINAL = ("SUCCESS", "ERROR", "CANCELLED")


#: Columns the task index holds; the others are filtered on the live task state.
INDEXED = frozenset({"_id", "name", "execution_id", "created_at"})


def task_view(doc: Doc, *, result: bool = True) -> Doc:
    """A task record (with its live state, see ``engine.queries.live_tasks``) as
    Mistral shows it."""
    finished = doc["updated_at"] if doc["state"] in FINAL else None
    workflow_name = doc["workflow_name"]
    view: Doc = {
        "id": doc["_id"],
        "name": doc["name"],
        "type": doc.get("type") or "ACTION",
        "workflow_name": workflow_name,
        "workflow_namespace": "",
        "workflow_id": definition_id(doc["project"], "workflow", workflow_name),
        "workflow_execution_id": doc["execution_id"],
        "tags": [],
        "state": doc["state"],
        "state_info": doc.get("state_info"),
        "project_id": doc["project"],
        "runtime_context": encoded(doc.get("runtime_context") or {}),
        "published": encoded(doc.get("published") or {}),
        "processed": doc["state"] in FINAL,
        "created_at": stamp(doc["created_at"]),
        "updated_at": stamp(doc["updated_at"]),
        "started_at": stamp(doc["created_at"]),
        "finished_at": stamp(finished),
    }
    if result:
        running = doc["state"] not in FINAL
        view["result"] = encoded([] if running else doc.get("result"))
    return view


async def _live(svc: Services, index: list[Doc]) -> list[Doc]:
    executions = await svc.engine_store.load_executions({d["execution_id"] for d in index})
    return live_tasks(index, executions)


async def owned_task(svc: Services, owner: str, task_id: str) -> Doc:
    """A task of ``owner``'s project with its live state, else 404."""
    entry = await svc.engine_store.tasks.find_one({"_id": task_id, "project": owner})
    found = await _live(svc, [entry]) if entry is not None else []
    if not found:
        raise not_found("Task execution", task_id)
    return found[0]


def _key(value: Any) -> Any:
    # Times compare as times (filters parse them); anything else as text, as in a URL.
    return value if isinstance(value, datetime) else str(value)


def _before(value: Any, operand: Any) -> bool:
    return value is not None and bool(_key(value) < _key(operand))


def _after(value: Any, operand: Any) -> bool:
    return value is not None and bool(_key(value) > _key(operand))


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": lambda value, operand: bool(value == operand),
    "$ne": lambda value, operand: bool(value != operand),
    "$in": lambda value, operand: value in operand,
    "$nin": lambda value, operand: value not in operand,
    "$gt": _after,
    "$gte": lambda value, operand: value == operand or _after(value, operand),
    "$lt": _before,
    "$lte": lambda value, operand: value == operand or _before(value, operand),
}


def holds(value: Any, condition: Any) -> bool:
    """Whether ``value`` satisfies one list filter (a value or ``{$op: operand}``)."""
    if not isinstance(condition, dict):
        return bool(value == condition)
    return all(_COMPARE[op](value, operand) for op, operand in condition.items())


def _shown(doc: Doc, key: str) -> Any:
    """A live task's field as a filter compares it (``processed`` as the URL spells it)."""
    if key == "processed":
        return str(doc["state"] in FINAL).lower()
    return doc.get(key)


async def _list(request: web.Request, extra: Doc, *, result: bool) -> web.Response:
    svc, owner = services(request), project(request)
    if "workflow_id" in request.query and "workflow_name" in request.query:
        raise ApiError(400, "invalid_input", "filter by workflow_name or workflow_id, not both")
    query = list_query(request, COLUMNS, "created_at", REFUSED)
    if "workflow_id" in request.query:
        query.filters["workflow_name"] = by_workflow_id(svc, owner, query.filters["workflow_name"])
    indexed = {k: v for k, v in query.filters.items() if k in INDEXED}
    live_filters = {k: v for k, v in query.filters.items() if k not in INDEXED}
    condition: Doc = {**indexed, **extra, "project": owner}
    if query.marker:
        marker = await svc.engine_store.tasks.find_one({"_id": query.marker, "project": owner})
        if marker is None:
            raise not_found("Task execution", query.marker)
        condition = {"$and": [condition, after_marker(marker, query.sort)]}
    cursor = svc.engine_store.tasks.find(condition).sort(query.sort)
    if query.limit and not live_filters:
        cursor = cursor.limit(query.limit)
    docs = [
        doc
        for doc in await _live(svc, [doc async for doc in cursor])
        if all(holds(_shown(doc, k), v) for k, v in live_filters.items())
    ]
    if query.limit:
        docs = docs[: query.limit]
    if result:
        await resolve_task_results(docs, svc.engine_store)
    items = [task_view(d, result=result) for d in docs]
    return page(request, "tasks", items, query, len(items) == query.limit)


@routes.get("/v2/tasks")
async def list_tasks(request: web.Request) -> web.Response:
    """The project's task executions."""
    return await _list(request, {}, result=False)


@routes.get("/v2/executions/{id}/tasks")
async def execution_tasks(request: web.Request) -> web.Response:
    """The task executions of one execution."""
    doc = await owned_execution(services(request), project(request), request.match_info["id"])
    return await _list(request, {"execution_id": doc["_id"]}, result=False)


@routes.get("/v2/tasks/{id}")
async def get_task(request: web.Request) -> web.Response:
    """One task execution, with its result."""
    svc = services(request)
    doc = await owned_task(svc, project(request), request.match_info["id"])
    await resolve_task_results([doc], svc.engine_store)
    return answer(task_view(doc))


@routes.put("/v2/tasks/{id}")
async def rerun_task(request: web.Request) -> web.Response:
    """Re-run a failed task (Mistral's ``task-rerun``)."""
    svc, owner = services(request), project(request)
    doc = await owned_task(svc, owner, request.match_info["id"])
    body = await json_body(request)
    if body.get("state") != "RUNNING":
        raise ApiError(400, "invalid_input", "only state RUNNING (a re-run) is supported", "state")
    env = decoded(body.get("env"), "env") if body.get("env") else None
    if env is not None and not isinstance(env, dict):
        raise invalid_field("env", env, "Value should be a JSON object")
    if doc["state"] != "ERROR":
        raise ApiError(
            400,
            "invalid_state",
            f"Task {doc['_id']} is {doc['state']}; only a task in ERROR can be re-run",
        )
    reset = body.get("reset", True) is not False
    await control.rerun(svc, doc["execution_id"], doc["_id"], reset, env)
    await control.wait_for_execution(
        svc,
        doc["execution_id"],
        lambda d: d.get("tasks", {}).get(doc["_id"], {}).get("state", "ERROR") != "ERROR",
    )
    return answer(task_view(await owned_task(svc, owner, doc["_id"])))
