"""The fake's Nova (servers, their actions, flavors) and Neutron (ports, floating IPs)."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from tests.actions.openstack.fake_common import (
    FLAVORS,
    PRIVATE_NET_ID,
    PROJECT_ID,
    PUBLIC_NET_ID,
    FakeState,
    begin_transition,
    fault,
    fault_error,
    new_server,
    now_iso,
    set_status,
    shown_server,
)

NOVA = "/compute/v2.1"
NEUTRON = "/network/v2.0"
#: Server actions: the statuses each one is allowed from, the status it leads to, and
#: the task_state shown until then (None: the fake changes the status at once).
SERVER_ACTIONS: dict[str, tuple[set[str], str, str | None]] = {
    "os-start": ({"SHUTOFF"}, "ACTIVE", "powering-on"),
    "os-stop": ({"ACTIVE"}, "SHUTOFF", "powering-off"),
    "reboot": ({"ACTIVE", "SHUTOFF"}, "ACTIVE", "rebooting"),
    "resize": ({"ACTIVE", "SHUTOFF"}, "VERIFY_RESIZE", None),
    "confirmResize": ({"VERIFY_RESIZE"}, "ACTIVE", None),
    "revertResize": ({"VERIFY_RESIZE"}, "ACTIVE", None),
}


def _flavor(flavor_id: str) -> dict[str, Any]:
    flavor = FLAVORS[flavor_id]
    return {**flavor, "original_name": flavor["name"], "ephemeral": 0, "swap": 0}


class NovaApi:
    """Nova's compute API v2.1 (microversions up to 2.96) over ``FakeState``."""

    def __init__(self, state: FakeState) -> None:
        self.state = state

    def add_routes(self, app: web.Application) -> None:
        """Serve under /compute."""
        router = app.router
        for path in ("/compute", "/compute/"):
            router.add_get(path, self.versions)
        for path in (NOVA, f"{NOVA}/"):
            router.add_get(path, self.version)
        router.add_get(f"{NOVA}/servers", self.list_servers)
        router.add_get(f"{NOVA}/servers/detail", self.list_servers)
        router.add_post(f"{NOVA}/servers", self.create_server)
        router.add_get(f"{NOVA}/servers/{{id}}", self.show_server)
        router.add_put(f"{NOVA}/servers/{{id}}", self.update_server)
        router.add_delete(f"{NOVA}/servers/{{id}}", self.delete_server)
        router.add_post(f"{NOVA}/servers/{{id}}/action", self.server_action)
        router.add_get(f"{NOVA}/flavors", self.list_flavors)
        router.add_get(f"{NOVA}/flavors/detail", self.list_flavors)

    def _version(self) -> dict[str, Any]:
        return {
            "id": "v2.1",
            "status": "CURRENT",
            "version": "2.96",
            "min_version": "2.1",
            "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": f"{self.state.base}{NOVA}/"}],
        }

    def _server(self, request: web.Request) -> dict[str, Any]:
        server = self.state.servers.get(request.match_info["id"])
        if server is None:
            message = f"Instance {request.match_info['id']} could not be found."
            raise fault_error(404, "itemNotFound", message)
        return server

    async def versions(self, _: web.Request) -> web.Response:
        """GET /compute/."""
        return web.json_response({"versions": [self._version()]})

    async def version(self, _: web.Request) -> web.Response:
        """GET /compute/v2.1."""
        return web.json_response({"version": self._version()})

    async def list_servers(self, request: web.Request) -> web.Response:
        """GET /servers[/detail] with name (a regex), status and tags filters."""
        query = request.query
        found = list(self.state.servers.values())
        if "name" in query:
            found = [s for s in found if re.search(query["name"], s["name"])]
        if "status" in query:
            found = [s for s in found if s["status"] == query["status"]]
        if "tags" in query:
            wanted = set(query["tags"].split(","))
            found = [s for s in found if wanted <= set(s["tags"])]
        if request.path.endswith("/detail"):
            return web.json_response({"servers": [shown_server(self.state, s) for s in found]})
        brief = [{"id": s["id"], "name": s["name"], "links": s["links"]} for s in found]
        return web.json_response({"servers": brief})

    async def create_server(self, request: web.Request) -> web.Response:
        """POST /servers: 202 with the new id; the server starts in BUILD."""
        body = (await request.json())["server"]
        if str(body.get("flavorRef")) not in FLAVORS:
            return fault(400, "badRequest", f"Flavor {body.get('flavorRef')} could not be found.")
        if body.get("imageRef") and body["imageRef"] not in self.state.images:
            return fault(400, "badRequest", f"Image {body['imageRef']} could not be found.")
        server = new_server(self.state, body)
        self.state.servers[server["id"]] = server
        created = {
            "id": server["id"],
            "links": server["links"],
            "OS-DCF:diskConfig": "MANUAL",
            "security_groups": server["security_groups"],
            "adminPass": "Xx7Yy8Zz9",
        }
        return web.json_response({"server": created}, status=202)

    async def show_server(self, request: web.Request) -> web.Response:
        """GET /servers/{id}: each read moves a BUILD server towards ACTIVE."""
        return web.json_response({"server": shown_server(self.state, self._server(request))})

    async def update_server(self, request: web.Request) -> web.Response:
        """PUT /servers/{id}."""
        server = self._server(request)
        server.update((await request.json())["server"])
        return web.json_response({"server": shown_server(self.state, server)})

    async def delete_server(self, request: web.Request) -> web.Response:
        """DELETE /servers/{id}: its ports go, its floating IPs are released."""
        server = self._server(request)
        del self.state.servers[server["id"]]
        for port in [p for p in self.state.ports.values() if p["device_id"] == server["id"]]:
            del self.state.ports[port["id"]]
            for fip in self.state.floatingips.values():
                if fip["port_id"] == port["id"]:
                    fip.update(port_id=None, fixed_ip_address=None, status="DOWN")
        return web.Response(status=204)

    async def server_action(self, request: web.Request) -> web.Response:
        """POST /servers/{id}/action: 202, then the server passes through a task_state
        (powering-off...) for some reads; 409 conflictingRequest from the wrong state."""
        server = self._server(request)
        ((action, args),) = (await request.json()).items()
        if action not in SERVER_ACTIONS:
            return fault(400, "badRequest", f"Unsupported server action {action}.")
        sources, target, task_state = SERVER_ACTIONS[action]
        verb = action.removeprefix("os-")
        busy = server["OS-EXT-STS:task_state"]
        if busy is not None:
            message = f"Cannot '{verb}' instance {server['id']} while it is in task_state {busy}"
            return fault(409, "conflictingRequest", message)
        if server["status"] not in sources:
            message = (
                f"Cannot '{verb}' instance {server['id']} while it is in vm_state "
                f"{server['OS-EXT-STS:vm_state']}"
            )
            return fault(409, "conflictingRequest", message)
        if action == "resize":
            if str(args["flavorRef"]) not in FLAVORS:
                return fault(400, "badRequest", f"Flavor {args['flavorRef']} could not be found.")
            server["flavor"] = _flavor(str(args["flavorRef"]))
        if task_state is None:
            set_status(server, target)
        elif action == "reboot":
            hard = args.get("type") == "HARD"
            status, task_state = (
                ("HARD_REBOOT", "rebooting_hard") if hard else ("REBOOT", task_state)
            )
            begin_transition(server, target, task_state, status)
        else:
            begin_transition(server, target, task_state)
        return web.Response(status=202)

    async def list_flavors(self, _: web.Request) -> web.Response:
        """GET /flavors[/detail]."""
        flavors = [
            {"id": fid, **_flavor(fid), "os-flavor-access:is_public": True, "links": []}
            for fid in FLAVORS
        ]
        return web.json_response({"flavors": flavors})


