"""``nova.*``: Mistral's compute actions (python-novaclient's names and inputs)."""

from __future__ import annotations

import base64
import itertools
from typing import Any

from openstack.compute.v2._proxy import Proxy as ComputeProxy
from openstack.connection import Connection
from pydantic import ConfigDict

from actions.openstack._generated import doc_summary
from actions.openstack._mistral import MistralCall, MistralInput, matches, not_found
from actions.openstack._results import to_json


class ServerInput(MistralInput):
    """A server, by id (or a name the SDK can find)."""

    server: str


class ServersCreateInput(MistralInput):
    """novaclient's ``servers.create``."""

    name: str
    image: str | None = None
    flavor: str
    meta: dict[str, str] | None = None
    userdata: str | None = None
    key_name: str | None = None
    availability_zone: str | None = None
    security_groups: list[str] | None = None
    nics: list[dict[str, str]] | str | None = None
    min_count: int | None = None
    max_count: int | None = None
    block_device_mapping_v2: list[dict[str, Any]] | None = None
    scheduler_hints: dict[str, Any] | None = None
    config_drive: bool | None = None
    admin_pass: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    hostname: str | None = None


class ServersListInput(MistralInput):
    """novaclient's ``servers.list``."""

    detailed: bool = True
    search_opts: dict[str, Any] | None = None
    marker: str | None = None
    limit: int | None = None
    sort_keys: list[str] | None = None
    sort_dirs: list[str] | None = None


class FindInput(MistralInput):
    """A client ``find``: any attributes the one match must have."""

    model_config = ConfigDict(extra="allow")


class RebootInput(ServerInput):
    """novaclient's ``servers.reboot``."""

    reboot_type: str = "SOFT"


class ResizeInput(ServerInput):
    """novaclient's ``servers.resize``."""

    flavor: str
    disk_config: str | None = None


class UpdateInput(ServerInput):
    """novaclient's ``servers.update``."""

    name: str | None = None
    description: str | None = None


class SetMetaInput(ServerInput):
    """novaclient's ``servers.set_meta``."""

    metadata: dict[str, str]


class CreateImageInput(ServerInput):
    """novaclient's ``servers.create_image``."""

    image_name: str
    metadata: dict[str, str] | None = None


class FlavorsListInput(MistralInput):
    """novaclient's ``flavors.list``."""

    detailed: bool = True
    is_public: bool | None = True


def _create(conn: Connection, p: ServersCreateInput) -> Any:
    attrs: dict[str, Any] = {"name": p.name, "flavor_id": p.flavor}
    optional = {
        "image_id": p.image,
        "metadata": p.meta,
        "key_name": p.key_name,
        "availability_zone": p.availability_zone,
        "min_count": p.min_count,
        "max_count": p.max_count,
        "block_device_mapping": p.block_device_mapping_v2,
        "scheduler_hints": p.scheduler_hints,
        "config_drive": p.config_drive,
        "admin_password": p.admin_pass,
        "description": p.description,
        "tags": p.tags,
        "hostname": p.hostname,
    }
    attrs.update({key: value for key, value in optional.items() if value is not None})
    if p.userdata is not None:
        attrs["user_data"] = base64.b64encode(p.userdata.encode()).decode()
    if p.security_groups:
        attrs["security_groups"] = [{"name": group} for group in p.security_groups]
    attrs["networks"] = _networks(p.nics)
    return conn.compute.create_server(**attrs)


def _networks(nics: list[dict[str, str]] | str | None) -> list[dict[str, str]] | str:
    if nics is None:
        return "auto"
    if isinstance(nics, str):
        return nics
    renamed = {"net-id": "uuid", "port-id": "port", "v4-fixed-ip": "fixed_ip", "tag": "tag"}
    return [{renamed.get(key, key): value for key, value in nic.items()} for nic in nics]


def _list(conn: Connection, p: ServersListInput) -> Any:
    query: dict[str, Any] = dict(p.search_opts or {})
    if p.marker:
        query["marker"] = p.marker
    if p.sort_keys:
        query["sort_key"] = ",".join(p.sort_keys)
    if p.sort_dirs:
        query["sort_dir"] = ",".join(p.sort_dirs)
    servers = conn.compute.servers(details=p.detailed, **query)
    return list(itertools.islice(servers, p.limit)) if p.limit else list(servers)


def _find(conn: Connection, p: FindInput) -> Any:
    criteria = dict(p.model_extra or {})
    query = {"name": criteria["name"]} if "name" in criteria else {}
    found = [
        server
        for server in (to_json(s, original_names=True) for s in conn.compute.servers(**query))
        if matches(server, criteria)
    ]
    if not found:
        raise not_found("nova.servers_find", "Server", criteria)
    return found[0]


def _one_server(method: str) -> MistralCall:
    def call(conn: Connection, p: ServerInput) -> Any:
        return getattr(conn.compute, method)(p.server)

    name = f"nova.servers_{method.removesuffix('_server')}"
    return MistralCall(name, ServerInput, call, doc_summary(getattr(ComputeProxy, method)))


NOVA: list[MistralCall] = [
    MistralCall("nova.servers_create", ServersCreateInput, _create, "Create a server."),
    MistralCall("nova.servers_list", ServersListInput, _list, "List servers."),
    MistralCall("nova.servers_find", FindInput, _find, "Find the one server with attributes."),
    MistralCall(
        "nova.servers_get",
        ServerInput,
        lambda c, p: c.compute.get_server(p.server),
        "Get a server.",
    ),
    MistralCall(
        "nova.servers_delete",
        ServerInput,
        lambda c, p: c.compute.delete_server(p.server, ignore_missing=False),
        "Delete a server.",
    ),
    MistralCall(
        "nova.servers_reboot",
        RebootInput,
        lambda c, p: c.compute.reboot_server(p.server, p.reboot_type),
        "Reboot a server (SOFT or HARD).",
    ),
    MistralCall(
        "nova.servers_resize",
        ResizeInput,
        lambda c, p: c.compute.resize_server(p.server, p.flavor),
        "Resize a server to another flavor; confirm with nova.servers_confirm_resize.",
    ),
    MistralCall(
        "nova.servers_confirm_resize",
        ServerInput,
        lambda c, p: c.compute.confirm_server_resize(p.server),
        "Confirm a server's resize.",
    ),
    MistralCall(
        "nova.servers_revert_resize",
        ServerInput,
        lambda c, p: c.compute.revert_server_resize(p.server),
        "Revert a server's resize.",
    ),
    MistralCall(
        "nova.servers_update",
        UpdateInput,
        lambda c, p: c.compute.update_server(
            p.server, **p.model_dump(include={"name", "description"}, exclude_none=True)
        ),
        "Rename a server or change its description.",
    ),
    MistralCall(
        "nova.servers_set_meta",
        SetMetaInput,
        lambda c, p: c.compute.set_server_metadata(p.server, **p.metadata),
        "Set metadata items on a server.",
    ),
    MistralCall(
        "nova.servers_create_image",
        CreateImageInput,
        lambda c, p: c.compute.create_server_image(p.server, p.image_name, p.metadata),
        "Snapshot a server into an image.",
    ),
    MistralCall(
        "nova.flavors_list",
        FlavorsListInput,
        lambda c, p: list(c.compute.flavors(details=p.detailed, is_public=p.is_public)),
        "List flavors.",
    ),
    *(
        _one_server(method)
        for method in (
            "start_server",
            "stop_server",
            "pause_server",
            "unpause_server",
            "suspend_server",
            "resume_server",
            "lock_server",
            "unlock_server",
            "shelve_server",
            "unshelve_server",
        )
    ),
]
