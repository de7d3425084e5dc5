"""The seeds' scenarios end to end: example workbooks against the fake OpenStack.

Each test applies an example from ``examples/``, starts its workflow (directly, or
through the webhook the example defines) and checks what happened in the cloud; the
examples' timers are checked through the API and the timers' own schedule.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import hypothesis
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from pymongo.asynchronous.database import AsyncDatabase

from schemas.definitions import load_definitions
from squall.settings import Settings
from tests.actions.openstack.fake_openstack import (
    PROJECT_ID,
    PUBLIC_NET_ID,
    FakeOpenStack,
    serving_cloud,
)
from tests.harness import Api, running, wait_for
from triggers.timers import next_fire_times

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "openstack"
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
async def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenStack]:
    async with serving_cloud(tmp_path / "clouds.yaml", monkeypatch, "fake") as fake:
        yield fake


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


@pytest.mark.parametrize(
    ("workflow", "before", "after", "done"),
    [("power_off", "ACTIVE", "SHUTOFF", "stopped"), ("power_on", "SHUTOFF", "ACTIVE", "started")],
)
async def test_power_schedule_waits_for_the_new_status_and_names_the_failed_servers(
    api: Api, cloud: FakeOpenStack, workflow: str, before: str, after: str, done: str
) -> None:
    await api.apply((EXAMPLES / "power_schedule.yaml").read_text())
    state = cloud.state
    for name in ("office-1", "office-2", "office-3", "office-4"):
        state.add_server(name, status=before, tags=["office"])
    keep = state.add_server("build-farm", status=before)
    refused = next(s for s in state.servers.values() if s["name"] == "office-3")
    locked = (409, "conflictingRequest", f"Instance {refused['id']} is locked")
    state.faults[("POST", f"/servers/{refused['id']}/action")] = locked
    state.stuck.add("office-4")

    execution = await start(api, workflow, tag="office", poll_delay=0, polls=6)
    assert execution["state"] == "SUCCESS", execution.get("state_info")
    # Nova switches a server some reads after answering: office-1 and -2 count as
    # switched only because the workflow waited for them.
    assert execution["output"] == {
        done: ["office-1", "office-2"],
        "failed": ["office-3", "office-4"],
    }
    shown = {s["name"]: (s["status"], s["OS-EXT-STS:task_state"]) for s in state.servers.values()}
    assert shown["office-1"] == shown["office-2"] == (after, None)
    assert shown["office-3"] == (before, None)
    assert shown["office-4"][1] is not None
    assert state.servers[keep["id"]]["status"] == before


def fires_in_paris(timer: dict[str, Any]) -> list[datetime]:
    """A timer view's next fires, read back as Paris wall-clock times."""
    return [datetime.fromisoformat(t).astimezone(PARIS) for t in timer["next_fires"]]


async def test_power_schedule_timers_fire_on_weekdays_at_20_and_7_paris_time(api: Api) -> None:
    await api.apply((EXAMPLES / "power_schedule.yaml").read_text())
    status, body = await api.request("GET", "/v1/timers?fires=10")
    assert status == 200, body
    timers = {t["name"]: t for t in body["timers"]}
    for name, hour in (("evening_power_off", 20), ("morning_power_on", 7)):
        fires = fires_in_paris(timers[name])
        assert len(fires) == 10
        assert all(f.weekday() < 5 and (f.hour, f.minute) == (hour, 0) for f in fires), fires
    assert timers["evening_power_off"]["workflow"] == "power_off"
    assert timers["morning_power_on"]["input"] == {"tag": "office"}


def example_timer(example: str, name: str) -> Any:
    """One timer of an example file, as the timer service schedules it."""
    return load_definitions((EXAMPLES / example).read_text(), example).timers[name]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("timer", "after", "expected"),
    [
        # Spring forward (Sunday 29 March 2026): 20:00 is 19:00 UTC, then 18:00 UTC.
        (
            "evening_power_off",
            "2026-03-26T12:00",
            ["2026-03-26T19:00", "2026-03-27T19:00", "2026-03-30T18:00", "2026-03-31T18:00"],
        ),
        (
            "morning_power_on",
            "2026-03-26T12:00",
            ["2026-03-27T06:00", "2026-03-30T05:00", "2026-03-31T05:00", "2026-04-01T05:00"],
        ),
        # Fall back (Sunday 25 October 2026): 07:00 is 05:00 UTC, then 06:00 UTC.
        (
            "morning_power_on",
            "2026-10-22T12:00",
            ["2026-10-23T05:00", "2026-10-26T06:00", "2026-10-27T06:00", "2026-10-28T06:00"],
        ),
    ],
)
def test_power_schedule_keeps_paris_time_across_daylight_saving_changes(
    timer: str, after: str, expected: list[str]
) -> None:
    fires = next_fire_times(
        example_timer("power_schedule.yaml", timer), after=utc(after), count=len(expected)
    )
    assert fires == [utc(e) for e in expected]


