"""Grafana (unified) alerting's webhook contact point (payload version "1").

Grafana sends Alertmanager's shape plus its own fields: ``orgId``, ``title``, ``state``
and ``message`` on the group; ``values``, ``valueString``, ``silenceURL``,
``dashboardURL``, ``panelURL`` and ``imageURL`` on each alert. All are kept in the
events' data. A contact point with a custom payload template is not this shape: point
it at a ``generic`` hook instead.
"""

from __future__ import annotations

from schemas.events import CloudEvent
from triggers.webhooks.adapters.alerts import alert_group_events, alert_group_key
from triggers.webhooks.delivery import Adapter, Delivery

PAYLOAD_VERSION = "1"


def convert(delivery: Delivery) -> list[CloudEvent]:
    """One event per alert of the notification; see :mod:`.alerts` for their shape."""
    return alert_group_events(delivery, sender="grafana", version=PAYLOAD_VERSION)


ADAPTER = Adapter(convert=convert, delivery_key=alert_group_key)
