"""The payload adapters, by the name a hook's ``adapter`` gives."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from triggers.webhooks.adapters import alertmanager, aodh, cloudevents, generic, grafana
from triggers.webhooks.delivery import Adapter

ADAPTERS: Mapping[str, Adapter] = MappingProxyType(
    {
        "generic": generic.ADAPTER,
        "cloudevents": cloudevents.ADAPTER,
        "alertmanager": alertmanager.ADAPTER,
        "grafana": grafana.ADAPTER,
        "aodh": aodh.ADAPTER,
    }
)

__all__ = ["ADAPTERS"]
