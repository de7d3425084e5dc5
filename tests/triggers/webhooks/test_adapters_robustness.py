"""Whatever a sender posts, adapters answer with events or a WebhookError, nothing else."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.definitions.hooks import Adapter, Hook
from schemas.events import decode_event
from triggers.webhooks import WebhookError, idempotency_key, to_events

ADAPTER_NAMES: list[Adapter] = ["generic", "cloudevents", "alertmanager", "grafana", "aodh"]
CONTENT_TYPES = [
    "application/json",
    "application/cloudevents+json",
    "application/cloudevents-batch+json",
    "application/x-www-form-urlencoded",
    "text/plain",
    "text/plain; charset=utf-16",
    "application/octet-stream",
    "",
]
CE_HEADERS = st.dictionaries(
    st.sampled_from(["ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time", "ce-x"]),
    st.text(max_size=12),
    max_size=6,
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda c: (
        st.lists(c, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "version",
                    "alerts",
                    "status",
                    "startsAt",
                    "fingerprint",
                    "labels",
                    "alarm_id",
                    "current",
                    "previous",
                    "specversion",
                    "id",
                    "source",
                    "type",
                    "time",
                    "data",
                    "data_base64",
                ]
            )
            | st.text(max_size=6),
            c,
            max_size=5,
        )
    ),
    max_leaves=25,
)


def check(adapter: Adapter, body: bytes, content_type: str, headers: dict[str, str]) -> None:
    hook = Hook(name="fuzz", adapter=adapter, secret="s3cret-token")
    try:
        events = to_events(
            hook,
            body=body,
            content_type=content_type.split(";")[0],
            headers={"content-type": content_type, **headers},
        )
        idempotency_key(hook, headers=headers, events=events)
    except WebhookError as exc:
        assert exc.status in (400, 415)
        assert exc.message
        return
    for event in events:
        assert decode_event(event.to_bytes()) == event


@settings(max_examples=300)
@given(
    st.sampled_from(ADAPTER_NAMES),
    st.binary(max_size=200),
    st.sampled_from(CONTENT_TYPES),
    CE_HEADERS,
)
def test_random_bytes_only_ever_raise_webhook_errors(
    adapter: Adapter, body: bytes, content_type: str, headers: dict[str, str]
) -> None:
    check(adapter, body, content_type, headers)


@settings(max_examples=300)
@given(st.sampled_from(ADAPTER_NAMES), JSONISH, st.sampled_from(CONTENT_TYPES[:3]), CE_HEADERS)
def test_random_json_only_ever_raises_webhook_errors(
    adapter: Adapter, payload: Any, content_type: str, headers: dict[str, str]
) -> None:
    check(adapter, json.dumps(payload).encode(), content_type, headers)
