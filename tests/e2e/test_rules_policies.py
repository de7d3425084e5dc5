"""Rules end to end: policies, evaluation records and action rules through the engine."""

from __future__ import annotations

from typing import Any

from squall.settings import Settings
from tests.harness import Api, running, wait_for

TOKEN = "e2e-secret-0123"
DEFINITIONS = f"""
version: '2.0'
name: policies
workflows:
  slow:
    input: [host]
    tasks:
      wait: {{action: std.sleep seconds=1}}
hooks:
  alerts: {{adapter: generic, secret: {TOKEN}, type: alert.firing}}
rules:
  remediate:
    pattern: {{type: [alert.firing]}}
    workflow: slow
    input: {{host: "<% $.data.host %>"}}
    policy: {{concurrency: {{key: "<% $.data.host %>", mode: skip}}}}
  echo:
    pattern: {{type: [alert.firing], data: {{host: [db-1]}}}}
    action: std.echo
    input: {{output: "<% $.data.host %>"}}
"""


async def post(api: Api, host: str) -> str:
    status, body = await api.request("POST", f"/hooks/alerts?token={TOKEN}", json={"host": host})
    assert status == 202, body
    return str(body["event_ids"][0])


async def evaluations(api: Api, event_id: str, count: int) -> list[dict[str, Any]]:
    async def check() -> Any:
        status, body = await api.request("GET", f"/v1/events/{event_id}/evaluations")
        return body["evaluations"] if status == 200 and len(body["evaluations"]) >= count else None

    found: list[dict[str, Any]] = await wait_for(check)
    return found


async def test_skip_and_action_rules_through_the_whole_pipeline(settings: Settings) -> None:
    async with running(settings, {"api", "engine", "executor"}) as api:
        await api.apply(DEFINITIONS)
        first = await post(api, "web-1")
        (record,) = await evaluations(api, first, 1)
        assert record["outcome"] == "fired"
        second = await post(api, "web-1")
        (skipped,) = await evaluations(api, second, 1)
        assert skipped["outcome"] == "concurrency_skip"
        assert await api.finished(record["execution_id"])

        third = await post(api, "db-1")
        records = {r["rule"]: r for r in await evaluations(api, third, 2)}
        echo = await api.finished(records["echo"]["execution_id"])
        assert echo["state"] == "SUCCESS"
        assert echo["output"] == {"result": "db-1"}
