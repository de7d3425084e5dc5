"""OpenStack Aodh alarm notifications: one event per state transition."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from schemas.definitions.hooks import Hook
from schemas.events import CloudEvent, decode_event
from triggers.webhooks import WebhookError, idempotency_key, to_events

# The body Aodh's REST notifier posts for a threshold alarm.
NOTIFICATION: dict[str, Any] = {
    "alarm_name": "cpu_high-scale-out",
    "alarm_id": "b0e4d3d1-5f36-4b35-9f8e-2a4c0c8f6c11",
    "severity": "critical",
    "previous": "ok",
    "current": "alarm",
    "reason": "Transition to alarm due to 3 samples outside threshold, most recent: 93.2",
    "reason_data": {"type": "threshold", "disposition": "outside", "count": 3, "most_recent": 93.2},
}
REQUEST_ID = "req-6a1f3e0e-3b59-4ab4-bd41-0f7e0a0f5a7e"


def hook() -> Hook:
    return Hook(name="aodh", adapter="aodh", project="tenant-a", secret="s3cret-token")


def deliver(payload: Any, headers: dict[str, str] | None = None) -> list[CloudEvent]:
    return to_events(
        hook(),
        body=json.dumps(payload).encode(),
        content_type="application/json",
        headers={"x-openstack-request-id": REQUEST_ID, **(headers or {})},
    )


def with_(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(NOTIFICATION)
    payload.update(changes)
    return payload


def test_alarm_becomes_one_event_about_the_alarm() -> None:
    [event] = deliver(NOTIFICATION)
    assert event.type == "alarm.alarm"
    assert event.subject == NOTIFICATION["alarm_id"]
    assert event.data == NOTIFICATION
    assert event.project == "tenant-a"
    assert decode_event(event.to_bytes()) == event


@pytest.mark.parametrize(
    ("current", "event_type"),
    [
        ("ok", "alarm.ok"),
        ("alarm", "alarm.alarm"),
        ("insufficient data", "alarm.insufficient_data"),
        ("insufficient_data", "alarm.insufficient_data"),
        ("INSUFFICIENT-DATA", "alarm.insufficient_data"),
    ],
)
def test_states_normalised_in_the_type(current: str, event_type: str) -> None:
    [event] = deliver(with_(current=current))
    assert event.type == event_type
    assert event.data["current"] == current


def test_dedupe_key_stable_and_transition_sensitive() -> None:
    [first] = deliver(NOTIFICATION)
    [again] = deliver(copy.deepcopy(NOTIFICATION))
    [back_to_ok] = deliver(with_(previous="alarm", current="ok"))
    assert first.dedupekey == again.dedupekey
    assert back_to_ok.dedupekey != first.dedupekey


def test_request_id_recognises_retries() -> None:
    events = deliver(NOTIFICATION)
    key = idempotency_key(hook(), headers={"X-Openstack-Request-Id": REQUEST_ID}, events=events)
    assert key is not None
    other = idempotency_key(hook(), headers={"x-openstack-request-id": "req-2"}, events=events)
    assert other != key
    assert idempotency_key(hook(), headers={}, events=events) is None


def test_first_evaluation_without_previous_state() -> None:
    [event] = deliver(with_(previous=None, current="insufficient data"))
    assert event.type == "alarm.insufficient_data"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({k: v for k, v in NOTIFICATION.items() if k != "alarm_id"}, "alarm_id"),
        (with_(alarm_id=""), "alarm_id"),
        (with_(current="firing"), "current"),
        (with_(current=None), "current"),
        (with_(previous=3), "previous"),
        ([NOTIFICATION], "body"),
    ],
)
def test_malformed_alarm_names_the_field(payload: Any, field: str) -> None:
    with pytest.raises(WebhookError) as info:
        deliver(payload)
    assert (info.value.status, info.value.field) == (400, field)
