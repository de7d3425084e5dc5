"""The actions generated from openstacksdk's proxies: names, signatures, runs."""

from __future__ import annotations

from actions.catalogue import ActionCatalogue, ActionContext
from actions.openstack import MISTRAL_CALLS
from tests.actions.openstack.fake_openstack import FakeOpenStack

MISTRAL_NAMES = {
    "nova.servers_create",
    "nova.servers_find",
    "nova.servers_get",
    "nova.servers_list",
    "nova.servers_start",
    "nova.servers_stop",
    "nova.servers_reboot",
    "nova.servers_resize",
    "nova.servers_delete",
    "cinder.backups_create",
    "cinder.backups_list",
    "cinder.backups_delete",
    "cinder.volumes_list",
    "glance.images_list",
    "neutron.create_floatingip",
    "neutron.list_floatingips",
}


def test_the_default_catalogue_lists_sdk_and_mistral_names() -> None:
    catalogue = ActionCatalogue.default()
    for name in (
        "openstack.compute.create_server",
        "openstack.compute.start_server",
        "openstack.compute.stop_server",
        "openstack.block_storage.create_backup",
        "openstack.network.create_ip",
        *MISTRAL_NAMES,
    ):
        assert name in catalogue, name
    assert {call.name for call in MISTRAL_CALLS} >= MISTRAL_NAMES


def test_signatures_come_from_the_proxy_methods(os_catalogue: ActionCatalogue) -> None:
    info = os_catalogue.get("openstack.compute.reboot_server").info()
    assert info.input == "cloud=null, action_region=null, server, reboot_type"
    listing = os_catalogue.get("openstack.compute.servers").info().input
    assert "details=true" in listing and "all_projects=false" in listing
    assert os_catalogue.get("openstack.compute.stop_server").info().description


def test_mistral_signatures_use_the_clients_input_names(os_catalogue: ActionCatalogue) -> None:
    create = os_catalogue.get("cinder.backups_create").info().input
    assert "volume_id" in create and "incremental=false" in create
    assert 'reboot_type="SOFT"' in os_catalogue.get("nova.servers_reboot").info().input


async def test_a_closed_signature_refuses_unknown_inputs(
    os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    outcome = await os_catalogue.run(
        "openstack.compute.stop_server", {"server": "x", "force": True}, os_ctx
    )
    assert outcome.state == "ERROR"
    assert "'force'" in (outcome.error or "") and "server" in (outcome.error or "")


async def test_generated_actions_run_with_sdk_attribute_names(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, os_ctx: ActionContext
) -> None:
    server_id = fake_openstack.state.add_server("gen-1")["id"]
    stopped = await os_catalogue.run("openstack.compute.stop_server", {"server": server_id}, os_ctx)
    assert stopped.state == "SUCCESS", stopped.error
    shown = await os_catalogue.run("openstack.compute.get_server", {"server": server_id}, os_ctx)
    assert (shown.output["status"], shown.output["task_state"]) == ("ACTIVE", "powering-off")
    volume = fake_openstack.state.add_volume("v")
    backup = await os_catalogue.run(
        "openstack.block_storage.create_backup", {"volume_id": volume["id"], "name": "b"}, os_ctx
    )
    assert backup.state == "SUCCESS", backup.error
    assert fake_openstack.state.backups[backup.output["id"]]["name"] == "b"
