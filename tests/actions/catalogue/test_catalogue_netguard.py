"""std.http refuses metadata, link-local and (unless allowed) private addresses."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from actions.catalogue import ActionCatalogue, ActionContext, ActionSettings
from actions.catalogue._netguard import address_refusal

DENY = ActionContext(settings=ActionSettings())
ALLOW = ActionContext(settings=ActionSettings(allow_private_networks=True))


@pytest.fixture(scope="module")
async def hits() -> AsyncIterator[tuple[str, list[str]]]:
    """A local server that records every request it receives."""
    seen: list[str] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(text="reached")

    async def to_metadata(request: web.Request) -> web.Response:
        seen.append(request.path)
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    app = web.Application()
    app.router.add_get("/hit", record)
    app.router.add_get("/to-metadata", to_metadata)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"127.0.0.1:{runner.addresses[0][1]}", seen
    await runner.cleanup()


@pytest.fixture(scope="module")
def catalogue() -> ActionCatalogue:
    return ActionCatalogue.default()


@pytest.mark.parametrize("host_kind", ["ip", "name"])
async def test_loopback_is_refused_before_connecting(
    catalogue: ActionCatalogue, hits: tuple[str, list[str]], host_kind: str
) -> None:
    hostport, seen = hits
    if host_kind == "name":
        hostport = hostport.replace("127.0.0.1", "localhost")
    before = len(seen)
    out = await catalogue.run("std.http", {"url": f"http://{hostport}/hit"}, DENY)
    assert out.state == "ERROR"
    assert out.error is not None and "Refusing to connect" in out.error
    assert "allow_private_networks" in out.error
    assert len(seen) == before


async def test_loopback_is_reached_when_allowed(
    catalogue: ActionCatalogue, hits: tuple[str, list[str]]
) -> None:
    hostport, seen = hits
    before = len(seen)
    out = await catalogue.run("std.http", {"url": f"http://{hostport}/hit"}, ALLOW)
    assert out.output["content"] == "reached"
    assert len(seen) == before + 1


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/",
        "http://[fe80::1]/",
        "http://169.254.10.1/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://[::ffff:169.254.169.254]/",
    ],
)
async def test_metadata_and_link_local_are_refused_even_when_allowed(
    catalogue: ActionCatalogue, url: str
) -> None:
    for ctx in (DENY, ALLOW):
        out = await catalogue.run("std.http", {"url": url}, ctx, timeout_s=5)
        assert out.state == "ERROR"
        assert out.error is not None and "Refusing to connect" in out.error, out.error


async def test_redirect_to_metadata_is_refused(
    catalogue: ActionCatalogue, hits: tuple[str, list[str]]
) -> None:
    hostport, _ = hits
    out = await catalogue.run(
        "std.http",
        {"url": f"http://{hostport}/to-metadata", "allow_redirects": True},
        ALLOW,
        timeout_s=5,
    )
    assert out.error is not None and "cloud metadata address" in out.error


@pytest.mark.parametrize(
    ("address", "private_refused"),
    [("10.1.2.3", True), ("192.168.0.1", True), ("172.16.5.5", True), ("8.8.8.8", False)],
)
def test_private_ranges(address: str, private_refused: bool) -> None:
    ip = ipaddress.ip_address(address)
    assert (address_refusal(ip, allow_private=False) is not None) is private_refused
    assert address_refusal(ip, allow_private=True) is None


@given(st.ip_addresses(network="169.254.0.0/16") | st.ip_addresses(network="fe80::/10"))
def test_link_local_is_always_refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    assert address_refusal(ip, allow_private=True) is not None


@given(st.ip_addresses(network="127.0.0.0/8") | st.ip_addresses(network="10.0.0.0/8"))
def test_private_is_refused_unless_allowed(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    assert address_refusal(ip, allow_private=False) is not None
    assert address_refusal(ip, allow_private=True) is None