@hypothesis.settings(max_examples=50, deadline=None)
@given(after=st.datetimes(datetime(2026, 1, 1), datetime(2035, 12, 31), timezones=st.just(UTC)))
def test_power_schedule_timers_fire_only_on_weekdays_at_their_paris_hour(after: datetime) -> None:
    for name, hour in (("evening_power_off", 20), ("morning_power_on", 7)):
        fires = next_fire_times(example_timer("power_schedule.yaml", name), after=after, count=6)
        local = [f.astimezone(PARIS) for f in fires]
        assert all(f.weekday() < 5 and (f.hour, f.minute) == (hour, 0) for f in local)
        # One per weekday: six in a row span at least a weekend.
        assert fires[0] > after and (local[-1].date() - local[0].date()).days >= 7


def seed_backups(cloud: FakeOpenStack, *volumes: str) -> dict[str, list[str]]:
    """Volumes, each with three available backups, 1 to 3 days old (newest first)."""
    now = datetime.now(UTC)
    olds: dict[str, list[str]] = {}
    for name in volumes:
        volume = cloud.state.add_volume(name)
        olds[volume["id"]] = [
            cloud.state.add_backup(volume["id"], f"old-{d}", now - timedelta(days=d))["id"]
            for d in (1, 2, 3)
        ]
    return olds


def backups_of(cloud: FakeOpenStack, volume_id: str) -> dict[str, dict[str, Any]]:
    return {b["id"]: b for b in cloud.state.backups.values() if b["volume_id"] == volume_id}


async def test_nightly_backups_keep_the_newest_n_per_volume(api: Api, cloud: FakeOpenStack) -> None:
    await api.apply((EXAMPLES / "nightly_backups.yaml").read_text())
    olds = seed_backups(cloud, "db", "logs")

    execution = await start(api, "backup_volumes", retention=2, poll_delay=0, polls=5)
    assert execution["state"] == "SUCCESS", execution.get("state_info")
    for volume_id, (newest_old, *expired) in olds.items():
        left = backups_of(cloud, volume_id)
        (new,) = set(left) - {newest_old}
        assert left[new]["status"] == "available" and left[new]["name"].startswith("nightly-")
        assert not set(expired) & set(left)
    assert sorted(execution["output"]["deleted"]) == sorted(
        bid for ids in olds.values() for bid in ids[1:]
    )


async def test_a_failed_new_backup_leaves_that_volumes_old_backups_alone(
    api: Api, cloud: FakeOpenStack
) -> None:
    await api.apply((EXAMPLES / "nightly_backups.yaml").read_text())
    olds = seed_backups(cloud, "db", "logs")
    db_id, logs_id = olds
    cloud.state.failing_volumes.add(logs_id)

    execution = await start(api, "backup_volumes", retention=2, poll_delay=0, polls=5)
    assert execution["state"] == "ERROR"
    assert f"backup failed or unfinished for volumes: {logs_id}" in execution["state_info"]
    kept = backups_of(cloud, logs_id)
    assert set(olds[logs_id]) <= set(kept)
    assert [b["status"] for b in kept.values() if b["id"] not in olds[logs_id]] == ["error"]
    # The other volume's backup succeeded, so it was pruned as usual.
    assert set(backups_of(cloud, db_id)) & set(olds[db_id]) == {olds[db_id][0]}


def test_nightly_backups_timer_fires_at_1_30_paris_time_across_dst() -> None:
    timer = example_timer("nightly_backups.yaml", "nightly")
    fires = next_fire_times(timer, after=utc("2026-03-28T12:00"), count=3)
    # 01:30 on 29 March is still winter time (the change is at 02:00), then summer time.
    assert fires == [utc("2026-03-29T00:30"), utc("2026-03-29T23:30"), utc("2026-03-30T23:30")]
    assert (timer.workflow, timer.input) == ("backup_volumes", {"retention": 7})


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
    cloud.state.build_polls = 1  # one poll in BUILD, then ACTIVE
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


async def scale_out(api: Api, cloud: FakeOpenStack, lb_url: str, **params: Any) -> Any:
    """Run add_servers for cluster ``web`` directly, polling every second."""
    image = cloud.state.add_image("web-image")
    await api.apply((EXAMPLES / "alarm_scale_out.yaml").read_text())
    inputs = {"cluster": "web", "image": image["id"], "flavor": "2", "lb_url": lb_url}
    return await start(api, "add_servers", **inputs, poll_delay=1, **params)


