"""The seeds' scenarios end to end: example workbooks against the fake OpenStack.

Each test applies an example from ``examples/``, starts its workflow (directly, or
through the webhook the example defines) and checks what happened in the cloud.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from squall.settings import Settings
from tests.actions.openstack.fake_openstack import PROJECT_ID, PUBLIC_NET_ID, FakeOpenStack
from tests.harness import Api, running, wait_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "openstack"


@pytest.fixture
async def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenStack]:
    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    fake = FakeOpenStack(build_polls=2)
    await fake.start()
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(fake.write_clouds_yaml(tmp_path / "c.yaml")))
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def api(settings: Settings, cloud: FakeOpenStack) -> AsyncIterator[Api]:
    configured = settings.model_copy(update={"openstack_cloud": "fake"})
    async with running(configured, {"api", "engine", "executor"}) as api:
        yield api


async def start(api: Api, workflow: str, **params: Any) -> Any:
    status, body = await api.request(
        "POST", "/v1/executions", json={"workflow_name": workflow, "input": params}
    )
    assert status == 201, body
    return await api.finished(body["id"], timeout=60)


async def test_power_schedule_stops_tagged_servers_and_reports_failures(
    api: Api, cloud: FakeOpenStack
) -> None:
    await api.apply((EXAMPLES / "power_schedule.yaml").read_text())
    for name in ("office-1", "office-2"):
        cloud.state.add_server(name, tags=["office"])
    cloud.state.add_server("office-3", tags=["office"], status="ERROR")
    keep = cloud.state.add_server("build-farm")

    stopped = await start(api, "power_off", tag="office")
    assert stopped["state"] == "SUCCESS", stopped.get("state_info")
    assert stopped["output"] == {"stopped": ["office-1", "office-2"], "failed": ["office-3"]}
    assert cloud.state.servers[keep["id"]]["status"] == "ACTIVE"

    started = await start(api, "power_on", tag="office")
    assert started["output"] == {"started": ["office-1", "office-2"], "failed": ["office-3"]}


async def test_nightly_backups_keep_the_newest_n_per_volume(api: Api, cloud: FakeOpenStack) -> None:
    await api.apply((EXAMPLES / "nightly_backups.yaml").read_text())
    now = datetime.now(UTC)
    olds: dict[str, list[str]] = {}
    for name in ("db", "logs"):
        volume = cloud.state.add_volume(name)
        olds[volume["id"]] = [
            cloud.state.add_backup(volume["id"], f"old-{d}", now - timedelta(days=d))["id"]
            for d in (1, 2, 3)
        ]

    execution = await start(api, "backup_volumes", retention=2)
    assert execution["state"] == "SUCCESS", execution.get("state_info")
    for volume_id, (newest_old, *expired) in olds.items():
        left = {b["id"]: b for b in cloud.state.backups.values() if b["volume_id"] == volume_id}
        assert len(left) == 2 and newest_old in left
        assert not set(expired) & set(left)
    assert sorted(execution["output"]["deleted"]) == sorted(
        bid for ids in olds.values() for bid in ids[1:]
    )


def alert(status: str, annotations: dict[str, str]) -> bytes:
    """An Alertmanager delivery of one HighCPU alert for cluster ``web``."""
    item = {
        "status": status,
        "labels": {"alertname": "HighCPU", "cluster": "web", "severity": "critical"},
        "annotations": annotations,
        "startsAt": "2026-11-22T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": "fp-web",
    }
    payload: dict[str, Any] = {"version": "4", "status": status, "receiver": "squall"}
    payload.update(alerts=[item], groupLabels={"alertname": "HighCPU"}, commonLabels=item["labels"])
    return json.dumps(payload).encode()


@pytest.fixture
async def load_balancer() -> AsyncIterator[tuple[str, list[Any]]]:
    """A local HTTP endpoint standing in for the load balancer's member API."""
    members: list[Any] = []

    async def register(request: web.Request) -> web.Response:
        members.append(await request.json())
        return web.json_response({"registered": True}, status=201)

    app = web.Application()
    app.router.add_post("/pools/members", register)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/pools/members", members
    await runner.cleanup()


