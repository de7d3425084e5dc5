"""Mistral's ``/v2/tasks``: task executions, read and re-run."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from squall.api import control
from squall.api.context import project, services
from squall.api.errors import ApiError, not_found
from squall.api.stored import definition_id
from squall.api.v2.executions import owned_execution
from squall.api.v2.format import (
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

COLUMNS = {
    "id": "_id",
    "name": "name",
    "state": "state",
    "workflow_execution_id": "execution_id",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "type": "type",
}
FINAL = ("SUCCESS", "ERROR", "CANCELLED")


def task_view(doc: Doc, workflow_name: str, *, result: bool = True) -> Doc:
    """A task record as Mistral shows it."""
    finished = doc["updated_at"] if doc["state"] in FINAL else None
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


async def owned_task(svc: Services, owner: str, task_id: str) -> Doc:
    """A task of ``owner``'s project, else 404."""
    doc = await svc.engine_store.tasks.find_one({"_id": task_id, "project": owner})
    if doc is None:
        raise not_found("Task execution", task_id)
    return doc


async def _workflow_names(svc: Services, docs: list[Doc]) -> dict[str, str]:
    ids = {d["execution_id"] for d in docs}
    found = await svc.engine_store.load_executions(ids)
    return {eid: doc["workflow_name"] for eid, doc in found.items()}


async def _list(request: web.Request, extra: Doc, *, result: bool) -> web.Response:
    svc, owner = services(request), project(request)
    query = list_query(request, COLUMNS, "created_at")
    condition: Doc = {**query.filters, **extra, "project": owner}
    if query.marker:
        marker = await svc.engine_store.tasks.find_one({"_id": query.marker, "project": owner})
        if marker is None:
            raise not_found("Task execution", query.marker)
        condition = {"$and": [condition, after_marker(marker, query.sort)]}
    cursor = svc.engine_store.tasks.find(condition).sort(query.sort)
    if query.limit:
        cursor = cursor.limit(query.limit)
    docs = [doc async for doc in cursor]
    names = await _workflow_names(svc, docs)
    items = [task_view(d, names.get(d["execution_id"], ""), result=result) for d in docs]
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
    names = await _workflow_names(svc, [doc])
    return answer(task_view(doc, names.get(doc["execution_id"], "")))


@routes.put("/v2/tasks/{id}")
async def rerun_task(request: web.Request) -> web.Response:
    """Re-run a failed task (Mistral's ``task-rerun``)."""
    svc, owner = services(request), project(request)
    doc = await owned_task(svc, owner, request.match_info["id"])
    body = await json_body(request)
    if body.get("state") != "RUNNING":
        raise ApiError(400, "invalid_input", "only state RUNNING (a re-run) is supported", "state")
    if doc["state"] != "ERROR":
        raise ApiError(
            400,
            "invalid_state",
            f"Task {doc['_id']} is {doc['state']}; only a task in ERROR can be re-run",
        )
    env = decoded(body.get("env"), "env") if body.get("env") else None
    reset = body.get("reset", True) is not False
    await control.rerun(svc, doc["execution_id"], doc["_id"], reset, env)
    execution = await control.wait_for_execution(
        svc,
        doc["execution_id"],
        lambda d: d.get("tasks", {}).get(doc["_id"], {}).get("state", "ERROR") != "ERROR",
    )
    doc = await owned_task(svc, owner, doc["_id"])
    if execution is not None and doc["_id"] in execution.get("tasks", {}):
        doc = {**doc, **execution["tasks"][doc["_id"]], "_id": doc["_id"]}
    names = await _workflow_names(svc, [doc])
    return answer(task_view(doc, names.get(doc["execution_id"], "")))
