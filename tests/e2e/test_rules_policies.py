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


CORRELATED = f"""
version: '2.0'
name: correlation
hooks:
  lost: {{adapter: generic, secret: {TOKEN}, type: ping.lost}}
  cpu: {{adapter: generic, secret: {TOKEN}, type: cpu.high}}
rules:
  host_down:
    correlate:
      patterns:
        unreachable: {{type: [ping.lost]}}
        cpu: {{type: [cpu.high]}}
      window: 300
      key: "<% $.data.host %>"
    action: std.echo
    input:
      output:
        host: "<% $.events.unreachable.data.host %>"
        load: "<% $.events.cpu.data.load %>"
"""


async def test_two_correlated_webhook_events_start_one_execution(settings: Settings) -> None:
    async with running(settings, {"api", "engine", "executor"}) as api:
        await api.apply(CORRELATED)
        status, body = await api.request(
            "POST", f"/hooks/lost?token={TOKEN}", json={"host": "web-1"}
        )
        assert status == 202, body
        (waiting,) = await evaluations(api, str(body["event_ids"][0]), 1)
        assert waiting["outcome"] == "correlating" and "waiting for 'cpu'" in waiting["reason"]
        status, body = await api.request(
            "POST", f"/hooks/cpu?token={TOKEN}", json={"host": "web-1", "load": 97}
        )
        assert status == 202, body
        (fired,) = await evaluations(api, str(body["event_ids"][0]), 1)
        assert fired["outcome"] == "fired"
        assert set(fired["correlated"]) == {"unreachable", "cpu"}
        execution = await api.finished(fired["execution_id"])
        assert execution["state"] == "SUCCESS"
        assert execution["output"] == {"result": {"host": "web-1", "load": 97}}
