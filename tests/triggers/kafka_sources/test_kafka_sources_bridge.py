"""External topics into the events topic, dead letters, and re-drive, on a real broker."""

from __future__ import annotations

import json

import pytest

from schemas import CloudEvent
from schemas.bus import Outbound, Topics
from schemas.events import decode_event
from squall.kafka import KafkaPublisher
from squall.settings import Settings
from tests.triggers.kafka_sources.kafka_sources_support import (
    read,
    running_bridge,
)
from triggers.kafka_sources import (
    DeadLetterNotFound,
    KafkaSource,
    LetterScope,
    list_dead_letters,
    redrive,
)


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
            # A message cannot choose whose letter it becomes.
            Outbound(external, "k3", json.dumps({"order": 8, "project": "p2"}).encode()),
        ]
    )
    async with running_bridge(settings, source, publisher):
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

    p1 = LetterScope("p1")
    listed = await list_dead_letters(bootstrap, topics, p1)
    assert {(x["key"], x["project"]) for x in listed} == {("k2", "p1"), ("k3", "p1")}
    bad = next(x for x in listed if x["key"] == "k2")
    assert bad["topic"] == external and bad["consumer"] == "kafka-source:orders"
    assert await list_dead_letters(bootstrap, topics, LetterScope("p2", unattributed=True)) == []
    with pytest.raises(DeadLetterNotFound):
        await redrive(bootstrap, topics, publisher, [bad["id"]], LetterScope("p2"))

    sent = await redrive(bootstrap, topics, publisher, [bad["id"]], p1)
    assert sent == [{"id": bad["id"], "topic": external, "key": "k2"}]
    again = await read(bootstrap, external, 4)
    assert again.count(b"\xff not json") == 2
    with pytest.raises(DeadLetterNotFound):
        await redrive(bootstrap, topics, publisher, ["0:999999"], p1)


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
