"""``neutron.*``: Mistral's network actions, with neutronclient's wrapped bodies.

neutronclient takes and returns bodies wrapped in the resource's name
(``{"floatingip": {...}}``, ``{"floatingips": [...]}``); so do these actions, so that
``task().result.floatingip.floating_ip_address`` keeps working.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from actions.openstack._mistral import MistralCall, MistralInput


class FilterInput(MistralInput):
    """neutronclient's ``list_*``: any query filter (``device_id``, ``port_id``...)."""

    model_config = ConfigDict(extra="allow")

    retrieve_all: bool = True


class BodyInput(MistralInput):
    """neutronclient's ``create_*``: a wrapped body."""

    body: dict[str, dict[str, Any]]


class FloatingIpInput(MistralInput):
    """A floating IP, by id."""

    floatingip: str


class FloatingIpUpdateInput(FloatingIpInput):
    """neutronclient's ``update_floatingip``."""

    body: dict[str, dict[str, Any]]


def _filters(p: FilterInput) -> dict[str, Any]:
    return dict(p.model_extra or {})


def _unwrap(body: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
    if key in body:
        return body[key]
    return body


NEUTRON: list[MistralCall] = [
    MistralCall(
        "neutron.list_floatingips",
        FilterInput,
        lambda c, p: {"floatingips": list(c.network.ips(**_filters(p)))},
        "List floating IPs.",
    ),
    MistralCall(
        "neutron.show_floatingip",
        FloatingIpInput,
        lambda c, p: {"floatingip": c.network.get_ip(p.floatingip)},
        "Show a floating IP.",
    ),
    MistralCall(
        "neutron.create_floatingip",
        BodyInput,
        lambda c, p: {"floatingip": c.network.create_ip(**_unwrap(p.body, "floatingip"))},
        "Allocate a floating IP (body: {floatingip: {floating_network_id, port_id?}}).",
    ),
    MistralCall(
        "neutron.update_floatingip",
        FloatingIpUpdateInput,
        lambda c, p: {
            "floatingip": c.network.update_ip(p.floatingip, **_unwrap(p.body, "floatingip"))
        },
        "Associate or disassociate a floating IP (body: {floatingip: {port_id}}).",
    ),
    MistralCall(
        "neutron.delete_floatingip",
        FloatingIpInput,
        lambda c, p: c.network.delete_ip(p.floatingip, ignore_missing=False),
        "Release a floating IP.",
    ),
    MistralCall(
        "neutron.list_ports",
        FilterInput,
        lambda c, p: {"ports": list(c.network.ports(**_filters(p)))},
        "List ports (e.g. device_id: a server's id).",
    ),
    MistralCall(
        "neutron.list_networks",
        FilterInput,
        lambda c, p: {"networks": list(c.network.networks(**_filters(p)))},
        "List networks.",
    ),
]
