"""Mistral's ``/v2/actions`` (the catalogue plus ad-hoc actions) and ``/v2/action_executions``.

Running an action directly starts a one-task execution of a hidden workflow, so the
action runs on an executor like any other and leaves the same records.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from actions.catalogue import ActionCatalogue, ActionInfo, adhoc_info
from actions.executor import WAITING
from schemas.definitions import AdHocAction, DefinitionError, Workflow, load_actions
from squall.api import control
from squall.api.context import project, services
from squall.api.errors import ApiError, not_found
from squall.api.stored import StoredDefinitions, definition_id
from squall.api.v2.action_pages import COLUMNS as RUN_COLUMNS
from squall.api.v2.action_pages import REFUSED as RUN_FILTERS_REFUSED
from squall.api.v2.action_pages import Row, page_of_runs
from squall.api.v2.format import (
    answer,
    decoded,
    encoded,
    json_body,
    list_query,
    page,
    query_flag,
    stamp,
    text_body,
)
from squall.services import Services

routes = web.RouteTableDef()
Doc = dict[str, Any]
#: Longest a synchronous ``run-action`` waits for its result.
RUN_SYNC_TIMEOUT_S = 60.0
RUNNER_PREFIX = "squall.run_action."
_CATALOGUE: list[ActionInfo] = []


def catalogue() -> list[ActionInfo]:
    """The built-in and plugin actions (read once per process)."""
    if not _CATALOGUE:
        _CATALOGUE.extend(ActionCatalogue.default().list())
    return _CATALOGUE


def _action_view(info: ActionInfo, owner: str) -> Doc:
    return {
        "id": definition_id("", "action", info.name),
        "name": info.name,
        "namespace": "",
        "is_system": True,
        "input": info.input,
        "description": info.description.split("\n")[0],
        "tags": [],
        "scope": "public",
        "project_id": owner,
        "created_at": None,
        "updated_at": None,
    }


def _adhoc_view(doc: Doc) -> Doc:
    """An ad-hoc action stored as a definition (through this API or a workbook)."""
    info = adhoc_info(doc["name"], AdHocAction.model_validate(doc["body"]))
    return {
        "id": definition_id(doc["project"], "action", doc["name"]),
        "name": doc["name"],
        "namespace": "",
        "is_system": False,
        "input": info.input,
        "description": info.description,
        "definition": doc.get("definition") or "",
        "tags": [],
        "scope": "private",
        "project_id": doc["project"],
        "created_at": stamp(doc.get("created_at") or doc["updated_at"]),
        "updated_at": stamp(doc["updated_at"]),
    }


@routes.get("/v2/actions")
async def list_actions(request: web.Request) -> web.Response:
    """Every action: the catalogue's and the project's ad-hoc ones."""
    owner = project(request)
    items = [_action_view(info, owner) for info in catalogue()]
    stored = await StoredDefinitions(services(request).db).list(owner, "action")
    items += [_adhoc_view(doc) for doc in stored]
    return answer({"actions": items})


@routes.get("/v2/actions/{name}")
async def get_action(request: web.Request) -> web.Response:
    """One action by name."""
    owner, name = project(request), request.match_info["name"]
    for info in catalogue():
        if name in (info.name, definition_id("", "action", info.name)):
            return answer(_action_view(info, owner))
    doc = await StoredDefinitions(services(request).db).by_id(owner, "action", name)
    if doc is None:
        raise not_found("Action", name)
    return answer(_adhoc_view(doc))


@routes.post("/v2/actions")
async def create_actions(request: web.Request) -> web.Response:
    """Create ad-hoc actions from a YAML document; workflows can use them at once."""
    svc, owner = services(request), project(request)
    text = await text_body(request)
    try:
        actions = load_actions(text, "<request>")
    except DefinitionError as exc:
        raise ApiError(400, "invalid_definition", f"Invalid DSL: {exc.issues[0].message}") from None
    taken = {info.name for info in catalogue()}
    stored = StoredDefinitions(svc.db)
    for name in actions:
        if name in taken or await stored.get(owner, "action", name) is not None:
            raise ApiError(409, "conflict", f"Duplicate entry for Action: {name}")
    created = [
        await stored.put(
            owner, "action", name, action.model_dump(mode="json", by_alias=True), text=text
        )
        for name, action in actions.items()
    ]
    await svc.definitions.refresh()
    return answer({"actions": [_adhoc_view(doc) for doc in created]}, 201)


@routes.delete("/v2/actions/{name}")
async def delete_action(request: web.Request) -> web.Response:
    """Delete an ad-hoc action; workflows started from then on no longer find it."""
    svc, owner, name = services(request), project(request), request.match_info["name"]
    if not await StoredDefinitions(svc.db).delete(owner, "action", name):
        raise not_found("Action", name)
    await svc.definitions.refresh()
    return web.Response(status=204)


def run_view(run: Doc, task: Doc | None, workflow_name: str, owner: str, *, output: bool) -> Doc:
    """An action execution (a claim in ``action_runs``) as Mistral shows it."""
    accepted = task is not None and Row(run, task, workflow_name).accepted
    state = run.get("state", "RUNNING")
    if state == WAITING:
        # Mistral shows an async action as RUNNING until its result arrives.
        state = "RUNNING"
    view: Doc = {
        "id": run["_id"],
        "workflow_name": workflow_name,
        "workflow_namespace": "",
        "task_execution_id": run.get("task_id"),
        "task_name": task["name"] if task else None,
        "state": state,
        "state_info": None,
        "tags": None,
        # The task names the action it was given; the run, what the executor ran (an
        # ad-hoc action's base).
        "name": (task or {}).get("action") or run.get("action"),
        "description": "",
        "project_id": owner,
        "accepted": accepted,
        "input": encoded(run.get("input") or {}),
        "created_at": stamp(run.get("started_at")),
        "updated_at": stamp(run.get("finished_at") or run.get("heartbeat_at")),
    }
    if output:
        result = run.get("error") if state == "ERROR" else run.get("output")
        view["output"] = encoded({"result": result} if state in ("SUCCESS", "ERROR") else {})
    return view


async def _owned_run(svc: Services, owner: str, run_id: str) -> tuple[Doc, Doc]:
    run = await svc.db["action_runs"].find_one({"_id": run_id})
    execution = None
    if run is not None:
        execution = await svc.engine_store.executions.find_one(
            {"_id": run["execution_id"], "project": owner}, {"workflow_name": 1, "tasks": 1}
        )
    if run is None or execution is None:
        raise not_found("ActionExecution", run_id)
    return run, execution


def _view(run: Doc, execution: Doc, owner: str, *, output: bool = True) -> Doc:
    task = execution.get("tasks", {}).get(run.get("task_id"))
    return run_view(run, task, execution["workflow_name"], owner, output=output)


async def _list(request: web.Request, task_id: str | None) -> web.Response:
    svc, owner = services(request), project(request)
    query = list_query(request, RUN_COLUMNS, "created_at", RUN_FILTERS_REFUSED)
    if (
        task_id is not None
        and await svc.engine_store.tasks.find_one({"_id": task_id, "project": owner}, {"_id": 1})
        is None
    ):
        raise not_found("Task execution", task_id)
    rows = await page_of_runs(svc, owner, query, task_id)
    output = query_flag(request, "include_output")
    items = [run_view(r.run, r.task, r.workflow_name, owner, output=output) for r in rows]
    return page(request, "action_executions", items, query, len(items) == query.limit)


@routes.get("/v2/action_executions")
async def list_runs(request: web.Request) -> web.Response:
    """The project's action executions (optionally of one task)."""
    return await _list(request, None)


