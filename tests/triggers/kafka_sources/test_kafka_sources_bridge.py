"""External topics into the events topic, dead letters, and re-drive, on a real broker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from schemas import CloudEvent
from schemas.bus import Outbound, Topics
from schemas.events import decode_event
from squall.kafka import KafkaPublisher, ensure_topics, make_consumer, run_batches
from squall.settings import Settings
from triggers.kafka_sources import (
    DeadLetterNotFound,
    KafkaBridge,
    KafkaSource,
    list_dead_letters,
    redrive,
)


@pytest.fixture
async def publisher(settings: Settings) -> AsyncIterator[KafkaPublisher]:
    await ensure_topics(settings.kafka_bootstrap or "", Topics(settings.topic_prefix), 1)
    started = KafkaPublisher(settings.kafka_bootstrap or "")
    await started.start()
    yield started
    await started.stop()


async def read(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(20):
            while len(values) < count:
                batch = await consumer.getmany(timeout_ms=500)
                values += [r.value or b"" for part in batch.values() for r in part]
    finally:
        await consumer.stop()
    return values


async def run_bridge(settings: Settings, source: KafkaSource, publisher: KafkaPublisher) -> Any:
    topics = Topics(settings.topic_prefix)
    consumer = make_consumer(
        settings.kafka_bootstrap or "",
        f"{settings.topic_prefix}{source.consumer_group()}",
        [source.topic],
        fetch_wait_ms=5,
        session_timeout_ms=settings.kafka_session_timeout_ms,
    )
    await consumer.start()
    task = asyncio.create_task(
        run_batches(consumer, KafkaBridge(source, publisher, topics).handle, max_records=100)
    )
    return consumer, task


async def test_messages_become_events_and_bad_ones_dead_letters(
    settings: Settings, publisher: KafkaPublisher
) -> None:
    bootstrap, topics = settings.kafka_bootstrap or "", Topics(settings.topic_prefix)
    external = f"{settings.topic_prefix}shop.orders"
    source = KafkaSource(
        name="orders",
        topic=external,
        type="<% $.kind %>",
        subject="{{ _.order }}",
        source="shop",
        project="p1",
    )

    await publisher.publish(
        [
            Outbound(external, "k1", json.dumps({"kind": "order.paid", "order": 7}).encode()),
            Outbound(external, "k2", b"\xff not json"),
            Outbound(external, "k3", json.dumps({"order": 8}).encode()),
        ]
    )
    consumer, task = await run_bridge(settings, source, publisher)
    try:
        (raw,) = await read(bootstrap, topics.events, 1)
        event = decode_event(raw)
        assert (event.type, event.source, event.subject, event.project) == (
            "order.paid",
            "shop",
            "7",
            "p1",
        )
        assert event.data == {"kind": "order.paid", "order": 7}
        letters = await read(bootstrap, topics.dead_letters, 2)
        reasons = sorted(json.loads(v)["error"] for v in letters)
        assert reasons[0].startswith("not JSON") and "type" in reasons[1]
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        await consumer.stop()

    listed = await list_dead_letters(bootstrap, topics)
    assert {x["key"] for x in listed} == {"k2", "k3"}
    bad = next(x for x in listed if x["key"] == "k2")
    assert bad["topic"] == external and bad["consumer"] == "kafka-source:orders"

    sent = await redrive(bootstrap, topics, publisher, [bad["id"]])
    assert sent == [{"id": bad["id"], "topic": external, "key": "k2"}]
    again = await read(bootstrap, external, 4)
    assert again.count(b"\xff not json") == 2
    with pytest.raises(DeadLetterNotFound):
        await redrive(bootstrap, topics, publisher, ["0:999999"])


def test_cloudevents_sources_keep_the_event_and_take_the_project() -> None:
    from triggers.kafka_sources import UnmappableMessage, to_event

    class Rec:
        topic, partition, offset, key = "t", 0, 5, None

        def __init__(self, value: bytes) -> None:
            self.value = value

    source = KafkaSource(name="ce", topic="t", format="cloudevents", project="p2")
    original = CloudEvent(id="e1", source="s", type="x.y")
    event = to_event(source, Rec(original.to_bytes()))
    assert (event.id, event.type, event.project) == ("e1", "x.y", "p2")
    with pytest.raises(UnmappableMessage, match="not a CloudEvent"):
        to_event(source, Rec(b'{"id": "e"}'))


def test_json_events_get_ids_derived_from_their_position() -> None:
    from triggers.kafka_sources import to_event

    class Rec:
        topic, partition, key = "t", 1, b"k"

        def __init__(self, offset: int) -> None:
            self.offset, self.value = offset, b'{"a": 1}'

    source = KafkaSource(name="j", topic="t", type="thing.happened")
    assert to_event(source, Rec(3)).id == to_event(source, Rec(3)).id
    assert to_event(source, Rec(3)).id != to_event(source, Rec(4)).id
    assert to_event(source, Rec(3)).source == "kafka/t"