async def test_a_server_in_error_ends_the_wait_and_is_deleted_not_registered(
    api: Api, cloud: FakeOpenStack, load_balancer: tuple[str, list[Any]]
) -> None:
    url, members = load_balancer
    cloud.state.broken.add("web-1-*")
    execution = await scale_out(api, cloud, url, polls=1000, timeout=60)

    assert execution["state"] == "ERROR"
    info = execution["state_info"]
    # Had the ERROR server kept the wait polling, the timeout would have ended it.
    assert "timed out" not in info
    assert "not registered, deleted: web-1-" in info
    assert "(ERROR: No valid host was found" in info
    (server,) = cloud.state.servers.values()
    assert server["name"].startswith("web-0-") and server["status"] == "ACTIVE"
    assert [m["server_id"] for m in members] == [server["id"]]


async def test_servers_stuck_in_build_time_out_and_are_deleted(
    api: Api, cloud: FakeOpenStack, load_balancer: tuple[str, list[Any]]
) -> None:
    url, members = load_balancer
    cloud.state.build_polls = 10_000
    execution = await scale_out(api, cloud, url, polls=1000, timeout=3)

    assert execution["state"] == "ERROR"
    assert "waiting for ACTIVE failed, the new servers were deleted" in execution["state_info"]
    assert "Task timed out [timeout(s)=3]" in execution["state_info"]
    assert cloud.state.servers == {}
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
        poll_delay=0,
    )
    assert execution["state"] == "SUCCESS", execution.get("state_info")
    (server,) = cloud.state.servers.values()
    (fip,) = cloud.state.floatingips.values()
    assert execution["output"] == {"server_id": server["id"], "address": fip["floating_ip_address"]}
    assert server["status"] == "ACTIVE" and fip["port_id"] is not None


@pytest.mark.parametrize(
    ("fault", "network", "reason"),
    [
        ("broken", PUBLIC_NET_ID, "server bastion went to ERROR: No valid host was found."),
        ("stuck", PUBLIC_NET_ID, "server bastion still BUILD after 3 polls"),
        (
            None,
            "no-such-network",
            "attaching a floating IP failed: neutron.create_floatingip: HTTP 404: "
            "ExternalNetwork no-such-network could not be found.",
        ),
    ],
)
async def test_a_failed_step_deletes_the_new_server_and_fails_with_the_reason(
    api: Api, cloud: FakeOpenStack, fault: str | None, network: str, reason: str
) -> None:
    await api.apply((EXAMPLES / "server_with_ip.yaml").read_text())
    image = cloud.state.add_image("cirros")
    if fault is not None:
        getattr(cloud.state, fault).add("bastion")
    execution = await start(
        api,
        "create_server_with_ip",
        name="bastion",
        image=image["id"],
        flavor="1",
        external_network=network,
        poll_delay=0,
        polls=3,
    )
    assert execution["state"] == "ERROR"
    assert reason in execution["state_info"]
    assert "server bastion deleted" in execution["state_info"]
    assert cloud.state.servers == {} and cloud.state.floatingips == {}
    assert any(m == "DELETE" and "/servers/" in p for m, p in cloud.state.requests)


AS_CALLER = """
version: '2.0'
name: caller
workflows:
  list_as_caller:
    tasks:
      servers:
        action: nova.servers_list
        publish:
          names: <% task().result.select($.name) %>
    output:
      names: <% $.names %>
"""


@pytest.mark.parametrize("known", [True, False])
async def test_the_callers_token_in_params_authenticates_openstack_actions(
    api: Api, cloud: FakeOpenStack, db: AsyncDatabase[dict[str, Any]], known: bool
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
    # Only the execution itself keeps the token (its later actions need it): not the
    # action runs, results, events or anything else stored.
    for name in await db.list_collection_names():
        if name != "executions":
            stored = [doc async for doc in db[name].find()]
            assert token not in json.dumps(stored, default=str), name


@pytest.fixture
async def other_cloud(
    cloud: FakeOpenStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FakeOpenStack]:
    """A second cloud, ``other``, in the clouds.yaml that names the first ``fake``."""
    async with serving_cloud(tmp_path / "two.yaml", monkeypatch, "other", {"fake": cloud}) as other:
        yield other


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "fake"),  # SQUALL_OPENSTACK_CLOUD
        ({"env": {"openstack_cloud": "other"}}, "other"),
        ({"env": {"openstack_cloud": "fake"}, "openstack": {"cloud": "other"}}, "other"),
    ],
)
async def test_the_execution_chooses_the_cloud_of_its_openstack_actions(
    other_cloud: FakeOpenStack,
    api: Api,
    cloud: FakeOpenStack,
    params: dict[str, Any],
    expected: str,
) -> None:
    cloud.state.add_server("on-fake")
    other_cloud.state.add_server("on-other")
    await api.apply(AS_CALLER)
    status, body = await api.request(
        "POST", "/v1/executions", json={"workflow_name": "list_as_caller", "params": params}
    )
    assert status == 201, body
    done = await api.finished(body["id"], timeout=60)
    assert done["state"] == "SUCCESS", done["state_info"]
    assert done["output"] == {"names": [f"on-{expected}"]}