@routes.get("/v2/tasks/{id}/action_executions")
async def task_runs(request: web.Request) -> web.Response:
    """The action executions of one task."""
    return await _list(request, request.match_info["id"])


@routes.get("/v2/action_executions/{id}")
async def get_run(request: web.Request) -> web.Response:
    """One action execution."""
    svc, owner = services(request), project(request)
    run, execution = await _owned_run(svc, owner, request.match_info["id"])
    return answer(_view(run, execution, owner))


@routes.put("/v2/action_executions/{id}")
async def complete_run(request: web.Request) -> web.Response:
    """Report the result of an async action: publishes its ActionResult."""
    svc, owner = services(request), project(request)
    run, execution = await _owned_run(svc, owner, request.match_info["id"])
    body = await json_body(request)
    state = body.get("state", "SUCCESS")
    if state not in ("SUCCESS", "ERROR"):
        raise ApiError(400, "invalid_input", "state must be SUCCESS or ERROR", "state")
    output = decoded(body.get("output"), "output")
    if isinstance(output, dict) and set(output) == {"result"}:
        output = output["result"]
    error = None if state == "SUCCESS" else json.dumps(output, default=str)
    completed = await control.complete_action(svc, run, state, output, error)
    if completed is None:
        raise ApiError(400, "invalid_state", f"action execution {run['_id']} already finished")
    return answer(_view(completed, execution, owner))


