"""One alarm end to end: webhook → Kafka → engine → MongoDB → executor → SUCCESS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from squall.settings import Settings
from tests.harness import Api, running

EXAMPLE = (Path(__file__).resolve().parents[2] / "examples" / "remediation.yaml").read_text()
TOKEN = "dev-secret-change-me"


def alert(status: str = "firing", severity: str = "critical", cluster: str = "web") -> bytes:
    """An Alertmanager (webhook payload version 4) delivery with one alert."""
    item = {
        "status": status,
        "labels": {"alertname": "HighCPU", "cluster": cluster, "severity": severity},
        "annotations": {"summary": "CPU above 90%"},
        "startsAt": "2026-11-22T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": f"fp-{cluster}-{severity}",
    }
    return json.dumps(
        {
            "version": "4",
            "status": status,
            "receiver": "squall",
            "groupKey": '{}:{alertname="HighCPU"}',
            "truncatedAlerts": 0,
            "groupLabels": {"alertname": "HighCPU"},
            "commonLabels": item["labels"],
            "commonAnnotations": item["annotations"],
            "externalURL": "http://alertmanager:9093",
            "alerts": [item],
        }
    ).encode()


async def post_alert(api: Api, body: bytes, query: str = f"?token={TOKEN}") -> tuple[int, Any]:
    return await api.request(
        "POST", f"/hooks/alerts{query}", data=body, headers={"Content-Type": "application/json"}
    )


@pytest.fixture
async def api(settings: Settings) -> Any:
    async with running(settings, {"api", "engine", "executor"}) as api:
        await api.apply(EXAMPLE)
        yield api


async def test_an_alert_runs_the_remediation_to_success(api: Api) -> None:
    status, body = await post_alert(api, alert())
    assert status == 202
    (event_id,) = body["event_ids"]

    (execution_id,) = await api.caused(event_id)
    execution = await api.finished(execution_id)

    assert execution["state"] == "SUCCESS"
    assert execution["workflow_name"] == "scale_out"
    assert execution["rule"] == "high_cpu"
    assert execution["event_id"] == event_id
    assert execution["input"] == {"cluster": "web", "count": 2}
    assert execution["output"] == {"cluster": "web", "message": "scaling out web by 2"}
    assert [(t["name"], t["state"]) for t in execution["tasks"]] == [
        ("announce", "SUCCESS"),
        ("record", "SUCCESS"),
    ]
    assert execution["tasks"][0]["result"] == "scaling out web by 2"
    assert execution["tasks"][0]["published"] == {"message": "scaling out web by 2"}
    states = [(h["task"], h["state"]) for h in execution["history"]]
    assert states[0] == (None, "RUNNING") and states[-1] == (None, "SUCCESS")

    status, archived = await api.request("GET", f"/v1/events/{event_id}")
    assert status == 200
    assert archived["event"]["type"] == "alert.firing"
    assert archived["event"]["source"] == "hooks/alerts"


async def test_the_condition_filters_informational_alerts(api: Api) -> None:
    status, body = await post_alert(api, alert(severity="info"))
    assert status == 202
    (event_id,) = body["event_ids"]

    async def archived() -> Any:
        code, doc = await api.request("GET", f"/v1/events/{event_id}")
        return doc if code == 200 else None

    from tests.harness import wait_for

    doc = await wait_for(archived)
    assert doc["executions"] == []


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("", {}),
        ("?token=wrong-secret-value", {}),
        ("", {"Authorization": "Bearer not-the-secret"}),
    ],
)
async def test_a_missing_or_wrong_secret_is_refused(
    api: Api, query: str, headers: dict[str, str]
) -> None:
    status, body = await api.request(
        "POST",
        f"/hooks/alerts{query}",
        data=alert(),
        headers={"Content-Type": "application/json", **headers},
    )
    assert status == 401
    assert body["code"] == "unauthorized"
    assert TOKEN not in json.dumps(body)


async def test_the_secret_as_a_bearer_token_is_accepted(api: Api) -> None:
    status, _ = await api.request(
        "POST",
        "/hooks/alerts",
        data=alert(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    assert status == 202


async def test_an_oversized_body_is_refused_with_413(api: Api) -> None:
    status, body = await post_alert(api, b"{" + b" " * 2_000_000 + b"}")
    assert status == 413
    assert "1048576" in body["message"]


async def test_invalid_json_gets_a_precise_400(api: Api) -> None:
    status, body = await post_alert(api, b'{"version": "4", "alerts": [}')
    assert status == 400
    assert "line 1" in body["message"] and "column" in body["message"]


async def test_an_unknown_hook_is_404(api: Api) -> None:
    status, body = await api.request("POST", "/hooks/nope", data=b"{}")
    assert status == 404
    assert "nope" in body["message"]


HTTP_WORKFLOW = """
version: '2.0'
name: http_check
workflows:
  call_service:
    input: [url]
    tasks:
      call:
        action: std.http
        input:
          url: <% $.url %>
          method: POST
          json: {hello: world}
        publish:
          status: <% task().result.status %>
          echoed: <% task().result.content.got %>
    output:
      status: <% $.status %>
      echoed: <% $.echoed %>
"""


async def test_std_http_reaches_a_local_server(api: Api, settings: Settings) -> None:
    received: list[Any] = []

    async def handler(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response({"got": received[-1]})

    app = web.Application()
    app.router.add_post("/hook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        await api.apply(HTTP_WORKFLOW)
        status, body = await api.request(
            "POST",
            "/v1/executions",
            json={
                "workflow_name": "call_service",
                "input": {"url": f"http://127.0.0.1:{port}/hook"},
            },
        )
        assert status == 201
        execution = await api.finished(body["id"])
    finally:
        await runner.cleanup()
    assert execution["state"] == "SUCCESS", execution["state_info"]
    assert execution["output"] == {"status": 200, "echoed": {"hello": "world"}}
    assert received == [{"hello": "world"}]
