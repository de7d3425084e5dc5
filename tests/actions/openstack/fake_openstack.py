"""A fake OpenStack on 127.0.0.1: Keystone v3, Nova, Cinder, Glance and Neutron.

Just enough of each API, with realistic bodies, for openstacksdk's real request and
response code to run against it: version discovery, token auth with a service
catalogue, servers that go BUILD → ACTIVE after a few reads, server actions with
Nova's conflict faults, volumes and backups, images, ports and floating IPs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from tests.actions.openstack.fake_common import (
    PASSWORD,
    PRIVATE_NET_ID,
    PROJECT_ID,
    PUBLIC_NET_ID,
    USER_ID,
    USERNAME,
    FakeState,
    Handler,
    fault,
)
from tests.actions.openstack.fake_compute import NeutronApi, NovaApi
from tests.actions.openstack.fake_storage import CinderApi, GlanceApi

__all__ = [
    "PASSWORD",
    "PRIVATE_NET_ID",
    "PROJECT_ID",
    "PUBLIC_NET_ID",
    "USERNAME",
    "FakeOpenStack",
    "FakeState",
    "serving_cloud",
    "write_clouds_yaml",
]


class FakeOpenStack:
    """The fake clouds as one aiohttp app; ``start()`` serves it on a free port."""

    def __init__(self, build_polls: int = 2) -> None:
        self.state = FakeState(build_polls=build_polls)
        self._runner: web.AppRunner | None = None

    @property
    def auth_url(self) -> str:
        """Keystone's v3 URL, as clouds.yaml names it."""
        return f"{self.state.base}/identity/v3"

    async def start(self) -> None:
        """Serve on 127.0.0.1 at a free port."""
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/identity", self._identity_versions)
        app.router.add_get("/identity/", self._identity_versions)
        app.router.add_get("/identity/v3", self._identity_version)
        app.router.add_get("/identity/v3/", self._identity_version)
        app.router.add_post("/identity/v3/auth/tokens", self._tokens)
        for api in (NovaApi, NeutronApi, CinderApi, GlanceApi):
            api(self.state).add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.state.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()

    def write_clouds_yaml(self, path: Path, cloud: str = "fake") -> Path:
        """Write a clouds.yaml naming this fake as ``cloud``; returns its path."""
        return write_clouds_yaml(path, {cloud: self})

    def clouds_yaml_entry(self) -> dict[str, Any]:
        """This fake's entry in a clouds.yaml."""
        return {
            "auth": {
                "auth_url": self.auth_url,
                "username": USERNAME,
                "password": PASSWORD,
                "project_id": PROJECT_ID,
                "user_domain_id": "default",
            },
            "region_name": "RegionOne",
            "identity_api_version": 3,
        }

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.state.requests.append((request.method, request.path))
        for (method, suffix), (status, kind, message) in self.state.faults.items():
            if request.method == method and request.path.endswith(suffix):
                return fault(status, kind, message)
        if not request.path.startswith("/identity"):
            token = request.headers.get("X-Auth-Token")
            if token not in self.state.tokens:
                return web.json_response(
                    {"error": {"code": 401, "title": "Unauthorized", "message": "bad token"}},
                    status=401,
                )
        return await handler(request)

    def _version_doc(self) -> dict[str, Any]:
        return {
            "id": "v3.14",
            "status": "stable",
            "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": f"{self.state.base}/identity/v3/"}],
            "media-types": [
                {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
            ],
        }

    async def _identity_versions(self, _: web.Request) -> web.Response:
        return web.json_response({"versions": {"values": [self._version_doc()]}}, status=300)

    async def _identity_version(self, _: web.Request) -> web.Response:
        return web.json_response({"version": self._version_doc()})

    async def _tokens(self, request: web.Request) -> web.Response:
        identity = (await request.json())["auth"]["identity"]
        if "password" in identity["methods"]:
            user = identity["password"]["user"]
            if (user.get("name"), user.get("password")) != (USERNAME, PASSWORD) and (
                user.get("id"),
                user.get("password"),
            ) != (USER_ID, PASSWORD):
                return web.json_response(
                    {
                        "error": {
                            "code": 401,
                            "title": "Unauthorized",
                            "message": "The request you have made requires authentication.",
                        }
                    },
                    status=401,
                )
        elif identity["token"]["id"] not in self.state.tokens:
            return web.json_response(
                {"error": {"code": 404, "title": "Not Found", "message": "Could not find token"}},
                status=404,
            )
        token = uuid.uuid4().hex
        self.state.tokens.add(token)
        return web.json_response(
            {"token": self._token_body(identity["methods"])},
            status=201,
            headers={"X-Subject-Token": token},
        )

    def add_token(self) -> str:
        """A valid token for the fake's project, as a caller's security context holds."""
        token = uuid.uuid4().hex
        self.state.tokens.add(token)
        return token

    def _token_body(self, methods: list[str]) -> dict[str, Any]:
        base = self.state.base

        def service(kind: str, name: str, url: str) -> dict[str, Any]:
            return {
                "id": uuid.uuid5(uuid.NAMESPACE_URL, kind).hex,
                "type": kind,
                "name": name,
                "endpoints": [
                    {
                        "id": uuid.uuid5(uuid.NAMESPACE_URL, kind + iface).hex,
                        "interface": iface,
                        "region": "RegionOne",
                        "region_id": "RegionOne",
                        "url": url,
                    }
                    for iface in ("public", "internal")
                ],
            }

        expires = datetime.now(UTC) + timedelta(hours=1)
        return {
            "methods": methods,
            "user": {
                "id": USER_ID,
                "name": USERNAME,
                "domain": {"id": "default", "name": "Default"},
            },
            "project": {
                "id": PROJECT_ID,
                "name": "ops",
                "domain": {"id": "default", "name": "Default"},
            },
            "roles": [{"id": uuid.uuid4().hex, "name": "member"}],
            "is_domain": False,
            "audit_ids": [uuid.uuid4().hex[:22]],
            "issued_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "catalog": [
                service("identity", "keystone", f"{base}/identity"),
                service("compute", "nova", f"{base}/compute/v2.1"),
                service("block-storage", "cinderv3", f"{base}/volume/v3/{PROJECT_ID}"),
                service("volumev3", "cinderv3", f"{base}/volume/v3/{PROJECT_ID}"),
                service("image", "glance", f"{base}/image"),
                service("network", "neutron", f"{base}/network"),
            ],
        }


def write_clouds_yaml(path: Path, clouds: dict[str, FakeOpenStack]) -> Path:
    """Write a clouds.yaml naming each fake cloud; returns its path."""
    entries = {name: fake.clouds_yaml_entry() for name, fake in clouds.items()}
    path.write_text(yaml.safe_dump({"clouds": entries}))
    return path


@asynccontextmanager
async def serving_cloud(
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    others: dict[str, FakeOpenStack] | None = None,
) -> AsyncIterator[FakeOpenStack]:
    """A fake cloud, serving while in the block, that the SDK knows as ``name``.

    It is written to a clouds.yaml at ``path``, with the ``others`` already serving,
    and the SDK reads only that file: no ``OS_*`` variable of this machine interferes.
    """
    for variable in list(os.environ):
        if variable.startswith("OS_"):
            monkeypatch.delenv(variable)
    fake = FakeOpenStack()
    await fake.start()
    written = write_clouds_yaml(path, {**(others or {}), name: fake})
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(written))
    try:
        yield fake
    finally:
        await fake.stop()
