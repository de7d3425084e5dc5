"""std.kafka against the real Kafka-protocol broker of the test session."""

from __future__ import annotations

import json
import uuid

from aiokafka import AIOKafkaConsumer

from actions.catalogue import ActionCatalogue, ActionContext, ActionSettings
from squall.embedded import EmbeddedServers


async def test_a_message_is_published_and_acknowledged(servers: EmbeddedServers) -> None:
    topic = f"std-kafka-{uuid.uuid4().hex[:8]}"
    ctx = ActionContext(settings=ActionSettings(kafka_bootstrap=servers.kafka_bootstrap))
    outcome = await ActionCatalogue.default().run(
        "std.kafka",
        {"topic": topic, "value": {"server": "web-1"}, "key": "web-1", "headers": {"h": "v"}},
        ctx,
    )
    assert outcome.state == "SUCCESS", outcome.error
    assert outcome.output["topic"] == topic and outcome.output["offset"] == 0
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=servers.kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        message = await consumer.getone()
    finally:
        await consumer.stop()
    assert json.loads(message.value) == {"server": "web-1"}
    assert message.key == b"web-1"
    assert (("h", b"v")) in list(message.headers)


async def test_squalls_internal_topics_are_refused(servers: EmbeddedServers) -> None:
    settings = ActionSettings(kafka_bootstrap=servers.kafka_bootstrap, kafka_internal_prefix="sq.")
    outcome = await ActionCatalogue.default().run(
        "std.kafka", {"topic": "sq.commands", "value": {}}, ActionContext(settings=settings)
    )
    assert outcome.state == "ERROR"
    assert "internal" in (outcome.error or "")


async def test_without_a_cluster_the_error_says_so() -> None:
    outcome = await ActionCatalogue.default().run(
        "std.kafka", {"topic": "t", "value": 1}, ActionContext()
    )
    assert outcome.state == "ERROR"
    assert "bootstrap_servers" in (outcome.error or "")
