"""What the fake clouds share: ids, faults, the state they hold, resource builders."""

from __future__ import annotations

import fnmatch
import itertools
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

PROJECT_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
USER_ID = "0f9e8d7c6b5a49382716051423324150"
USERNAME, PASSWORD = "operator", "s3cret-pass"
PUBLIC_NET_ID = "9d3c9d5e-0000-4000-8000-00000000beef"
PRIVATE_NET_ID = "1c2f7b0e-0000-4000-8000-00000000cafe"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def now_iso() -> str:
    """The current time as the APIs write it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def fault(status: int, kind: str, message: str) -> web.Response:
    """Nova and Cinder's fault body: ``{"itemNotFound": {"code": 404, "message": ...}}``."""
    return web.json_response({kind: {"code": status, "message": message}}, status=status)


def fault_error(status: int, kind: str, message: str) -> web.HTTPException:
    """The same fault, raised from a helper deep inside a handler."""
    error_class = {400: web.HTTPBadRequest, 404: web.HTTPNotFound, 409: web.HTTPConflict}[status]
    body = json.dumps({kind: {"code": status, "message": message}})
    return error_class(text=body, content_type="application/json")


@dataclass
class FakeState:
    """Everything the fake clouds hold; tests read and seed it directly."""

    base: str = ""
    #: Reads of a server (or backup) in a transition (BUILD, powering-off...; creating)
    #: before the transition ends.
    build_polls: int = 2
    #: Name patterns (fnmatch) of servers whose transitions never end (a stuck host).
    stuck: set[str] = field(default_factory=set)
    #: Name patterns (fnmatch) of servers that end their next transition in ERROR.
    broken: set[str] = field(default_factory=set)
    #: Volume ids whose backups end in error instead of available.
    failing_volumes: set[str] = field(default_factory=set)
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    volumes: dict[str, dict[str, Any]] = field(default_factory=dict)
    backups: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    ports: dict[str, dict[str, Any]] = field(default_factory=dict)
    floatingips: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    #: Every request as (method, path), to assert what the SDK did.
    requests: list[tuple[str, str]] = field(default_factory=list)
    #: (method, path suffix) → (status, fault kind, message), answered instead.
    faults: dict[tuple[str, str], tuple[int, str, str]] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def new_id(self) -> str:
        """A fresh resource id."""
        return str(uuid.UUID(int=(uuid.uuid4().int & ~0xFFFF) | next(self._counter)))

    def add_server(
        self, name: str, *, status: str = "ACTIVE", tags: list[str] | None = None
    ) -> dict[str, Any]:
        """Seed a server (with its port on the private network)."""
        server = new_server(self, {"name": name, "tags": tags or []}, status=status)
        self.servers[server["id"]] = server
        return server

    def add_volume(self, name: str, size: int = 10) -> dict[str, Any]:
        """Seed an in-use volume."""
        volume_id = self.new_id()
        self.volumes[volume_id] = {
            "id": volume_id,
            "name": name,
            "size": size,
            "status": "in-use",
            "description": None,
            "volume_type": "__DEFAULT__",
            "availability_zone": "nova",
            "bootable": "false",
            "encrypted": False,
            "multiattach": False,
            "metadata": {},
            "attachments": [],
            "created_at": now_iso(),
            "updated_at": None,
            "user_id": USER_ID,
            "os-vol-tenant-attr:tenant_id": PROJECT_ID,
            "links": [],
        }
        return self.volumes[volume_id]

    def add_backup(self, volume_id: str, name: str, created_at: datetime) -> dict[str, Any]:
        """Seed an available backup made at ``created_at``."""
        backup = new_backup(self, {"volume_id": volume_id, "name": name}, status="available")
        backup["created_at"] = created_at.strftime("%Y-%m-%dT%H:%M:%S.%f")
        self.backups[backup["id"]] = backup
        return backup

    def add_image(self, name: str) -> dict[str, Any]:
        """Seed an active public image."""
        image_id = self.new_id()
        self.images[image_id] = {
            "id": image_id,
            "name": name,
            "status": "active",
            "visibility": "public",
            "container_format": "bare",
            "disk_format": "qcow2",
            "size": 1_073_741_824,
            "min_disk": 0,
            "min_ram": 0,
            "protected": False,
            "tags": [],
            "owner": PROJECT_ID,
            "created_at": now_iso()[:19] + "Z",
            "updated_at": now_iso()[:19] + "Z",
            "self": f"/v2/images/{image_id}",
            "file": f"/v2/images/{image_id}/file",
            "schema": "/v2/schemas/image",
        }
        return self.images[image_id]


