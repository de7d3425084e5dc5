"""/v1/events: publish into the project's rules, then list and read the archive."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from squall.settings import Settings
from tests.harness import Api, running, wait_for

RULED = """\
version: '2.0'
name: reacting
workflows:
  react:
    tasks:
      only:
        action: std.noop
rules:
  on_ping:
    pattern: {type: [ping]}
    workflow: react
"""


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with running(settings, {"api", "engine", "executor"}) as api:
        await api.apply(RULED)
        yield api


async def publish(api: Api, **fields: Any) -> str:
    status, body = await api.request("POST", "/v1/events", json={"source": "cli", **fields})
    assert status == 202, body
    ident: str = body["id"]
    return ident


async def test_a_published_event_runs_its_rule_and_is_archived(api: Api) -> None:
    ident = await publish(api, type="ping", data={"n": 1})
    executions = await api.caused(ident)
    done = await api.finished(executions[0])
    assert done["state"] == "SUCCESS" and done["rule"] == "on_ping"
    status, body = await api.request("GET", f"/v1/events/{ident}")
    assert status == 200 and body["event"]["data"] == {"n": 1}


async def test_events_are_listed_newest_first_filtered_and_paged(api: Api) -> None:
    made = [await publish(api, type="ping"), await publish(api, type="pong")]
    made.append(await publish(api, type="ping"))

    async def archived() -> Any:
        # The engine's lifecycle events are archived too: count ours only.
        _, body = await api.request("GET", "/v1/events?source=cli")
        return body if len(body["events"]) == 3 else None

    await wait_for(archived)
    _, body = await api.request("GET", "/v1/events?source=cli&type=ping&limit=1")
    assert len(body["events"]) == 1 and body["next_marker"]
    _, rest = await api.request(
        "GET", f"/v1/events?source=cli&type=ping&marker={body['next_marker']}"
    )
    pings = [e["id"] for e in body["events"] + rest["events"]]
    assert sorted(pings) == sorted([made[0], made[2]]) and rest["next_marker"] is None
    _, body = await api.request("GET", "/v1/events?project=other")
    assert body["events"] == []
    status, _ = await api.request("GET", f"/v1/events/{made[1]}?project=other")
    assert status == 404


async def test_an_event_without_a_type_is_refused(api: Api) -> None:
    status, body = await api.request("POST", "/v1/events", json={"source": "cli"})
    assert status == 400 and body["field"] == "type"
