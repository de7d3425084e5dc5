"""OpenStack Aodh's ``http://`` / ``https://`` alarm actions (the REST notifier).

Aodh posts ``alarm_id``, ``alarm_name``, ``severity``, ``previous``, ``current``,
``reason`` and ``reason_data`` for each state transition; that object is the event's
data, unchanged. The event type is ``alarm.<current>`` with Aodh's three states
written as identifiers: ``alarm.ok``, ``alarm.alarm`` and ``alarm.insufficient_data``
(Aodh spells the last one ``insufficient data``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from schemas.events import CloudEvent
from triggers.webhooks.body import json_media_value
from triggers.webhooks.delivery import Adapter, Delivery, new_event, stable_key
from triggers.webhooks.errors import InvalidPayload
from triggers.webhooks.fields import as_object, kind, required_str

#: Aodh's alarm states, by their spelling with spaces, dashes or underscores unified.
STATES = {"ok": "ok", "alarm": "alarm", "insufficient data": "insufficient_data"}
#: Aodh gives every notification a request id, and keeps it when it retries.
REQUEST_ID_HEADER = "x-openstack-request-id"


def convert(delivery: Delivery) -> list[CloudEvent]:
    """The one event of an alarm's state transition, ``subject`` being the alarm id."""
    payload = as_object(json_media_value(delivery, "aodh"), "body")
    alarm_id = required_str(payload, "alarm_id")
    current = _state(payload, "current")
    previous = _state(payload, "previous") if payload.get("previous") is not None else None
    hook = delivery.hook
    return [
        new_event(
            "",
            fields={"subject": "alarm_id"},
            source=hook.event_source,
            type=f"alarm.{current}",
            subject=alarm_id,
            data=payload,
            project=hook.project,
            dedupekey=stable_key("aodh", alarm_id, previous, current),
        )
    ]


def delivery_key(headers: Mapping[str, str], events: Sequence[CloudEvent]) -> str | None:
    """Aodh's request id, which its retries keep."""
    request_id = headers.get(REQUEST_ID_HEADER)
    return stable_key("aodh", request_id) if request_id else None


def _state(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str):
        got = "nothing" if key not in payload else kind(value)
        raise InvalidPayload(f"{key}: expected an Aodh alarm state, got {got}", key)
    state = STATES.get(" ".join(value.lower().replace("_", " ").replace("-", " ").split()))
    if state is None:
        raise InvalidPayload(
            f"{key}: expected 'ok', 'alarm' or 'insufficient data', got {value!r}", key
        )
    return state


ADAPTER = Adapter(convert=convert, delivery_key=delivery_key)
