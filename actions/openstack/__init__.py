"""OpenStack actions through openstacksdk.

Two families share one set of connections and one bounded thread pool:

- ``openstack.<service>.<method>``, generated from the SDK's service proxies
  (``openstack.compute.create_server``, ``openstack.block_storage.create_backup``);
- Mistral's names for the common ones (``nova.servers_create``,
  ``cinder.backups_create``, ``neutron.create_floatingip``...), with the
  python-*client input names Mistral workflows already use.

Every action also takes ``cloud`` (a ``clouds.yaml`` entry) and ``action_region``.
"""

from __future__ import annotations

from typing import Any

from actions.catalogue import Action
from actions.openstack._connect import OpenStackClients
from actions.openstack._errors import CloudNotConfigured, OpenStackActionFailed
from actions.openstack._generated import SERVICES, SdkAction, sdk_actions
from actions.openstack._mistral import MistralCall, MistralInput, MistralOpenStackAction
from actions.openstack._mistral_neutron import NEUTRON
from actions.openstack._mistral_nova import NOVA
from actions.openstack._mistral_storage import STORAGE
from actions.openstack._results import to_json

#: Every Mistral-named OpenStack action.
MISTRAL_CALLS: list[MistralCall] = [*NOVA, *STORAGE, *NEUTRON]


def openstack_actions(clients: OpenStackClients | None = None) -> list[Action[Any]]:
    """Every OpenStack action, sharing ``clients`` (a new set if omitted)."""
    shared = clients or OpenStackClients()
    mistral: list[Action[Any]] = [MistralOpenStackAction(spec, shared) for spec in MISTRAL_CALLS]
    return [*mistral, *sdk_actions(shared)]


__all__ = [
    "MISTRAL_CALLS",
    "SERVICES",
    "CloudNotConfigured",
    "MistralCall",
    "MistralInput",
    "MistralOpenStackAction",
    "OpenStackActionFailed",
    "OpenStackClients",
    "SdkAction",
    "openstack_actions",
    "sdk_actions",
    "to_json",
]
