"""Alertmanager-shaped notifications (Alertmanager's and Grafana's): one event per alert.

Each event's data is the alert (labels, annotations, startsAt, endsAt, generatorURL,
fingerprint, status, and whatever else the sender adds per alert) merged over the
group's fields (receiver, groupKey, groupLabels, commonLabels, commonAnnotations,
externalURL, truncatedAlerts, ...). The group's own ``status`` and ``version`` are
left out: each alert carries its own status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from schemas.definitions.hooks import Hook
from schemas.events import CloudEvent
from triggers.webhooks.body import json_media_value
from triggers.webhooks.delivery import Delivery, new_event, stable_key
from triggers.webhooks.errors import InvalidPayload
from triggers.webhooks.fields import as_list, as_object, kind, optional_str, path, required_str

STATUSES = ("firing", "resolved")
#: Fields of the group that do not describe any one alert.
_NOT_SHARED = frozenset({"alerts", "status", "version"})


def alert_group_events(delivery: Delivery, *, sender: str, version: str) -> list[CloudEvent]:
    """One ``alert.firing`` / ``alert.resolved`` event per entry of ``alerts``.

    Args:
        delivery: the request.
        sender: the adapter's name, for messages.
        version: the payload ``version`` the sender must declare.
    """
    payload = as_object(json_media_value(delivery, sender), "body")
    _check_version(payload, sender, version)
    if "alerts" not in payload:
        raise InvalidPayload("alerts: required field is missing", "alerts")
    alerts = as_list(payload["alerts"], "alerts")
    group = {k: v for k, v in payload.items() if k not in _NOT_SHARED}
    return [_alert_event(delivery.hook, group, alert, i) for i, alert in enumerate(alerts)]


def alert_group_key(headers: Mapping[str, str], events: Sequence[CloudEvent]) -> str | None:
    """The same for a retried notification, different for the next one of the group.

    A group's repeat notification (after ``repeat_interval``) differs from the last one
    because the senders move a firing alert's ``endsAt`` forward each time they
    re-evaluate it; a retry of a failed delivery carries the same body.
    """
    if not events:
        return None
    data = [e.data if isinstance(e.data, dict) else {} for e in events]
    alerts = sorted(
        [str(d.get(k)) for k in ("fingerprint", "status", "startsAt", "endsAt")] for d in data
    )
    return stable_key("alert-group", data[0].get("groupKey"), alerts)


def _check_version(payload: dict[str, Any], sender: str, version: str) -> None:
    if "version" not in payload:
        raise InvalidPayload(
            f'version: required field is missing; expected "{version}" for {sender}', "version"
        )
    got = payload["version"]
    if got != version:
        shown = repr(got) if isinstance(got, str) else kind(got)
        raise InvalidPayload(
            f'version: expected "{version}" ({sender} webhook payload), got {shown}', "version"
        )


def _alert_event(hook: Hook, group: dict[str, Any], raw: object, index: int) -> CloudEvent:
    where = path("alerts", index)
    alert = as_object(raw, where)
    status = required_str(alert, "status", where)
    if status not in STATUSES:
        field = path(where, "status")
        raise InvalidPayload(f'{field}: expected "firing" or "resolved", got {status!r}', field)
    starts_at = required_str(alert, "startsAt", where)
    labels = as_object(alert.get("labels", {}), path(where, "labels"))
    fingerprint = optional_str(alert, "fingerprint", where) or _labels_fingerprint(labels)
    return new_event(
        f"{where}.",
        fields={"subject": path(where, "fingerprint")},
        source=hook.event_source,
        type=f"alert.{status}",
        subject=fingerprint,
        data={**group, **alert, "fingerprint": fingerprint},
        project=hook.project,
        dedupekey=stable_key("alert", fingerprint, status, starts_at),
    )


def _labels_fingerprint(labels: dict[str, Any]) -> str:
    # Older Grafana versions send no fingerprint; the label set identifies the alert.
    return stable_key("labels", sorted(labels.items()))[:16]
