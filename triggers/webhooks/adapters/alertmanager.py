"""Prometheus Alertmanager's ``webhook_config`` notifications (payload version "4")."""

from __future__ import annotations

from schemas.events import CloudEvent
from triggers.webhooks.adapters.alerts import alert_group_events, alert_group_key
from triggers.webhooks.delivery import Adapter, Delivery

PAYLOAD_VERSION = "4"


def convert(delivery: Delivery) -> list[CloudEvent]:
    """One event per alert of the notification; see :mod:`.alerts` for their shape."""
    return alert_group_events(delivery, sender="alertmanager", version=PAYLOAD_VERSION)


ADAPTER = Adapter(convert=convert, delivery_key=alert_group_key)