async def _runner(svc: Services, owner: str, action: str) -> str:
    """The hidden one-task workflow that runs ``action`` with the input it is given."""
    name = RUNNER_PREFIX + action
    if svc.definitions.workflow(owner, name) is not None:
        return name
    workflow = Workflow.model_validate(
        {
            "name": name,
            "input": [{"input": {}}],
            "output": {"result": f"<% task({_TASK}).result %>"},
            "tasks": {_TASK: {"action": action, "input": "<% $.input %>"}},
        }
    )
    body = workflow.model_dump(mode="json", by_alias=True)
    await StoredDefinitions(svc.db).put(owner, "workflow", name, body, hidden=True)
    await svc.definitions.refresh()
    return name


_TASK = "run"


@routes.post("/v2/action_executions")
async def run_action(request: web.Request) -> web.Response:
    """Run an action directly (``mistral run-action``), synchronously unless asked not to."""
    svc, owner = services(request), project(request)
    body = await json_body(request)
    action = body.get("name")
    if not isinstance(action, str) or not action:
        raise ApiError(400, "invalid_input", "name (the action) is required", "name")
    known = {info.name for info in catalogue()}
    if action not in known:
        # An ad-hoc action runs too: the engine expands its base and base-input.
        await svc.definitions.refresh()
        if svc.definitions.action(owner, action) is None:
            raise not_found("Action", action)
    given = decoded(body.get("input") or {}, "input")
    params = decoded(body.get("params") or {}, "params")
    if not isinstance(given, dict) or not isinstance(params, dict):
        raise ApiError(400, "invalid_input", "input and params must be JSON objects")
    workflow = await _runner(svc, owner, action)
    execution_id = await control.start(
        svc, owner, workflow, input={"input": given}, description=str(body.get("description", ""))
    )
    wait_final = bool(params.get("run_sync")) or not params.get("save_result")
    timeout = RUN_SYNC_TIMEOUT_S if wait_final else control.WAIT_S
    execution = await control.wait_for_execution(
        svc,
        execution_id,
        lambda d: (
            d["state"] in ("SUCCESS", "ERROR", "CANCELLED")
            or (not wait_final and bool(d.get("tasks")))
        ),
        timeout,
    )
    if execution is None:
        raise ApiError(504, "timeout", "the engine did not start the action in time")
    task = next(iter(execution.get("tasks", {}).values()), None)
    run = None
    if task is not None and task.get("action_execution_id"):
        run = await svc.db["action_runs"].find_one({"_id": task["action_execution_id"]})
    if run is None:
        run = {
            "_id": (task or {}).get("action_execution_id") or execution_id,
            "execution_id": execution_id,
            "task_id": (task or {}).get("id"),
            "action": action,
            "input": given,
            "state": "ERROR" if execution["state"] == "ERROR" else "RUNNING",
            "error": execution.get("state_info"),
            "started_at": execution["created_at"],
        }
    return answer(_view(run, execution, owner), 201)
