"""Grafana alerting's webhook contact point: Alertmanager's shape plus Grafana's fields."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from schemas.definitions.hooks import Hook
from schemas.events import CloudEvent
from triggers.webhooks import WebhookError, idempotency_key, to_events

# Modelled on the example body of Grafana's webhook notifier documentation.
NOTIFICATION: dict[str, Any] = {
    "receiver": "Squall",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
            "annotations": {
                "description": "The system has high memory usage",
                "runbook_url": "https://runbooks.example.com/memory",
                "summary": "This alert was triggered for zone us-1",
            },
            "startsAt": "2024-10-12T09:51:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://grafana.example.com/alerting/grafana/1afz29v7z/view",
            "fingerprint": "c6eadffa33fcdf37",
            "silenceURL": "https://grafana.example.com/alerting/silence/new?alertmanager=grafana"
            "&matchers=alertname%3DHigh+memory+usage%2Cteam%3Dblue%2Czone%3Dus-1",
            "dashboardURL": "https://grafana.example.com/d/mem01",
            "panelURL": "https://grafana.example.com/d/mem01?viewPanel=3",
            "values": {"B": 44.23943737541908, "C": 1},
            "valueString": "[ var='B' labels={zone=us-1} value=44.23943737541908 ]",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "High CPU usage", "team": "blue", "zone": "eu-1"},
            "annotations": {"summary": "This alert was triggered for zone eu-1"},
            "startsAt": "2024-10-12T09:56:03.157076+02:00",
            "endsAt": "2024-10-12T10:06:03.157076+02:00",
            "generatorURL": "https://grafana.example.com/alerting/grafana/d1rdpdv7k/view",
            "fingerprint": "bc97ff14869b13e3",
            "silenceURL": "https://grafana.example.com/alerting/silence/new?alertmanager=grafana"
            "&matchers=alertname%3DHigh+CPU+usage%2Cteam%3Dblue%2Czone%3Deu-1",
            "dashboardURL": "",
            "panelURL": "",
            "values": None,
            "valueString": "",
        },
    ],
    "groupLabels": {},
    "commonLabels": {"team": "blue"},
    "commonAnnotations": {},
    "externalURL": "https://grafana.example.com/",
    "version": "1",
    "groupKey": "{}:{}",
    "truncatedAlerts": 0,
    "title": "[FIRING:1, RESOLVED:1]  (blue)",
    "state": "alerting",
    "message": "**Firing**\n\nValue: B=44.23943737541908, C=1\n"
    "Labels:\n - alertname = High memory usage",
}


def hook() -> Hook:
    return Hook(name="grafana", adapter="grafana", secret="s3cret-token")


def deliver(payload: Any) -> list[CloudEvent]:
    return to_events(
        hook(), body=json.dumps(payload).encode(), content_type="application/json", headers={}
    )


def test_one_event_per_alert() -> None:
    events = deliver(NOTIFICATION)
    assert [(e.type, e.subject) for e in events] == [
        ("alert.firing", "c6eadffa33fcdf37"),
        ("alert.resolved", "bc97ff14869b13e3"),
    ]


def test_grafana_fields_kept_in_data() -> None:
    firing = deliver(NOTIFICATION)[0].data
    for key in ("orgId", "title", "state", "message", "groupKey", "commonLabels", "externalURL"):
        assert firing[key] == NOTIFICATION[key]
    alert = NOTIFICATION["alerts"][0]
    for key in ("values", "valueString", "silenceURL", "dashboardURL", "panelURL", "labels"):
        assert firing[key] == alert[key]


def test_dedupe_keys_stable_and_status_sensitive() -> None:
    first, again = deliver(NOTIFICATION), deliver(copy.deepcopy(NOTIFICATION))
    assert [e.dedupekey for e in first] == [e.dedupekey for e in again]
    resolved = copy.deepcopy(NOTIFICATION)
    resolved["alerts"][0]["status"] = "resolved"
    assert deliver(resolved)[0].dedupekey != first[0].dedupekey


def test_retried_delivery_has_the_same_idempotency_key() -> None:
    keys = {idempotency_key(hook(), headers={}, events=deliver(NOTIFICATION)) for _ in range(2)}
    assert len(keys) == 1 and None not in keys


def test_alert_without_fingerprint_gets_one_from_its_labels() -> None:
    old = copy.deepcopy(NOTIFICATION)
    del old["alerts"][0]["fingerprint"]
    subject = deliver(old)[0].subject
    assert subject and subject == deliver(copy.deepcopy(old))[0].subject
    other = copy.deepcopy(old)
    other["alerts"][0]["labels"]["zone"] = "us-2"
    assert deliver(other)[0].subject != subject


def test_alertmanager_payload_sent_to_a_grafana_hook_is_refused() -> None:
    payload = copy.deepcopy(NOTIFICATION)
    payload["version"] = "4"
    with pytest.raises(WebhookError) as info:
        deliver(payload)
    assert (info.value.status, info.value.field) == (400, "version")
    assert 'expected "1"' in info.value.message


def test_legacy_dashboard_alert_payload_is_refused_naming_version() -> None:
    legacy = {"ruleName": "CPU", "state": "alerting", "evalMatches": [], "ruleId": 1}
    with pytest.raises(WebhookError) as info:
        deliver(legacy)
    assert info.value.field == "version"
