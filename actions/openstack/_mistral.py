"""Mistral's OpenStack action names (``nova.servers_create``) mapped onto openstacksdk.

Workflows written for Mistral call the python-*client methods by these names with
the clients' input names; each one here is a typed input model and a function that
does the same thing through the SDK. Results use the APIs' own attribute names, as
the clients' results did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openstack.connection import Connection

from actions.catalogue import Action, ActionContext, ActionInput
from actions.openstack._connect import OpenStackClients
from actions.openstack._errors import OpenStackActionFailed
from actions.openstack._results import to_json


class MistralInput(ActionInput):
    """Inputs every Mistral-named OpenStack action takes."""

    cloud: str | None = None
    action_region: str | None = None


Call = Callable[[Connection, Any], Any]


@dataclass(frozen=True, slots=True)
class MistralCall:
    """One Mistral action name: its input model and what it does through the SDK."""

    name: str
    input_model: type[MistralInput]
    call: Call
    description: str


class MistralOpenStackAction(Action[MistralInput]):
    """A Mistral-named OpenStack action, run in the OpenStack thread pool."""

    def __init__(self, spec: MistralCall, clients: OpenStackClients) -> None:
        self.name = spec.name
        self.input_model = spec.input_model
        self.description = spec.description
        self._call = spec.call
        self._clients = clients

    async def run(self, params: MistralInput, ctx: ActionContext) -> Any:
        """Run the SDK call for these inputs and return its result as JSON."""

        def call(conn: Connection) -> Any:
            return to_json(self._call(conn, params), original_names=True)

        return await self._clients.call(ctx, self.name, params.cloud, params.action_region, call)


def not_found(action: str, kind: str, criteria: Any) -> OpenStackActionFailed:
    """The failure of a ``find`` that matched nothing (as the clients' NotFound, 404)."""
    message = f"No {kind} matching {criteria}."
    return OpenStackActionFailed(
        f"{action}: HTTP 404: {message}", {"status": 404, "message": message, "request_id": None}
    )


def matches(item: dict[str, Any], criteria: dict[str, Any]) -> bool:
    """Whether a resource (as JSON) has every attribute in ``criteria``, as client finds do."""
    return all(item.get(key) == value for key, value in criteria.items())