async def post_alert(api: Api, body: bytes) -> str:
    status, sent = await api.request(
        "POST",
        "/hooks/cpu?token=change-me-cpu-hook",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert status == 202, sent
    event_id: str = sent["event_ids"][0]
    return event_id


async def test_high_cpu_scales_out_and_registers_with_the_load_balancer(
    api: Api, cloud: FakeOpenStack, load_balancer: tuple[str, list[Any]]
) -> None:
    url, members = load_balancer
    image = cloud.state.add_image("web-image")
    await api.apply((EXAMPLES / "alarm_scale_out.yaml").read_text())
    annotations = {"image": image["id"], "flavor": "2", "lb_url": url}
    event_id = await post_alert(api, alert("firing", annotations))
    (execution_id,) = await api.caused(event_id)
    execution = await api.finished(execution_id, timeout=60)

    assert execution["state"] == "SUCCESS", execution.get("state_info")
    servers = list(cloud.state.servers.values())
    assert len(servers) == 2 and {s["status"] for s in servers} == {"ACTIVE"}
    assert {m["server_id"] for m in members} == {s["id"] for s in servers}
    assert all(m["address"].startswith("10.0.0.") and m["pool"] == "web" for m in members)


async def test_the_resolved_alert_cancels_a_running_scale_out(
    api: Api, cloud: FakeOpenStack, load_balancer: tuple[str, list[Any]]
) -> None:
    cloud.state.build_polls = 10_000  # the servers never become ACTIVE
    url, members = load_balancer
    image = cloud.state.add_image("web-image")
    await api.apply((EXAMPLES / "alarm_scale_out.yaml").read_text())
    annotations = {"image": image["id"], "flavor": "2", "lb_url": url}
    (execution_id,) = await api.caused(await post_alert(api, alert("firing", annotations)))

    async def waiting() -> bool:
        body = await api.execution(execution_id)
        return bool(body) and any(t["name"] == "wait_active" for t in body["tasks"])

    await wait_for(waiting, timeout=30)
    await post_alert(api, alert("resolved", annotations))
    execution = await api.finished(execution_id, timeout=30)
    assert execution["state"] == "CANCELLED"
    assert members == []


async def test_a_server_gets_a_floating_ip(api: Api, cloud: FakeOpenStack) -> None:
    await api.apply((EXAMPLES / "server_with_ip.yaml").read_text())
    image = cloud.state.add_image("cirros")
    execution = await start(
        api,
        "create_server_with_ip",
        name="bastion",
        image=image["id"],
        flavor="1",
        external_network=PUBLIC_NET_ID,
    )
    assert execution["state"] == "SUCCESS", execution.get("state_info")
    (server,) = cloud.state.servers.values()
    (fip,) = cloud.state.floatingips.values()
    assert execution["output"] == {"server_id": server["id"], "address": fip["floating_ip_address"]}
    assert server["status"] == "ACTIVE" and fip["port_id"] is not None


async def test_a_failed_floating_ip_deletes_the_new_server(api: Api, cloud: FakeOpenStack) -> None:
    await api.apply((EXAMPLES / "server_with_ip.yaml").read_text())
    image = cloud.state.add_image("cirros")
    execution = await start(
        api,
        "create_server_with_ip",
        name="bastion",
        image=image["id"],
        flavor="1",
        external_network="no-such-network",
    )
    assert execution["state"] == "ERROR"
    assert cloud.state.servers == {}
    assert any(m == "DELETE" and "/servers/" in p for m, p in cloud.state.requests)


AS_CALLER = """
version: '2.0'
name: caller
workflows:
  list_as_caller:
    tasks:
      servers:
        action: nova.servers_list
"""


@pytest.mark.parametrize("known", [True, False])
async def test_the_callers_token_in_params_authenticates_openstack_actions(
    api: Api, cloud: FakeOpenStack, known: bool
) -> None:
    token = cloud.add_token() if known else "expired-token"
    await api.apply(AS_CALLER)
    params = {"openstack": {"auth_token": token, "project_id": PROJECT_ID}}
    status, body = await api.request(
        "POST", "/v1/executions", json={"workflow_name": "list_as_caller", "params": params}
    )
    assert status == 201, body
    done = await api.finished(body["id"], timeout=60)
    # An unknown token fails although the cloud's own password is valid: the
    # caller's token, not the cloud's credentials, authenticated the action.
    assert done["state"] == ("SUCCESS" if known else "ERROR"), done["state_info"]
    assert done["params"]["openstack"]["auth_token"] == "***"
    assert token not in json.dumps(done)
