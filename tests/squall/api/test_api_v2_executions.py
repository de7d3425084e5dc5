"""Mistral's ``PUT`` and ``DELETE /v2/executions/{id}``: state, description, env, force."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from squall.settings import Settings
from tests.harness import Api, wait_for
from tests.squall.api.v2_support import NAPPER, params_of, reaches, start, v2

GLOBAL = """
version: '2.0'
globals:
  vars:
    kept: local
  tasks:
    first:
      action: std.noop
      on-success:
        publish:
          branch: {mine: 1}
          global: {shared: hello}
        next: [second]
    second:
      action: std.noop
"""
NESTED = """
version: '2.0'
outer:
  tasks:
    inner:
      workflow: napper
"""


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with v2(settings, NAPPER, GLOBAL, NESTED) as api:
        yield api


async def put(api: Api, execution_id: str, **body: Any) -> tuple[int, Any]:
    return await api.request("PUT", f"/v2/executions/{execution_id}", json=body)


async def test_an_env_update_merges_into_a_paused_execution_and_leaves_it_paused(
    api: Api,
) -> None:
    created = await start(api, "napper", params={"env": {"region": "eu", "tier": "gold"}})
    status, paused = await put(api, created["id"], state="PAUSED")
    assert (status, paused["state"]) == (200, "PAUSED")
    status, updated = await put(api, created["id"], params={"env": {"region": "us"}})
    assert status == 200, updated
    assert updated["state"] == "PAUSED"
    assert params_of(updated)["env"] == {"region": "us", "tier": "gold"}
    _, shown = await api.request("GET", f"/v2/executions/{created['id']}")
    assert shown["state"] == "PAUSED"
    assert params_of(shown)["env"] == {"region": "us", "tier": "gold"}


async def test_an_env_update_is_refused_while_running_and_after_success(api: Api) -> None:
    running = await start(api, "napper")
    status, body = await put(api, running["id"], params={"env": {"k": 1}})
    assert status == 400
    assert body["faultstring"] == (
        "Updating env to workflow execution is only permitted if it is in IDLE, PAUSED, "
        "or ERROR state."
    )
    done = await reaches(api, (await start(api))["id"])
    status, _ = await put(api, done["id"], params={"env": {"k": 1}})
    assert status == 400


async def test_a_failed_execution_takes_an_env_update(api: Api) -> None:
    created = await start(api, "napper")
    status, failed = await put(api, created["id"], state="ERROR", state_info="stopped by ops")
    assert (status, failed["state"]) == (200, "ERROR"), failed
    assert failed["state_info"] == "stopped by ops"
    status, updated = await put(api, created["id"], params=json.dumps({"env": {"k": 2}}))
    assert (status, updated["state"]) == (200, "ERROR")
    assert params_of(updated)["env"] == {"k": 2}


async def test_success_and_description_are_set_by_put(api: Api) -> None:
    created = await start(api, "napper")
    status, done = await put(api, created["id"], state="SUCCESS")
    assert (status, done["state"]) == (200, "SUCCESS")
    status, described = await put(api, created["id"], description="checked by ops")
    assert (status, described["description"]) == (200, "checked by ops")
    _, shown = await api.request("GET", f"/v2/executions/{created['id']}")
    assert (shown["state"], shown["description"]) == ("SUCCESS", "checked by ops")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"state": []}, "Invalid input for field/attribute state."),
        ({"state": "BOGUS"}, "Invalid input for field/attribute state."),
        ({"description": 5}, "Invalid input for field/attribute description."),
        ({"params": "{not json"}, "Invalid input for field/attribute params"),
        ({"params": {"env": [1]}}, "Invalid input for field/attribute params."),
        ({}, "The property state, description, or env is not provided for update."),
        (
            {"state": "PAUSED", "description": "x"},
            "The property description must be updated separately from state.",
        ),
        ({"state": "PAUSED", "params": {"env": {"k": 1}}}, "The property env can only be"),
    ],
)
async def test_a_malformed_update_is_a_400_in_mistrals_words(
    api: Api, body: dict[str, Any], message: str
) -> None:
    created = await start(api, "napper")
    status, refused = await put(api, created["id"], **body)
    assert status == 400, refused
    assert refused["faultstring"].startswith(message)
    _, shown = await api.request("GET", f"/v2/executions/{created['id']}")
    assert shown["state"] == "RUNNING"


async def test_global_publishes_are_shown_without_the_workflows_vars(api: Api) -> None:
    done = await reaches(api, (await start(api, "globals"))["id"])
    assert done["state"] == "SUCCESS"
    assert json.loads(done["published_global"]) == {"shared": "hello"}
    assert json.loads(done["output"]) == {"mine": 1}


async def test_a_running_execution_is_deleted_only_with_force_and_leaves_nothing_behind(
    api: Api, db: AsyncDatabase[dict[str, Any]]
) -> None:
    outer = await start(api, "outer")

    async def child() -> Any:
        return await db["executions"].find_one({"parent_execution_id": outer["id"]})

    inner = await wait_for(child)

    async def claimed() -> Any:
        return await db["action_runs"].find_one({"execution_id": inner["_id"]})

    await wait_for(claimed)
    url = f"/v2/executions/{outer['id']}"
    status, refused = await api.request("DELETE", url)
    assert status == 400
    assert refused["faultstring"] == (
        "Only completed executions can be deleted. Use --force to override this. "
        f"Execution {outer['id']} is in RUNNING state"
    )
    status, _ = await api.request("DELETE", url + "?force=true")
    assert status == 204
    status, _ = await api.request("GET", url)
    assert status == 404
    status, _ = await api.request("GET", f"/v2/executions/{inner['_id']}")
    assert status == 404
    family = [outer["id"], inner["_id"]]
    assert await db["tasks"].count_documents({"execution_id": {"$in": family}}) == 0
    assert await db["action_runs"].count_documents({"execution_id": {"$in": family}}) == 0
    status, _ = await api.request("DELETE", url + "?force=maybe")
    assert status == 404


async def test_malformed_fields_at_creation_and_rerun_are_400s_naming_them(api: Api) -> None:
    status, body = await api.request(
        "POST", "/v2/executions", json={"workflow_name": "napper", "description": ["x"]}
    )
    assert status == 400 and "description" in body["faultstring"]
    failed = await start(api, "napper")
    await put(api, failed["id"], state="ERROR")
    _, tasks = await api.request("GET", f"/v2/executions/{failed['id']}/tasks")
    status, body = await api.request(
        "PUT", f"/v2/tasks/{tasks['tasks'][0]['id']}", json={"state": "RUNNING", "env": "[1]"}
    )
    assert status == 400 and "env" in body["faultstring"]
