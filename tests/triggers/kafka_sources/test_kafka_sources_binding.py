"""CloudEvents from Kafka sources by the Kafka protocol binding: binary and structured mode."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from hypothesis import given
from hypothesis import strategies as st

from schemas import CloudEvent
from schemas.bus import Topics
from schemas.events import decode_event
from squall.kafka import KafkaPublisher
from squall.settings import Settings
from tests.triggers.kafka_sources.kafka_sources_support import (
    Rec,
    read,
    running_bridge,
)
from triggers.kafka_sources import (
    KafkaSource,
    LetterScope,
    UnmappableMessage,
    list_dead_letters,
    redrive,
    to_event,
)

SOURCE = KafkaSource(name="ce", topic="orders", format="cloudevents", project="shop")
Headers = list[tuple[str, bytes]]


def ce_headers(**extra: str) -> Headers:
    """Binary-mode headers, modelled on the binding's example."""
    attributes = {
        "specversion": "1.0",
        "type": "com.example.someevent",
        "source": "/mycontext/subcontext",
        "id": "1234-1234-1234",
        **extra,
    }
    return [(f"ce_{name}", value.encode()) for name, value in attributes.items()]


def convert(value: bytes | None, headers: Headers, key: bytes | None = None) -> CloudEvent:
    return to_event(SOURCE, Rec(value, headers, key))


def refusal(value: bytes | None, headers: Headers) -> str:
    with pytest.raises(UnmappableMessage) as info:
        convert(value, headers)
    return str(info.value)


def test_binary_mode_attributes_come_from_ce_headers_and_data_from_the_value() -> None:
    headers = ce_headers(subject="order/7", time="2018-04-05T03:56:24Z", comexampleext="x")
    headers.append(("content-type", b"application/json"))
    event = convert(b'{"order": 7}', headers, key=b"customer-3")
    assert (event.id, event.source, event.type, event.subject) == (
        "1234-1234-1234",
        "/mycontext/subcontext",
        "com.example.someevent",
        "order/7",
    )
    assert event.time == datetime(2018, 4, 5, 3, 56, 24, tzinfo=UTC)
    assert event.datacontenttype == "application/json" and event.data == {"order": 7}
    assert event.project == "shop"
    extra = event.model_extra or {}
    assert extra["comexampleext"] == "x" and extra["partitionkey"] == "customer-3"


def test_the_partitionkey_header_is_kept_over_the_record_key() -> None:
    event = convert(None, ce_headers(partitionkey="from-header"), key=b"from-key")
    assert (event.model_extra or {})["partitionkey"] == "from-header"


def test_text_data_is_kept_as_text_and_other_data_as_base64() -> None:
    text = convert("héllo".encode(), [*ce_headers(), ("content-type", b"text/plain")])
    assert (text.data, text.datacontenttype) == ("héllo", "text/plain")
    avro = convert(b"\x00\x01\xff", [*ce_headers(), ("content-type", b"application/avro")])
    assert avro.data is None and avro.datacontenttype == "application/avro"
    assert base64.b64decode((avro.model_extra or {})["data_base64"]) == b"\x00\x01\xff"


def test_without_a_content_type_json_is_data_and_other_bytes_are_octets() -> None:
    assert convert(b"[1, 2]", ce_headers()).data == [1, 2]
    raw = convert(b"\xfe\xff", ce_headers())
    assert raw.datacontenttype == "application/octet-stream"
    assert (raw.model_extra or {})["data_base64"] == base64.b64encode(b"\xfe\xff").decode()


def test_a_binary_event_without_a_value_has_no_data() -> None:
    assert convert(None, ce_headers()).data is None


@pytest.mark.parametrize("missing", ["specversion", "id", "source", "type"])
def test_a_missing_required_attribute_names_its_header(missing: str) -> None:
    headers = [h for h in ce_headers() if h[0] != f"ce_{missing}"]
    assert refusal(b"{}", headers).startswith(f"ce_{missing}: required attribute is missing")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (ce_headers(specversion="0.3"), 'ce_specversion: expected "1.0"'),
        (ce_headers(datacontenttype="text/plain"), "ce_datacontenttype: binary mode carries"),
        (ce_headers(**{"Bad-Name": "x"}), "ce_bad-name: attribute names are lower-case"),
        ([*ce_headers(), ("ce_subject", b"\xff")], "ce_subject: header value is not UTF-8"),
        (ce_headers(time="yesterday"), "ce_time: "),
    ],
)
def test_bad_binary_headers_are_named(headers: Headers, expected: str) -> None:
    assert refusal(None, headers).startswith(expected)


