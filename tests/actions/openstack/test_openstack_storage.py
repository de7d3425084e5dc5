"""cinder.*, glance.* and neutron.* actions against the fake cloud."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from actions.catalogue import ActionCatalogue, ActionContext
from tests.actions.openstack.fake_openstack import PUBLIC_NET_ID, FakeOpenStack


async def run(cat: ActionCatalogue, ctx: ActionContext, action: str, **params: Any) -> Any:
    outcome = await cat.run(action, params, ctx, timeout_s=30)
    assert outcome.state == "SUCCESS", outcome.error
    return outcome.output


async def test_backup_create_list_and_delete(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    volume = fake_openstack.state.add_volume("data")
    old = fake_openstack.state.add_backup(
        volume["id"], "old", datetime.now(UTC) - timedelta(days=3)
    )
    created = await run(
        os_catalogue, os_ctx, "cinder.backups_create", volume_id=volume["id"], name="nightly"
    )
    listed = await run(
        os_catalogue, os_ctx, "cinder.backups_list", search_opts={"volume_id": volume["id"]}
    )
    assert {b["name"] for b in listed} == {"old", "nightly"}
    assert {b["id"] for b in listed} == {old["id"], created["id"]}
    await run(os_catalogue, os_ctx, "cinder.backups_delete", backup=old["id"])
    assert set(fake_openstack.state.backups) == {created["id"]}


async def test_deleting_a_backup_still_creating_is_refused_with_cinders_reason(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    volume = fake_openstack.state.add_volume("data")
    created = await run(os_catalogue, os_ctx, "cinder.backups_create", volume_id=volume["id"])
    outcome = await os_catalogue.run("cinder.backups_delete", {"backup": created["id"]}, os_ctx)
    assert outcome.state == "ERROR"
    assert "HTTP 400" in (outcome.error or "")
    assert "Backup status must be available or error" in (outcome.error or "")


async def test_volumes_and_images_are_listed(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    fake_openstack.state.add_volume("a", size=5)
    fake_openstack.state.add_image("cirros")
    volumes = await run(os_catalogue, os_ctx, "cinder.volumes_list")
    assert [(v["name"], v["size"]) for v in volumes] == [("a", 5)]
    images = await run(os_catalogue, os_ctx, "glance.images_list")
    assert [i["name"] for i in images] == ["cirros"]


async def test_a_floating_ip_is_attached_to_a_servers_port(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    server = fake_openstack.state.add_server("web-1")
    ports = await run(os_catalogue, os_ctx, "neutron.list_ports", device_id=server["id"])
    (port,) = ports["ports"]
    fip = await run(
        os_catalogue,
        os_ctx,
        "neutron.create_floatingip",
        body={"floatingip": {"floating_network_id": PUBLIC_NET_ID, "port_id": port["id"]}},
    )
    address = fip["floatingip"]["floating_ip_address"]
    assert fip["floatingip"]["port_id"] == port["id"]
    listed = await run(os_catalogue, os_ctx, "neutron.list_floatingips")
    assert [f["floating_ip_address"] for f in listed["floatingips"]] == [address]
    shown = await run(os_catalogue, os_ctx, "nova.servers_get", server=server["id"])
    assert address in [a["addr"] for a in shown["addresses"]["private"]]


async def test_neutron_not_found_carries_its_message(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    outcome = await os_catalogue.run("neutron.delete_floatingip", {"floatingip": "gone"}, os_ctx)
    assert outcome.state == "ERROR"
    assert "HTTP 404" in (outcome.error or "")
    assert "FloatingIP gone could not be found." in (outcome.error or "")
    assert outcome.output["message"].startswith("FloatingIP gone could not be found.")
