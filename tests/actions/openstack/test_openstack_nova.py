"""Mistral's nova.* actions against the fake Nova, through openstacksdk."""

from __future__ import annotations

from typing import Any

from actions.catalogue import ActionCatalogue, ActionContext
from tests.actions.openstack.fake_openstack import FakeOpenStack


async def run(cat: ActionCatalogue, ctx: ActionContext, action: str, **params: Any) -> Any:
    outcome = await cat.run(action, params, ctx, timeout_s=30)
    assert outcome.state == "SUCCESS", outcome.error
    return outcome.output


async def test_a_created_server_becomes_active_after_some_polls(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    image = fake_openstack.state.add_image("cirros")
    created = await run(
        os_catalogue,
        os_ctx,
        "nova.servers_create",
        name="web-1",
        image=image["id"],
        flavor="2",
        meta={"role": "web"},
        nics=[{"net-id": "private"}],
    )
    assert created["name"] == "web-1"
    statuses = [
        (await run(os_catalogue, os_ctx, "nova.servers_get", server=created["id"]))["status"]
        for _ in range(3)
    ]
    assert statuses == ["BUILD", "BUILD", "ACTIVE"]
    server = fake_openstack.state.servers[created["id"]]
    assert server["metadata"] == {"role": "web"}


async def test_results_use_the_api_names_and_are_plain_json(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    seeded = fake_openstack.state.add_server("db-1")
    server = await run(os_catalogue, os_ctx, "nova.servers_get", server=seeded["id"])
    assert server["OS-EXT-STS:vm_state"] == "active"
    assert server["addresses"]["private"][0]["addr"].startswith("10.0.0.")
    assert "location" not in server


async def test_stop_and_start_pass_through_a_task_state_before_the_new_status(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    server_id = fake_openstack.state.add_server("app-1")["id"]

    async def shown() -> tuple[str, str | None]:
        server = await run(os_catalogue, os_ctx, "nova.servers_get", server=server_id)
        return server["status"], server["OS-EXT-STS:task_state"]

    await run(os_catalogue, os_ctx, "nova.servers_stop", server=server_id)
    assert [await shown() for _ in range(3)] == [
        ("ACTIVE", "powering-off"),
        ("ACTIVE", "powering-off"),
        ("SHUTOFF", None),
    ]
    await run(os_catalogue, os_ctx, "nova.servers_start", server=server_id)
    assert await shown() == ("SHUTOFF", "powering-on")
    busy = await os_catalogue.run("nova.servers_stop", {"server": server_id}, os_ctx)
    assert busy.state == "ERROR"
    assert "HTTP 409" in (busy.error or "") and "task_state powering-on" in (busy.error or "")
    assert [await shown() for _ in range(2)] == [("SHUTOFF", "powering-on"), ("ACTIVE", None)]


async def test_a_stuck_server_keeps_its_task_state_and_a_broken_build_shows_novas_fault(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    state = fake_openstack.state
    stuck = state.add_server("stuck-1")["id"]
    state.stuck.add("stuck-1")
    await run(os_catalogue, os_ctx, "nova.servers_stop", server=stuck)
    for _ in range(5):
        server = await run(os_catalogue, os_ctx, "nova.servers_get", server=stuck)
    assert (server["status"], server["OS-EXT-STS:task_state"]) == ("ACTIVE", "powering-off")

    state.broken.add("doomed")
    created = await run(os_catalogue, os_ctx, "nova.servers_create", name="doomed", flavor="1")
    for _ in range(3):
        server = await run(os_catalogue, os_ctx, "nova.servers_get", server=created["id"])
    assert server["status"] == "ERROR"
    assert server["fault"]["message"].startswith("No valid host was found")


async def test_a_conflict_names_the_status_and_the_nova_fault(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    server_id = fake_openstack.state.add_server("app-2")["id"]
    outcome = await os_catalogue.run("nova.servers_start", {"server": server_id}, os_ctx)
    assert outcome.state == "ERROR"
    assert outcome.error is not None
    assert "HTTP 409" in outcome.error and "while it is in vm_state active" in outcome.error
    assert outcome.output["status"] == 409


async def test_a_missing_server_is_a_404_with_novas_message(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    outcome = await os_catalogue.run("nova.servers_delete", {"server": missing}, os_ctx)
    assert outcome.state == "ERROR"
    assert outcome.error is not None and "HTTP 404" in outcome.error
    assert f"Instance {missing} could not be found" in outcome.error


async def test_list_filters_by_tag_and_find_matches_one(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    fake_openstack.state.add_server("office-1", tags=["office"])
    fake_openstack.state.add_server("office-2", tags=["office", "eu"])
    fake_openstack.state.add_server("batch-1")
    tagged = await run(os_catalogue, os_ctx, "nova.servers_list", search_opts={"tags": "office"})
    assert sorted(s["name"] for s in tagged) == ["office-1", "office-2"]
    found = await run(os_catalogue, os_ctx, "nova.servers_find", name="batch-1")
    assert found["name"] == "batch-1"
    outcome = await os_catalogue.run("nova.servers_find", {"name": "nope"}, os_ctx)
    assert outcome.state == "ERROR" and "No Server matching" in (outcome.error or "")


async def test_resize_then_confirm(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    server_id = fake_openstack.state.add_server("grow-1")["id"]
    await run(os_catalogue, os_ctx, "nova.servers_resize", server=server_id, flavor="3")
    assert fake_openstack.state.servers[server_id]["status"] == "VERIFY_RESIZE"
    await run(os_catalogue, os_ctx, "nova.servers_confirm_resize", server=server_id)
    server = fake_openstack.state.servers[server_id]
    assert (server["status"], server["flavor"]["name"]) == ("ACTIVE", "m1.medium")


async def test_reboot_and_an_unknown_flavor(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    server_id = fake_openstack.state.add_server("r-1")["id"]
    await run(os_catalogue, os_ctx, "nova.servers_reboot", server=server_id, reboot_type="HARD")
    outcome = await os_catalogue.run("nova.servers_create", {"name": "x", "flavor": "99"}, os_ctx)
    assert outcome.state == "ERROR"
    assert "HTTP 400" in (outcome.error or "") and "Flavor 99 could not be found" in (
        outcome.error or ""
    )


def test_server_actions_describe_what_they_do(os_catalogue: ActionCatalogue) -> None:
    described = {
        name: os_catalogue.get(name).info().description
        for name in ("nova.servers_stop", "nova.servers_start", "nova.servers_unshelve")
    }
    assert described == {
        "nova.servers_stop": "Stops a running server and changes its state to SHUTOFF.",
        "nova.servers_start": "Starts a stopped server and changes its state to ACTIVE.",
        "nova.servers_unshelve": "Unshelves or restores a shelved server.",
    }