def test_a_value_that_contradicts_its_json_content_type_is_refused() -> None:
    headers = [*ce_headers(), ("content-type", b"application/json; charset=utf-8")]
    assert refusal(b"not json", headers).startswith("value: not JSON")


def test_headers_the_binding_does_not_define_may_hold_any_bytes() -> None:
    event = convert(b"{}", [*ce_headers(), ("traceparent-bin", b"\xff\x00")])
    assert event.id == "1234-1234-1234"


def test_a_cloudevents_content_type_means_structured_mode_whatever_the_headers() -> None:
    original = CloudEvent(id="e1", source="s", type="x.y", data={"a": 1})
    headers = [*ce_headers(), ("content-type", b"application/cloudevents+json; charset=UTF-8")]
    event = convert(original.to_bytes(), headers)
    assert (event.id, event.type, event.data, event.project) == ("e1", "x.y", {"a": 1}, "shop")
    refused = refusal(original.to_bytes(), [("content-type", b"application/cloudevents+avro")])
    assert refused.startswith("content-type: 'application/cloudevents+avro' is not")


def test_a_message_without_headers_is_read_as_structured_json() -> None:
    assert convert(CloudEvent(id="e2", source="s", type="t").to_bytes(), []).id == "e2"


@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9]{0,19}", fullmatch=True).filter(
            lambda n: n not in CloudEvent.model_fields and n not in ("data_base64", "partitionkey")
        ),
        st.text(st.characters(codec="utf-8"), max_size=50),
        max_size=8,
    )
)
def test_extension_headers_become_extension_attributes(extensions: dict[str, str]) -> None:
    event = convert(None, ce_headers(**extensions))
    assert {k: (event.model_extra or {})[k] for k in extensions} == extensions


async def test_binary_and_structured_messages_on_a_real_topic(
    settings: Settings, publisher: KafkaPublisher
) -> None:
    bootstrap, topics = settings.kafka_bootstrap or "", Topics(settings.topic_prefix)
    external = f"{settings.topic_prefix}ext.ce"
    source = KafkaSource(name="ce", topic=external, format="cloudevents", project="p3")
    structured = CloudEvent(id="s-1", source="/shop", type="order.shipped", data={"n": 2})
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key, value, headers in [
            (b"k-b", b'{"n": 1}', [*ce_headers(id="b-1"), ("content-type", b"application/json")]),
            (None, structured.to_bytes(), [("content-type", b"application/cloudevents+json")]),
            (b"k-bad", b"{}", [h for h in ce_headers(id="b-2") if h[0] != "ce_type"]),
        ]:
            await producer.send_and_wait(external, value, key=key, headers=headers)
    finally:
        await producer.stop()

    async with running_bridge(settings, source, publisher):
        events = {e.id: e for e in map(decode_event, await read(bootstrap, topics.events, 2))}
        (letter,) = [json.loads(v) for v in await read(bootstrap, topics.dead_letters, 1)]
    assert set(events) == {"b-1", "s-1"}
    assert events["b-1"].data == {"n": 1} and events["s-1"].data == {"n": 2}
    assert (events["b-1"].model_extra or {})["partitionkey"] == "k-b"
    assert {e.project for e in events.values()} == {"p3"}
    assert letter["key"] == "k-bad"
    assert letter["error"] == "ce_type: required attribute is missing"

    # A re-drive sends the letter's headers again: binary mode survives the round trip.
    (listed,) = await list_dead_letters(bootstrap, topics, LetterScope("p3"))
    await redrive(bootstrap, topics, publisher, [listed["id"]], LetterScope("p3"))
    consumer = AIOKafkaConsumer(external, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        records = [r async for r in _first(consumer, 4)]
    finally:
        await consumer.stop()
    first, again = (r for r in records if r.key == b"k-bad")
    assert again.value == first.value and list(again.headers) == list(first.headers)


async def _first(consumer: AIOKafkaConsumer, count: int) -> AsyncIterator[ConsumerRecord]:
    async with asyncio.timeout(20):
        for _ in range(count):
            yield await consumer.getone()


#: Valid JSON nested deeper than Python's parser can follow.
DEEP = b"[" * 100_000 + b"]" * 100_000


def test_a_value_nested_too_deeply_is_refused_as_unmappable_not_raised() -> None:
    # Raised otherwise, the bridge would retry the record forever instead of
    # dead-lettering it.
    headers = ce_headers()
    headers.append(("content-type", b"application/json"))
    assert "nested too deeply" in refusal(DEEP, headers)
    json_source = KafkaSource(name="plain", topic="orders", project="shop")
    with pytest.raises(UnmappableMessage, match="nested too deeply"):
        to_event(json_source, Rec(DEEP))
