"""/v1/executions (list, history, graph), /v1/actions and /v1/tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from squall.settings import Settings
from tests.harness import Api, running
from tests.squall.api.api_support import bearer, make_token, secured, squall

FLOW = """\
version: '2.0'
name: shapes
workflows:
  diamond:
    tasks:
      start:
        action: std.noop
        on-success: [left, right]
      left:
        action: std.noop
        on-success: [meet]
      right:
        action: std.fail
        on-error: [meet]
      meet:
        join: all
        action: std.noop
  single:
    tasks:
      only:
        action: std.noop
"""


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with running(settings, {"api", "engine", "executor"}) as api:
        await api.apply(FLOW)
        yield api


async def start(api: Api, workflow: str, project: str = "default") -> str:
    status, body = await api.request(
        "POST", f"/v1/executions?project={project}", json={"workflow_name": workflow}
    )
    assert status == 201, body
    ident: str = body["id"]
    return ident


async def test_the_graph_shows_the_transitions_taken(api: Api) -> None:
    ident = await start(api, "diamond")
    done = await api.finished(ident)
    assert done["state"] == "SUCCESS", done
    status, graph = await api.request("GET", f"/v1/executions/{ident}/graph")
    assert status == 200
    names = {n["id"]: n["name"] for n in graph["nodes"]}
    assert sorted(names.values()) == ["left", "meet", "right", "start"]
    assert {n["name"]: n["state"] for n in graph["nodes"]}["right"] == "ERROR"
    edges = {(names[e["source"]], names[e["target"]], e["event"]) for e in graph["edges"]}
    assert edges == {
        ("start", "left", "on-success"),
        ("start", "right", "on-success"),
        ("left", "meet", "join"),
        ("right", "meet", "join"),
    }


async def test_history_lists_every_state_change_in_order(api: Api) -> None:
    ident = await start(api, "single")
    await api.finished(ident)
    status, body = await api.request("GET", f"/v1/executions/{ident}/history")
    assert status == 200 and body["state"] == "SUCCESS"
    times = [datetime.fromisoformat(h["at"]) for h in body["history"]]
    assert times == sorted(times)
    assert body["history"][-1]["state"] == "SUCCESS"
    assert any(h["task"] == "only" for h in body["history"])


async def test_listing_filters_and_pages_newest_first(api: Api) -> None:
    made = [await start(api, "single") for _ in range(3)] + [await start(api, "diamond")]
    created = {}
    for ident in made:
        created[ident] = (await api.finished(ident))["created_at"]
    # Commands for different executions travel on different partitions, so the engine
    # may create them in another order than they were posted: newest first means by
    # creation time (then id).
    newest_first = sorted(made[:3], key=lambda i: (created[i], i), reverse=True)
    status, body = await api.request("GET", "/v1/executions?workflow_name=single&limit=2")
    assert status == 200 and len(body["executions"]) == 2 and body["next_marker"]
    first = [e["id"] for e in body["executions"]]
    status, body = await api.request(
        "GET", f"/v1/executions?workflow_name=single&limit=2&marker={body['next_marker']}"
    )
    assert body["next_marker"] is None
    assert first + [e["id"] for e in body["executions"]] == newest_first
    status, body = await api.request("GET", "/v1/executions?state=SUCCESS")
    assert {e["id"] for e in body["executions"]} == set(made)
    status, body = await api.request("GET", "/v1/executions?state=RUNNING")
    assert body["executions"] == []
    status, body = await api.request("GET", "/v1/executions?created_after=2999-01-01T00:00:00Z")
    assert body["executions"] == []
    status, body = await api.request("GET", "/v1/executions?created_before=2999-01-01T00:00:00Z")
    assert len(body["executions"]) == 4
    status, body = await api.request("GET", "/v1/executions?rule=nothing")
    assert body["executions"] == []
    status, body = await api.request("GET", "/v1/executions?state=SLEEPY")
    assert status == 400 and body["field"] == "state"


async def test_another_projects_executions_are_not_found(api: Api) -> None:
    ident = await start(api, "single")
    await api.finished(ident)
    for suffix in ("", "/history", "/graph"):
        status, _ = await api.request("GET", f"/v1/executions/{ident}{suffix}?project=other")
        assert status == 404
    status, body = await api.request("GET", "/v1/executions?project=other")
    assert body["executions"] == []
    status, _ = await api.request("GET", f"/v1/executions?project=other&marker={ident}")
    assert status == 404


async def test_the_action_catalogue_lists_signatures(api: Api) -> None:
    status, body = await api.request("GET", "/v1/actions")
    assert status == 200
    by_name = {a["name"]: a for a in body["actions"]}
    assert "std.noop" in by_name and "url" in by_name["std.http"]["input"]
    status, body = await api.request("GET", "/v1/actions/std.echo")
    assert status == 200 and body["description"]
    status, _ = await api.request("GET", "/v1/actions/std.nope")
    assert status == 404


async def test_tokens_are_created_listed_and_revoked_by_admins_only(settings: Settings) -> None:
    settings = secured(settings)
    async with squall(settings, {"api"}) as api:
        admin = bearer(await make_token(settings, "ops", "admin"))
        status, made = await api.request(
            "POST", "/v1/tokens", json={"role": "viewer", "description": "ci"}, headers=admin
        )
        assert status == 201 and made["token"].startswith("sqt_") and made["project"] == "ops"
        viewer = bearer(made["token"])
        status, _ = await api.request("GET", "/v1/executions", headers=viewer)
        assert status == 200
        status, _ = await api.request("GET", "/v1/tokens", headers=viewer)
        assert status == 403
        status, listed = await api.request("GET", "/v1/tokens", headers=admin)
        assert made["id"] in [t["id"] for t in listed["tokens"]]
        assert "sqt_" not in str(listed)
        other = bearer(await make_token(settings, "elsewhere", "admin"))
        status, _ = await api.request("DELETE", f"/v1/tokens/{made['id']}", headers=other)
        assert status == 404
        status, _ = await api.request("DELETE", f"/v1/tokens/{made['id']}", headers=admin)
        assert status == 204
        status, _ = await api.request("POST", "/v1/tokens", json={"role": "root"}, headers=admin)
        assert status == 400


SECRETIVE = """\
version: '2.0'
name: secretive
workflows:
  echo_secret:
    tasks:
      say:
        action: std.echo
        input:
          output: {user: ops, password: hunter2}
"""


async def test_stored_inputs_and_params_are_shown_masked(api: Api) -> None:
    await api.apply(SECRETIVE)
    params = {"openstack": {"auth_token": "gAAAA-secret", "project_id": "p1"}}
    status, body = await api.request(
        "POST", "/v1/executions", json={"workflow_name": "echo_secret", "params": params}
    )
    assert status == 201, body
    done = await api.finished(body["id"])
    assert done["state"] == "SUCCESS"
    assert done["tasks"][0]["input"] == {"output": {"user": "ops", "password": "***"}}
    assert done["params"]["openstack"] == {"auth_token": "***", "project_id": "p1"}
