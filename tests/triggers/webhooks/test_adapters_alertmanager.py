"""Prometheus Alertmanager notifications become one event per alert."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from schemas.definitions.hooks import Hook
from schemas.events import CloudEvent, decode_event
from triggers.webhooks import WebhookError, idempotency_key, to_events

# Modelled on Alertmanager's webhook_config documentation and a real v0.27 delivery.
NOTIFICATION: dict[str, Any] = {
    "receiver": "squall",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighCPU",
                "cluster": "prod-eu",
                "instance": "node-3:9100",
                "severity": "critical",
            },
            "annotations": {"summary": "CPU above 90% on node-3:9100"},
            "startsAt": "2024-05-02T09:52:26.739266876Z",
            "endsAt": "2024-05-02T10:12:26.739266876Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=cpu+%3E+0.9&g0.tab=1",
            "fingerprint": "1a30ba71cca2921f",
        },
        {
            "status": "resolved",
            "labels": {
                "alertname": "HighCPU",
                "cluster": "prod-eu",
                "instance": "node-5:9100",
                "severity": "critical",
            },
            "annotations": {"summary": "CPU above 90% on node-5:9100"},
            "startsAt": "2024-05-02T09:40:11.12Z",
            "endsAt": "2024-05-02T09:58:41.5Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=cpu+%3E+0.9&g0.tab=1",
            "fingerprint": "8e2bf9c7d4a1b035",
        },
    ],
    "groupLabels": {"alertname": "HighCPU"},
    "commonLabels": {"alertname": "HighCPU", "cluster": "prod-eu", "severity": "critical"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
    "version": "4",
    "groupKey": '{}/{severity="critical"}:{alertname="HighCPU"}',
    "truncatedAlerts": 0,
}


def hook(**options: Any) -> Hook:
    return Hook(name="am", project="ops", adapter="alertmanager", secret="s3cret-token", **options)


def deliver(
    payload: Any,
    *,
    hook_: Hook | None = None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> list[CloudEvent]:
    return to_events(
        hook_ or hook(),
        body=json.dumps(payload).encode(),
        content_type=content_type,
        headers={"content-type": content_type, **(headers or {})},
    )


def refused(payload: Any, **kwargs: Any) -> WebhookError:
    with pytest.raises(WebhookError) as info:
        deliver(payload, **kwargs)
    return info.value


def test_one_event_per_alert_typed_by_its_own_status() -> None:
    events = deliver(NOTIFICATION)
    assert [e.type for e in events] == ["alert.firing", "alert.resolved"]
    assert [e.subject for e in events] == ["1a30ba71cca2921f", "8e2bf9c7d4a1b035"]
    assert {e.project for e in events} == {"ops"}
    assert {e.source for e in events} == {"hooks/am"}


def test_data_keeps_the_alert_and_its_group() -> None:
    event = deliver(NOTIFICATION)[0]
    alert = NOTIFICATION["alerts"][0]
    for key in ("labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"):
        assert event.data[key] == alert[key]
    for key in (
        "receiver",
        "groupKey",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "truncatedAlerts",
    ):
        assert event.data[key] == NOTIFICATION[key]
    assert event.data["status"] == "firing"


def test_events_survive_the_events_topic() -> None:
    for event in deliver(NOTIFICATION):
        assert decode_event(event.to_bytes()) == event


def test_hook_source_overrides_the_default() -> None:
    events = deliver(NOTIFICATION, hook_=hook(source="alertmanager"))
    assert {e.source for e in events} == {"alertmanager"}


def test_dedupe_key_stable_across_deliveries_and_changes_with_status() -> None:
    first = deliver(NOTIFICATION)
    again = deliver(copy.deepcopy(NOTIFICATION))
    assert [e.dedupekey for e in first] == [e.dedupekey for e in again]
    assert first[0].dedupekey != first[1].dedupekey

    resolved = copy.deepcopy(NOTIFICATION)
    resolved["alerts"][0]["status"] = "resolved"
    assert deliver(resolved)[0].dedupekey != first[0].dedupekey
    assert deliver(resolved)[0].subject == first[0].subject


def test_a_new_firing_of_the_same_alert_gets_a_new_dedupe_key() -> None:
    later = copy.deepcopy(NOTIFICATION)
    later["alerts"][0]["startsAt"] = "2024-05-03T08:00:00Z"
    assert deliver(later)[0].dedupekey != deliver(NOTIFICATION)[0].dedupekey


def test_retried_notification_has_the_same_idempotency_key() -> None:
    key = idempotency_key(hook(), headers={}, events=deliver(NOTIFICATION))
    assert key is not None
    assert idempotency_key(hook(), headers={}, events=deliver(copy.deepcopy(NOTIFICATION))) == key


def test_repeat_notification_with_moved_end_has_a_new_idempotency_key() -> None:
    repeat = copy.deepcopy(NOTIFICATION)
    repeat["alerts"][0]["endsAt"] = "2024-05-02T14:12:26.739266876Z"
    first = idempotency_key(hook(), headers={}, events=deliver(NOTIFICATION))
    assert idempotency_key(hook(), headers={}, events=deliver(repeat)) != first


def test_idempotency_key_header_wins() -> None:
    events = deliver(NOTIFICATION)
    assert idempotency_key(hook(), headers={"Idempotency-Key": "abc-1"}, events=events) == "abc-1"


def test_alert_order_does_not_change_the_idempotency_key() -> None:
    swapped = copy.deepcopy(NOTIFICATION)
    swapped["alerts"].reverse()
    assert idempotency_key(hook(), headers={}, events=deliver(swapped)) == idempotency_key(
        hook(), headers={}, events=deliver(NOTIFICATION)
    )


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda p: p.update(version="3"), "version", 'expected "4"'),
        (lambda p: p.pop("version"), "version", "missing"),
        (lambda p: p.pop("alerts"), "alerts", "missing"),
        (lambda p: p.update(alerts={"a": 1}), "alerts", "expected an array, got an object"),
        (lambda p: p["alerts"].append("x"), "alerts[2]", "expected an object, got a string"),
        (lambda p: p["alerts"][1].update(status="pending"), "alerts[1].status", '"firing" or'),
        (lambda p: p["alerts"][0].pop("status"), "alerts[0].status", "missing"),
        (lambda p: p["alerts"][0].pop("startsAt"), "alerts[0].startsAt", "missing"),
        (lambda p: p["alerts"][0].update(labels=[]), "alerts[0].labels", "expected an object"),
        (lambda p: p["alerts"][0].update(fingerprint=7), "alerts[0].fingerprint", "a number"),
        (lambda p: p["alerts"][0].update(fingerprint="f" * 2000), "alerts[0].fingerprint", "1024"),
    ],
)
def test_malformed_notification_names_the_field(change: Any, field: str, words: str) -> None:
    payload = copy.deepcopy(NOTIFICATION)
    change(payload)
    err = refused(payload)
    assert (err.status, err.field) == (400, field)
    assert err.message.startswith(field)
    assert words in err.message


def test_body_must_be_an_object() -> None:
    err = refused([NOTIFICATION])
    assert (err.status, err.field) == (400, "body")


def test_only_json_is_read() -> None:
    err = refused(NOTIFICATION, content_type="text/plain")
    assert err.status == 415
    assert "application/json" in err.message


def test_invalid_json_reports_line_and_column() -> None:
    with pytest.raises(WebhookError) as info:
        to_events(
            hook(),
            body=b'{\n  "version": "4",\n  "alerts": [,]\n}',
            content_type="application/json",
            headers={},
        )
    assert info.value.status == 400
    assert "line 3, column 14" in info.value.message


def test_empty_body_refused() -> None:
    with pytest.raises(WebhookError) as info:
        to_events(hook(), body=b"", content_type="application/json", headers={})
    assert info.value.status == 400
    assert "empty" in info.value.message
