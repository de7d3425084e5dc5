"""CloudEvents over HTTP: structured, batched and binary content modes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from schemas.definitions.hooks import Hook
from schemas.events import CloudEvent, decode_event
from triggers.webhooks import WebhookError, idempotency_key, to_events

STRUCTURED = "application/cloudevents+json; charset=utf-8"
BATCH = "application/cloudevents-batch+json"

# Modelled on the examples of the CloudEvents 1.0 JSON format and HTTP binding.
EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "type": "com.example.server.created",
    "source": "/compute/regionOne",
    "subject": "server/4b1c2a10",
    "id": "A234-1234-1234",
    "time": "2024-04-05T17:31:00Z",
    "comexampleextension1": "value",
    "comexampleothervalue": 5,
    "datacontenttype": "application/json",
    "data": {"server_id": "4b1c2a10", "tags": ["backup=daily"]},
}


def hook() -> Hook:
    return Hook(name="ce", adapter="cloudevents", project="ops", secret="s3cret-token")


def send(body: bytes, content_type: str, headers: dict[str, str] | None = None) -> list[CloudEvent]:
    return to_events(
        hook(),
        body=body,
        content_type=content_type.split(";")[0],
        headers={"content-type": content_type, **(headers or {})},
    )


def structured(event: Any) -> list[CloudEvent]:
    return send(json.dumps(event).encode(), STRUCTURED)


def refused(call: Any, *args: Any) -> WebhookError:
    with pytest.raises(WebhookError) as info:
        call(*args)
    return info.value


def binary_headers(**extra: str) -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-type": "com.example.someevent",
        "ce-source": "/mycontext/subcontext",
        "ce-id": "1234-1234-1234",
        **extra,
    }


def test_structured_event_keeps_the_producers_attributes() -> None:
    [event] = structured(EVENT)
    assert (event.id, event.source, event.type, event.subject) == (
        EVENT["id"],
        EVENT["source"],
        EVENT["type"],
        EVENT["subject"],
    )
    assert event.time == datetime(2024, 4, 5, 17, 31, tzinfo=UTC)
    assert event.data == EVENT["data"]
    assert event.project == "ops"
    matchable = event.matchable()
    assert matchable["comexampleextension1"] == "value"
    assert matchable["comexampleothervalue"] == 5
    assert decode_event(event.to_bytes()) == event


def test_producer_cannot_pick_the_project_or_fake_a_replay() -> None:
    [event] = structured(
        {**EVENT, "project": "someone-else", "replayid": "r1", "schemaversion": 99}
    )
    assert event.project == "ops"
    assert event.replayid is None
    assert decode_event(event.to_bytes()).project == "ops"


def test_dedupe_key_from_source_and_id_unless_given() -> None:
    [a] = structured(EVENT)
    [b] = structured(EVENT)
    [c] = structured({**EVENT, "id": "other"})
    [d] = structured({**EVENT, "dedupekey": "server-4b1c2a10"})
    assert a.dedupekey == b.dedupekey != c.dedupekey
    assert d.dedupekey == "server-4b1c2a10"


def test_no_derived_idempotency_key_so_producer_ids_stay() -> None:
    assert idempotency_key(hook(), headers={}, events=structured(EVENT)) is None


def test_data_base64_kept_for_binary_data() -> None:
    payload = base64.b64encode(b"\x00\x01binary").decode()
    event_json = {k: v for k, v in EVENT.items() if k not in ("data", "datacontenttype")}
    [event] = structured({**event_json, "data_base64": payload})
    assert event.data is None
    assert event.matchable()["data_base64"] == payload
    assert event.datacontenttype == "application/octet-stream"
    assert decode_event(event.to_bytes()) == event


def test_batch_gives_one_event_per_entry() -> None:
    second = {**EVENT, "id": "B234", "type": "com.example.server.deleted"}
    events = send(json.dumps([EVENT, second]).encode(), BATCH)
    assert [e.id for e in events] == ["A234-1234-1234", "B234"]
    assert send(b"[]", BATCH) == []


def test_batch_error_names_the_entry() -> None:
    broken = {k: v for k, v in EVENT.items() if k != "type"}
    err = refused(send, json.dumps([EVENT, broken]).encode(), BATCH)
    assert (err.status, err.field) == (400, "[1].type")
    err = refused(send, json.dumps(EVENT).encode(), BATCH)
    assert err.field == "body"


@pytest.mark.parametrize("name", ["specversion", "id", "source", "type"])
def test_required_attribute_missing_is_named(name: str) -> None:
    err = refused(structured, {k: v for k, v in EVENT.items() if k != name})
    assert (err.status, err.field) == (400, name)
    assert "missing" in err.message


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"specversion": "0.3"}, "specversion", 'expected "1.0"'),
        ({"id": ""}, "id", "empty"),
        ({"source": 12}, "source", "a number"),
        ({"time": "yesterday"}, "time", "datetime"),
        ({"time": 1700000000}, "time", "a number"),
        ({"Type": "x"}, "Type", "lower-case"),
        ({"comexampleobject": {"a": 1}}, "comexampleobject", "string, integer or boolean"),
        ({"data_base64": "aGk="}, "data_base64", "not both"),
        ({"data_base64": "***"}, "data_base64", "base64"),
    ],
)
def test_invalid_attribute_is_named(change: dict[str, Any], field: str, words: str) -> None:
    event = {**EVENT, **change}
    if field == "data_base64" and words == "base64":
        del event["data"]
    err = refused(structured, event)
    assert (err.status, err.field) == (400, field)
    assert words in err.message


def test_binary_mode_json_body_is_the_data() -> None:
    headers = binary_headers(
        **{
            "ce-subject": "server/1",
            "ce-time": "2024-04-05T03:56:24Z",
            "ce-comexampleextension1": "value",
        }
    )
    [event] = send(b'{"cpu": 93.2}', "application/json; charset=utf-8", headers)
    assert (event.id, event.type, event.subject) == (
        "1234-1234-1234",
        "com.example.someevent",
        "server/1",
    )
    assert event.data == {"cpu": 93.2}
    assert event.datacontenttype == "application/json; charset=utf-8"
    assert event.matchable()["comexampleextension1"] == "value"


def test_binary_mode_other_data() -> None:
    [text] = send("héllo".encode(), "text/plain; charset=utf-8", binary_headers())
    assert text.data == "héllo"
    [raw] = send(b"\x89PNG\r\n", "image/png", binary_headers())
    assert raw.matchable()["data_base64"] == base64.b64encode(b"\x89PNG\r\n").decode()
    assert raw.datacontenttype == "image/png"
    [empty] = send(b"", "application/octet-stream", binary_headers())
    assert empty.data is None
    assert "data_base64" not in empty.matchable()


def test_binary_mode_header_values_are_percent_decoded() -> None:
    headers = binary_headers(
        **{
            "ce-subject": "Euro%20%E2%82%AC%20%F0%9F%98%80",
            "ce-comexamplequoted": '"a \\"quoted\\" value"',
        }
    )
    [event] = send(b"{}", "application/json", headers)
    assert event.subject == "Euro \u20ac \U0001f600"
    assert event.matchable()["comexamplequoted"] == 'a "quoted" value'


def test_binary_mode_overlong_utf8_refused() -> None:
    err = refused(send, b"{}", "application/json", binary_headers(**{"ce-subject": "%C0%A0"}))
    assert (err.status, err.field) == (400, "ce-subject")


@pytest.mark.parametrize("name", ["ce-specversion", "ce-id", "ce-source", "ce-type"])
def test_binary_mode_missing_header_named(name: str) -> None:
    headers = binary_headers()
    del headers[name]
    if name == "ce-specversion":
        headers["ce-comexample"] = "x"
    err = refused(send, b"{}", "application/json", headers)
    assert (err.status, err.field) == (400, name)


def test_binary_mode_refuses_ce_datacontenttype() -> None:
    headers = binary_headers(**{"ce-datacontenttype": "application/json"})
    err = refused(send, b"{}", "application/json", headers)
    assert err.field == "ce-datacontenttype"


def test_not_a_cloudevent_at_all() -> None:
    err = refused(send, b"{}", "application/json")
    assert err.status == 400
    assert "application/cloudevents+json" in err.message


def test_other_cloudevents_formats_unsupported() -> None:
    err = refused(send, b"<event/>", "application/cloudevents+xml")
    assert err.status == 415