class NeutronApi:
    """Neutron's networking API v2.0: networks, ports and floating IPs."""

    def __init__(self, state: FakeState) -> None:
        self.state = state

    def add_routes(self, app: web.Application) -> None:
        """Serve under /network."""
        router = app.router
        router.add_get("/network", self.versions)
        router.add_get("/network/", self.versions)
        router.add_get(f"{NEUTRON}/networks", self.networks)
        router.add_get(f"{NEUTRON}/ports", self.ports)
        router.add_get(f"{NEUTRON}/floatingips", self.list_fips)
        router.add_post(f"{NEUTRON}/floatingips", self.create_fip)
        router.add_get(f"{NEUTRON}/floatingips/{{id}}", self.show_fip)
        router.add_put(f"{NEUTRON}/floatingips/{{id}}", self.update_fip)
        router.add_delete(f"{NEUTRON}/floatingips/{{id}}", self.delete_fip)

    @staticmethod
    def not_found(kind: str, item_id: str) -> web.HTTPException:
        """Neutron's 404 body: ``{"NeutronError": {"type": ..., "message": ...}}``."""
        error = {"type": f"{kind}NotFound", "message": f"{kind} {item_id} could not be found."}
        body = json.dumps({"NeutronError": {**error, "detail": ""}})
        return web.HTTPNotFound(text=body, content_type="application/json")

    @staticmethod
    def _matching(items: list[dict[str, Any]], request: web.Request) -> list[dict[str, Any]]:
        filters = {k: v for k, v in request.query.items() if k not in ("limit", "marker", "fields")}
        return [i for i in items if all(str(i.get(k)) == v for k, v in filters.items())]

    async def versions(self, _: web.Request) -> web.Response:
        """GET /network/."""
        link = {"rel": "self", "href": f"{self.state.base}{NEUTRON}/"}
        version = {"id": "v2.0", "status": "CURRENT", "links": [link]}
        return web.json_response({"versions": [version]})

    async def networks(self, request: web.Request) -> web.Response:
        """GET /networks: one external, one private."""
        common = {"status": "ACTIVE", "subnets": [], "admin_state_up": True, "shared": False}
        items = [
            {"id": PUBLIC_NET_ID, "name": "public", "router:external": True, **common},
            {"id": PRIVATE_NET_ID, "name": "private", "router:external": False, **common},
        ]
        for item in items:
            item["project_id"] = PROJECT_ID
        return web.json_response({"networks": self._matching(items, request)})

    async def ports(self, request: web.Request) -> web.Response:
        """GET /ports (device_id=... finds a server's)."""
        return web.json_response(
            {"ports": self._matching(list(self.state.ports.values()), request)}
        )

    async def list_fips(self, request: web.Request) -> web.Response:
        """GET /floatingips."""
        found = self._matching(list(self.state.floatingips.values()), request)
        return web.json_response({"floatingips": found})

    def _associate(self, fip: dict[str, Any], port_id: str | None) -> None:
        if port_id is None:
            fip.update(port_id=None, fixed_ip_address=None, status="DOWN")
            return
        port = self.state.ports.get(port_id)
        if port is None:
            raise self.not_found("Port", port_id)
        fixed = port["fixed_ips"][0]["ip_address"]
        fip.update(port_id=port_id, fixed_ip_address=fixed, status="ACTIVE")
        server = self.state.servers.get(port["device_id"])
        if server is not None:
            address = {"version": 4, "addr": fip["floating_ip_address"]}
            address.update({"OS-EXT-IPS:type": "floating"})
            address["OS-EXT-IPS-MAC:mac_addr"] = port["mac_address"]
            server["addresses"]["private"].append(address)

    async def create_fip(self, request: web.Request) -> web.Response:
        """POST /floatingips: from the external network, optionally on a port."""
        body = (await request.json())["floatingip"]
        if body.get("floating_network_id") != PUBLIC_NET_ID:
            raise self.not_found("ExternalNetwork", str(body.get("floating_network_id")))
        fip_id = self.state.new_id()
        fip = {
            "id": fip_id,
            "floating_ip_address": f"203.0.113.{len(self.state.floatingips) + 10}",
            "floating_network_id": PUBLIC_NET_ID,
            "router_id": None,
            "port_id": None,
            "fixed_ip_address": None,
            "status": "DOWN",
            "description": body.get("description", ""),
            "tenant_id": PROJECT_ID,
            "project_id": PROJECT_ID,
            "created_at": now_iso()[:19] + "Z",
            "tags": [],
        }
        self._associate(fip, body.get("port_id"))
        self.state.floatingips[fip_id] = fip
        return web.json_response({"floatingip": fip}, status=201)

    def _fip(self, request: web.Request) -> dict[str, Any]:
        fip = self.state.floatingips.get(request.match_info["id"])
        if fip is None:
            raise self.not_found("FloatingIP", request.match_info["id"])
        return fip

    async def show_fip(self, request: web.Request) -> web.Response:
        """GET /floatingips/{id}."""
        return web.json_response({"floatingip": self._fip(request)})

    async def update_fip(self, request: web.Request) -> web.Response:
        """PUT /floatingips/{id}: (dis)associate with a port."""
        fip = self._fip(request)
        self._associate(fip, (await request.json())["floatingip"].get("port_id"))
        return web.json_response({"floatingip": fip})

    async def delete_fip(self, request: web.Request) -> web.Response:
        """DELETE /floatingips/{id}."""
        del self.state.floatingips[self._fip(request)["id"]]
        return web.Response(status=204)