FLAVORS = {
    "1": {"name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1},
    "2": {"name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20},
    "3": {"name": "m1.medium", "vcpus": 2, "ram": 4096, "disk": 40},
}
#: Nova's vm_state and power_state for each status the fake uses.
VM_STATES = {
    "BUILD": ("building", 0),
    "ACTIVE": ("active", 1),
    "SHUTOFF": ("stopped", 4),
    "VERIFY_RESIZE": ("resized", 1),
    "REBOOT": ("active", 1),
    "HARD_REBOOT": ("active", 1),
    "ERROR": ("error", 0),
}
#: The fault Nova shows on a server that failed to build.
NO_VALID_HOST = "No valid host was found. There are not enough hosts available."


def new_server(state: FakeState, body: dict[str, Any], *, status: str = "BUILD") -> dict[str, Any]:
    """A server as Nova shows it, plus its port on the private network."""
    server_id = state.new_id()
    flavor = FLAVORS.get(str(body.get("flavorRef", "2")), FLAVORS["2"])
    port = new_port(state, server_id)
    vm_state, power = VM_STATES[status]
    server = {
        "id": server_id,
        "name": body["name"],
        "status": status,
        "tenant_id": PROJECT_ID,
        "user_id": USER_ID,
        "metadata": body.get("metadata", {}),
        "hostId": "4c3b2a19",
        "image": {"id": body.get("imageRef", ""), "links": []},
        "flavor": {**flavor, "original_name": flavor["name"], "ephemeral": 0, "swap": 0},
        "created": now_iso()[:19] + "Z",
        "updated": now_iso()[:19] + "Z",
        "addresses": {
            "private": [
                {
                    "version": 4,
                    "addr": port["fixed_ips"][0]["ip_address"],
                    "OS-EXT-IPS:type": "fixed",
                    "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                }
            ]
        },
        "accessIPv4": "",
        "accessIPv6": "",
        "links": [{"rel": "self", "href": f"{state.base}/compute/v2.1/servers/{server_id}"}],
        "OS-DCF:diskConfig": "MANUAL",
        "progress": 0,
        "OS-EXT-AZ:availability_zone": body.get("availability_zone", "nova"),
        "config_drive": "",
        "key_name": body.get("key_name"),
        "OS-SRV-USG:launched_at": None,
        "OS-SRV-USG:terminated_at": None,
        "OS-EXT-STS:task_state": "spawning" if status == "BUILD" else None,
        "OS-EXT-STS:vm_state": vm_state,
        "OS-EXT-STS:power_state": power,
        "os-extended-volumes:volumes_attached": [],
        "locked": False,
        "description": body.get("description"),
        "tags": body.get("tags", []),
        "security_groups": [{"name": "default"}],
        "_polls": 0,
        "_target": "ACTIVE" if status == "BUILD" else None,
    }
    return server


def new_port(state: FakeState, device_id: str) -> dict[str, Any]:
    port_id = state.new_id()
    number = len(state.ports) + 10
    port = {
        "id": port_id,
        "name": "",
        "network_id": PRIVATE_NET_ID,
        "device_id": device_id,
        "device_owner": "compute:nova",
        "mac_address": f"fa:16:3e:00:00:{number % 256:02x}",
        "fixed_ips": [{"subnet_id": PRIVATE_NET_ID, "ip_address": f"10.0.0.{number}"}],
        "status": "ACTIVE",
        "admin_state_up": True,
        "tenant_id": PROJECT_ID,
        "project_id": PROJECT_ID,
    }
    state.ports[port_id] = port
    return port


def set_status(server: dict[str, Any], status: str, task_state: str | None = None) -> None:
    """Show ``status`` (and Nova's vm_state and power_state for it)."""
    vm_state, power = VM_STATES[status]
    server.update(
        {
            "status": status,
            "OS-EXT-STS:vm_state": vm_state,
            "OS-EXT-STS:power_state": power,
            "OS-EXT-STS:task_state": task_state,
        }
    )


def begin_transition(
    server: dict[str, Any], target: str, task_state: str, status: str | None = None
) -> None:
    """Start a change that ends in ``target`` after some reads, as Nova's 202 does:
    meanwhile the server shows ``task_state`` (and ``status``, if given)."""
    set_status(server, status or server["status"], task_state)
    server["_target"] = target
    server["_polls"] = 0


def shown_server(state: FakeState, server: dict[str, Any]) -> dict[str, Any]:
    """The server as Nova shows it; each read moves a transition towards its end."""
    if server["_target"] is not None and not _named(server, state.stuck):
        server["_polls"] += 1
        if server["_polls"] > state.build_polls:
            _end_transition(state, server)
    return {k: v for k, v in server.items() if not k.startswith("_")}


def _named(server: dict[str, Any], patterns: set[str]) -> bool:
    return any(fnmatch.fnmatchcase(server["name"], pattern) for pattern in patterns)


def _end_transition(state: FakeState, server: dict[str, Any]) -> None:
    target, server["_target"] = server["_target"], None
    if _named(server, state.broken):
        set_status(server, "ERROR")
        server["fault"] = {"code": 500, "message": NO_VALID_HOST, "created": now_iso()[:19] + "Z"}
        return
    if server["status"] == "BUILD":
        server["OS-SRV-USG:launched_at"] = now_iso()
    set_status(server, target)


def new_backup(
    state: FakeState, body: dict[str, Any], *, status: str = "creating"
) -> dict[str, Any]:
    """A backup as Cinder shows it."""
    backup_id = state.new_id()
    volume = state.volumes.get(body["volume_id"], {})
    return {
        "id": backup_id,
        "name": body.get("name"),
        "description": body.get("description"),
        "volume_id": body["volume_id"],
        "snapshot_id": body.get("snapshot_id"),
        "status": status,
        "size": volume.get("size", 1),
        "object_count": 0,
        "container": body.get("container") or "volumebackups",
        "availability_zone": "nova",
        "fail_reason": None,
        "has_dependent_backups": False,
        "is_incremental": bool(body.get("incremental", False)),
        "created_at": now_iso(),
        "updated_at": now_iso(),
        "data_timestamp": now_iso(),
        "links": [],
        "_polls": 0,
    }
