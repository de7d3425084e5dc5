"""Async actions completed through Mistral's API, task timeouts that stop the action, and
secrets kept out of stored execution documents: the roles together on a real broker and
database."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pymongo.asynchronous.database import AsyncDatabase

from squall.settings import Settings
from tests.harness import Api, running, wait_for

Doc = dict[str, Any]
SECRET = "s3cret-literal-4711"

DEFINITIONS = f"""
version: '2.0'
name: async_actions
workflows:
  fan_out:
    output: {{results: <% task(wait_all).result %>}}
    tasks:
      wait_all:
        with-items: n in [0, 1, 2]
        action: std.async_noop
  one:
    output: {{result: <% task(wait_one).result %>}}
    tasks:
      wait_one:
        action: std.async_noop
  bounded:
    tasks:
      nap:
        action: std.sleep seconds=30
        timeout: 1
        on-error: [after]
      after:
        action: std.echo output=awake
  login:
    input: [url]
    tasks:
      call:
        action: std.http
        input:
          url: <% $.url %>
          method: POST
          headers: {{X-Auth-Token: {SECRET}}}
          json: {{user: admin, password: {SECRET}}}
"""


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with running(settings, {"api", "engine", "executor"}) as api:
        await api.apply(DEFINITIONS)
        yield api


async def start(api: Api, workflow: str, input: Doc | None = None) -> str:
    body = {"workflow_name": workflow, "input": input or {}}
    status, answer = await api.request("POST", "/v1/executions", json=body)
    assert status == 201, answer
    execution_id: str = answer["id"]
    return execution_id


async def waiting_runs(db: AsyncDatabase[Doc], execution_id: str, count: int) -> list[Doc]:
    """The execution's action runs once ``count`` of them wait for their result."""

    async def check() -> list[Doc] | None:
        runs = [r async for r in db["action_runs"].find({"execution_id": execution_id})]
        waiting = [r for r in runs if r["state"] == "WAITING"]
        return waiting if len(waiting) == count else None

    runs: list[Doc] = await wait_for(check, 30)
    return runs


async def complete(api: Api, run_id: str, state: str, output: Any) -> tuple[int, Any]:
    """Mistral's ``PUT /v2/action_executions/{id}``, output JSON-encoded as clients send it."""
    body = {"state": state, "output": json.dumps({"result": output})}
    return await api.request("PUT", f"/v2/action_executions/{run_id}", json=body)


async def test_async_items_completed_through_the_api_finish_in_item_order(
    api: Api, db: AsyncDatabase[Doc]
) -> None:
    execution_id = await start(api, "fan_out")
    runs = await waiting_runs(db, execution_id, 3)
    status, shown = await api.request("GET", f"/v2/action_executions/{runs[0]['_id']}")
    assert (status, shown["state"]) == (200, "RUNNING")
    for run in sorted(runs, key=lambda r: r["item_index"], reverse=True):
        status, answer = await complete(api, run["_id"], "SUCCESS", f"item-{run['item_index']}")
        assert (status, answer["state"]) == (200, "SUCCESS"), answer
    execution = await api.finished(execution_id)
    assert execution["state"] == "SUCCESS", execution
    assert execution["output"] == {"results": ["item-0", "item-1", "item-2"]}


async def test_an_async_task_completed_through_the_api_succeeds_once(
    api: Api, db: AsyncDatabase[Doc]
) -> None:
    execution_id = await start(api, "one")
    (run,) = await waiting_runs(db, execution_id, 1)
    status, _ = await complete(api, run["_id"], "SUCCESS", {"ticket": 42})
    assert status == 200
    status, answer = await complete(api, run["_id"], "ERROR", "too late")
    assert status == 400, answer
    execution = await api.finished(execution_id)
    assert execution["state"] == "SUCCESS"
    assert execution["output"] == {"result": {"ticket": 42}}


async def test_a_retried_put_reaches_the_engine_when_the_first_was_recorded_but_not_sent(
    api: Api, db: AsyncDatabase[Doc]
) -> None:
    execution_id = await start(api, "one")
    (run,) = await waiting_runs(db, execution_id, 1)
    # What an API process leaves when it dies between recording a PUT and publishing it.
    await db["action_runs"].update_one(
        {"_id": run["_id"]},
        {"$set": {"state": "SUCCESS", "output": {"ticket": 7}, "error": None}},
    )
    await asyncio.sleep(1)
    status, shown = await api.request("GET", f"/v2/executions/{execution_id}")
    assert (status, shown["state"]) == (200, "RUNNING")
    status, answer = await complete(api, run["_id"], "SUCCESS", {"ticket": 7})
    assert status == 200 and answer.get("state") == "SUCCESS", (status, answer)
    execution = await api.finished(execution_id)
    assert execution["output"] == {"result": {"ticket": 7}}


async def test_an_async_action_failed_through_the_api_fails_its_task(
    api: Api, db: AsyncDatabase[Doc]
) -> None:
    execution_id = await start(api, "one")
    (run,) = await waiting_runs(db, execution_id, 1)
    status, answer = await complete(api, run["_id"], "ERROR", "remote job crashed")
    assert (status, answer["state"]) == (200, "ERROR"), answer
    execution = await api.finished(execution_id)
    assert execution["state"] == "ERROR"
    (task,) = execution["tasks"]
    assert task["state"] == "ERROR"
    assert "remote job crashed" in task["state_info"]


async def test_a_task_timeout_stops_its_action_and_frees_the_executor(
    settings: Settings,
) -> None:
    # One action at a time: the task after the timed-out one needs its slot.
    single = settings.model_copy(update={"executor_concurrency": 1})
    async with running(single, {"api", "engine", "executor"}) as api:
        await api.apply(DEFINITIONS)
        began = time.monotonic()
        execution_id = await start(api, "bounded")
        execution = await api.finished(execution_id, timeout=25)
        elapsed = time.monotonic() - began
    states = {t["name"]: t["state"] for t in execution["tasks"]}
    assert states == {"nap": "ERROR", "after": "SUCCESS"}
    assert elapsed < 20


async def test_secrets_in_a_task_input_never_reach_the_execution_document(
    api: Api, db: AsyncDatabase[Doc]
) -> None:
    received: list[tuple[str, Any]] = []

    async def login(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Auth-Token", ""), await request.json()))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/login", login)
    async with TestServer(app, host="127.0.0.1") as server:
        execution_id = await start(api, "login", {"url": str(server.make_url("/login"))})
        execution = await api.finished(execution_id)
    assert execution["state"] == "SUCCESS", execution
    assert received == [(SECRET, {"user": "admin", "password": SECRET})]
    stored = await db["executions"].find_one({"_id": execution_id})
    assert stored is not None
    (task,) = stored["tasks"].values()
    assert task["input"]["json"] == {"user": "admin", "password": "***"}
    assert SECRET not in repr(stored)
