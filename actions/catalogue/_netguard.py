"""Keep network actions away from metadata, link-local and (by default) private hosts.

The check runs where the connection is made: a resolver checks every address a
name resolves to, and the connection then goes to exactly those checked addresses,
so a DNS answer that changes between check and connect (rebinding) gains nothing.
Literal IP hosts never reach a resolver, so the connector checks them itself; both
run again on every redirect hop.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any, Final

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.connector import Connection
from aiohttp.tracing import Trace

from actions.catalogue._errors import RefusedAddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Cloud instance metadata endpoints: refused even when private networks are allowed.
METADATA_ADDRESSES: Final = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
METADATA_HOSTNAMES: Final = frozenset({"metadata.google.internal", "metadata.goog"})


def address_refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why a connection to ``address`` is refused, or None if it is allowed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_link_local:
        return "a link-local address"
    if allow_private:
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_multicast or address.is_unspecified or not address.is_global:
        return "a private or reserved address"
    return None


def check_address(host: str, address: str, *, allow_private: bool) -> None:
    """Raise ``RefusedAddress`` if ``host`` (resolved to ``address``) is forbidden."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError as exc:
        raise RefusedAddress(
            f"Refusing to connect to {host}: unusable address {address!r}"
        ) from exc
    reason = address_refusal(parsed, allow_private=allow_private)
    if reason is None:
        return
    hint = (
        ""
        if "metadata" in reason or "link-local" in reason
        else (" (set allow_private_networks to permit it)")
    )
    shown = host if host == address else f"{host} ({address})"
    raise RefusedAddress(f"Refusing to connect to {shown}: it is {reason}{hint}")


def check_hostname(host: str) -> None:
    """Refuse well-known metadata host names before any lookup."""
    if host.rstrip(".").lower() in METADATA_HOSTNAMES:
        raise RefusedAddress(f"Refusing to connect to {host}: it is a cloud metadata host")


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


class GuardedResolver(AbstractResolver):
    """Resolve with the default resolver, then refuse if any address is forbidden."""

    def __init__(self, *, allow_private: bool) -> None:
        self._inner = aiohttp.DefaultResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve ``host`` and check every address it maps to."""
        check_hostname(host)
        results = await self._inner.resolve(host, port, family)
        for result in results:
            check_address(host, result["host"], allow_private=self._allow_private)
        return results

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self._inner.close()


class GuardedConnector(aiohttp.TCPConnector):
    """A TCP connector that checks literal IP hosts, which bypass the resolver."""

    def __init__(self, *, allow_private: bool, **kwargs: Any) -> None:
        super().__init__(resolver=GuardedResolver(allow_private=allow_private), **kwargs)
        self._allow_private = allow_private

    async def connect(
        self,
        req: aiohttp.ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,
    ) -> Connection:
        """Check the request's host when it is an IP literal, then connect."""
        host = str(req.host)
        if _is_ip_literal(host):
            bare = host.strip("[]")
            check_address(bare, bare, allow_private=self._allow_private)
        return await super().connect(req, traces, timeout)
