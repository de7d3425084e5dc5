"""Shared helpers for the Kafka source tests: a record, reading a topic, a running bridge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer

from schemas.bus import Topics
from squall.kafka import KafkaPublisher, make_consumer, run_batches
from squall.settings import Settings
from triggers.kafka_sources import KafkaBridge, KafkaSource


@dataclass
class Rec:
    """A consumed record as aiokafka hands it over."""

    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]] = field(default_factory=list)
    key: bytes | None = None
    topic: str = "orders"
    partition: int = 0
    offset: int = 0


async def read(bootstrap: str, topic: str, count: int) -> list[bytes]:
    """The values of the first ``count`` records of ``topic``, waiting up to 20 s for them."""
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


@asynccontextmanager
async def running_bridge(
    settings: Settings, source: KafkaSource, publisher: KafkaPublisher
) -> AsyncIterator[None]:
    """The source's bridge consuming in the background until the block ends."""
    consumer = make_consumer(
        settings.kafka_bootstrap or "",
        f"{settings.topic_prefix}{source.consumer_group()}",
        [source.topic],
        fetch_wait_ms=5,
        session_timeout_ms=settings.kafka_session_timeout_ms,
    )
    await consumer.start()
    bridge = KafkaBridge(source, publisher, Topics(settings.topic_prefix))
    task = asyncio.create_task(run_batches(consumer, bridge.handle, max_records=100))
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        await consumer.stop()
