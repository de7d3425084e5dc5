"""Mistral's /v2/action_executions: running actions directly, reading and paging runs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from squall.settings import Settings
from tests.harness import Api, wait_for
from tests.squall.api.v2_support import SHOUT, TEXT, reaches, start, v2

FLAKY = """
version: '2.0'
flaky:
  tasks:
    try:
      action: std.fail
"""


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with v2(settings, FLAKY) as api:
        status, body = await api.request("POST", "/v2/actions", data=SHOUT, headers=TEXT)
        assert status == 201, body
        yield api


async def run(api: Api, **body: Any) -> dict[str, Any]:
    status, ran = await api.request("POST", "/v2/action_executions", json=body)
    assert status == 201, ran
    return dict(ran)


async def test_an_ad_hoc_action_runs_directly_with_its_base_input_expanded(api: Api) -> None:
    ran = await run(api, name="shout", input={"word": "hey"})
    assert ran["state"] == "SUCCESS"
    assert ran["name"] == "shout"
    assert json.loads(ran["output"]) == {"result": "hey!"}
    assert ran["accepted"] is True
    status, missing = await api.request(
        "POST", "/v2/action_executions", json={"name": "nobody", "input": {}}
    )
    assert status == 404 and "nobody" in missing["faultstring"]


async def test_an_ad_hoc_action_run_asynchronously_answers_at_once_and_finishes_later(
    api: Api,
) -> None:
    ran = await run(
        api, name="shout", input={"word": "later"}, params={"save_result": True, "run_sync": False}
    )
    assert ran["state"] in ("RUNNING", "SUCCESS")

    async def finished() -> Any:
        # Until an executor claims the run it is not found.
        status, shown = await api.request("GET", f"/v2/action_executions/{ran['id']}")
        return shown if status == 200 and shown["state"] == "SUCCESS" else None

    shown = await wait_for(finished)
    assert json.loads(shown["output"]) == {"result": "later!"}
    assert shown["accepted"] is True


async def test_an_action_execution_is_shown_with_its_task_and_accepted_truthfully(
    api: Api,
) -> None:
    done = await reaches(api, (await start(api, input={"name": "ops"}))["id"])
    _, tasks = await api.request("GET", f"/v2/executions/{done['id']}/tasks")
    (task,) = tasks["tasks"]
    _, runs = await api.request("GET", f"/v2/tasks/{task['id']}/action_executions")
    (listed,) = runs["action_executions"]
    assert "output" not in listed
    status, shown = await api.request("GET", f"/v2/action_executions/{listed['id']}")
    assert status == 200
    assert shown["name"] == "std.echo" and shown["task_name"] == "say"
    assert shown["workflow_name"] == "greet"
    assert shown["task_execution_id"] == task["id"]
    assert json.loads(shown["input"]) == {"output": "hello ops"}
    assert json.loads(shown["output"]) == {"result": "hello ops"}
    assert (shown["state"], shown["accepted"]) == ("SUCCESS", True)


async def test_a_rerun_leaves_the_earlier_attempt_not_accepted(api: Api) -> None:
    failed = await reaches(api, (await start(api, "flaky"))["id"])
    assert failed["state"] == "ERROR"
    _, tasks = await api.request("GET", f"/v2/executions/{failed['id']}/tasks")
    (task,) = tasks["tasks"]
    status, _ = await api.request("PUT", f"/v2/tasks/{task['id']}", json={"state": "RUNNING"})
    assert status == 200

    async def two_runs() -> Any:
        _, runs = await api.request("GET", f"/v2/action_executions?task_execution_id={task['id']}")
        found = runs["action_executions"]
        return found if len(found) == 2 and all(r["state"] == "ERROR" for r in found) else None

    first, second = await wait_for(two_runs)
    assert (first["accepted"], second["accepted"]) == (False, True)


async def test_action_executions_page_with_marker_limit_and_filters(api: Api) -> None:
    for i in range(3):
        await reaches(api, (await start(api, input={"name": str(i)}))["id"])
    await run(api, name="std.noop")
    _, everything = await api.request("GET", "/v2/action_executions")
    names = [r["name"] for r in everything["action_executions"]]
    assert names == ["std.echo", "std.echo", "std.echo", "std.noop"]
    _, first = await api.request("GET", "/v2/action_executions?limit=3")
    assert len(first["action_executions"]) == 3 and "next" in first
    marker = first["action_executions"][-1]["id"]
    _, rest = await api.request("GET", f"/v2/action_executions?limit=3&marker={marker}")
    assert [r["name"] for r in rest["action_executions"]] == ["std.noop"]
    assert "next" not in rest
    _, newest = await api.request("GET", "/v2/action_executions?sort_dirs=desc&limit=1")
    assert newest["action_executions"][0]["name"] == "std.noop"
    _, echoes = await api.request(
        "GET", "/v2/action_executions?name=std.echo&workflow_name=greet&task_name=say"
    )
    assert len(echoes["action_executions"]) == 3
    _, by_state = await api.request("GET", "/v2/action_executions?state=neq:SUCCESS")
    assert by_state["action_executions"] == []
    _, slim = await api.request("GET", "/v2/action_executions?fields=name&limit=1")
    assert set(slim["action_executions"][0]) == {"id", "name"}
    status, _ = await api.request("GET", "/v2/action_executions?marker=not-a-run")
    assert status == 404
