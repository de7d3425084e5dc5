"""Mistral's execution report and sub-executions: the tree of what one execution did."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aiohttp import web

from squall.api.context import project, services
from squall.api.errors import ApiError
from squall.api.v2.executions import execution_view, owned_execution
from squall.api.v2.format import answer
from squall.services import Services

routes = web.RouteTableDef()
Doc = dict[str, Any]

#: Deepest nesting a report or a sub-execution listing walks by default.
MAX_DEPTH = 50
_STATISTICS = ("running", "success", "error", "idle", "paused")


def _options(request: web.Request) -> tuple[bool, int]:
    errors_only = request.query.get("errors_only", "false").lower() == "true"
    raw = request.query.get("max_depth", "-1")
    try:
        depth = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_input", f"max_depth must be an integer, got {raw!r}") from None
    return errors_only, MAX_DEPTH if depth < 0 else min(depth, MAX_DEPTH)


async def _children(svc: Services, owner: str, parent_id: str) -> list[Doc]:
    cursor = svc.engine_store.executions.find({"parent_execution_id": parent_id, "project": owner})
    return [doc async for doc in cursor.sort("created_at", 1)]


async def _descendants(svc: Services, owner: str, root: Doc, depth: int) -> list[Doc]:
    found: list[Doc] = []
    level = [root]
    for _ in range(depth):
        level = [child for doc in level for child in await _children(svc, owner, doc["_id"])]
        if not level:
            break
        found += level
    return found


@routes.get("/v2/executions/{id}/executions")
async def sub_executions(request: web.Request) -> web.Response:
    """The executions started below this one (sub-workflows), breadth first."""
    svc, owner = services(request), project(request)
    root = await owned_execution(svc, owner, request.match_info["id"])
    errors_only, depth = _options(request)
    found = await _descendants(svc, owner, root, depth)
    if errors_only:
        found = [doc for doc in found if doc["state"] == "ERROR"]
    return answer({"executions": [execution_view(doc) for doc in found]})


async def _node(
    svc: Services, owner: str, doc: Doc, depth: int, errors_only: bool, stats: Counter[str]
) -> Doc:
    runs: dict[str, list[Doc]] = {}
    async for run in svc.db["action_runs"].find({"execution_id": doc["_id"]}):
        runs.setdefault(run.get("task_id", ""), []).append(run)
    children = await _children(svc, owner, doc["_id"]) if depth > 0 else []
    tasks = []
    for task in sorted(doc.get("tasks", {}).values(), key=lambda t: t["created_at"]):
        stats[str(task["state"]).lower()] += 1
        stats["total"] += 1
        if errors_only and task["state"] != "ERROR":
            continue
        below = [c for c in children if c.get("parent_task_id") == task["id"]]
        tasks.append(
            {
                "id": task["id"],
                "name": task["name"],
                "type": task.get("type") or "ACTION",
                "state": task["state"],
                "state_info": task.get("state_info"),
                "action_executions": [
                    {
                        "id": run["_id"],
                        "name": run.get("action"),
                        "state": run.get("state"),
                        "state_info": run.get("error"),
                    }
                    for run in runs.get(task["id"], [])
                ],
                "workflow_executions": [
                    await _node(svc, owner, child, depth - 1, errors_only, stats) for child in below
                ],
            }
        )
    return {
        "id": doc["_id"],
        "name": doc["workflow_name"],
        "state": doc["state"],
        "state_info": doc.get("state_info"),
        "task_executions": tasks,
    }


@routes.get("/v2/executions/{id}/report")
async def report(request: web.Request) -> web.Response:
    """The execution's tree of tasks, actions and sub-workflows, with task counts."""
    svc, owner = services(request), project(request)
    root = await owned_execution(svc, owner, request.match_info["id"])
    errors_only, depth = _options(request)
    stats: Counter[str] = Counter()
    tree = await _node(svc, owner, root, depth, errors_only, stats)
    statistics = {f"{name}_tasks_count": stats[name] for name in _STATISTICS}
    statistics["total_tasks_count"] = stats["total"]
    return answer({"root_workflow_execution": tree, "statistics": statistics})
