"""Shared helpers for the timer integration tests: Kafka wiring, running services, reading."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from pymongo.asynchronous.database import AsyncDatabase

from schemas.bus import Topics
from schemas.definitions import Timer
from squall.kafka import KafkaPublisher, ensure_topics
from squall.settings import Settings
from triggers.timers import TimerService

Timers = Mapping[tuple[str, str], Timer]


def make_timer(name: str, **spec: Any) -> Timer:
    """A timer definition as the definitions file would give it."""
    spec.setdefault("event", {"type": "tick", "data": {"n": 1}})
    return Timer.model_validate({"name": name, **spec})


@asynccontextmanager
async def kafka(settings: Settings) -> AsyncIterator[tuple[KafkaPublisher, Topics]]:
    """This test's topics and a started publisher."""
    topics = Topics(settings.topic_prefix)
    await ensure_topics(settings.kafka_bootstrap or "", topics, settings.topic_partitions)
    publisher = KafkaPublisher(settings.kafka_bootstrap or "")
    await publisher.start()
    try:
        yield publisher, topics
    finally:
        await publisher.stop()


@asynccontextmanager
async def services(
    count: int,
    db: AsyncDatabase[dict[str, Any]],
    timers: Callable[[], Timers],
    publisher: KafkaPublisher,
    topics: Topics,
    stale_claim_s: float = 30.0,
) -> AsyncIterator[None]:
    """Run ``count`` timer services side by side for the duration of the block."""
    tasks = [
        asyncio.create_task(
            TimerService(
                db, timers, publisher, topics, owner=f"svc{i}", stale_claim_s=stale_claim_s
            ).run()
        )
        for i in range(count)
    ]
    try:
        yield
        for task in tasks:
            assert not task.done(), task.exception()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task


async def read_topic(bootstrap: str, topic: str, quiet_s: float = 1.5) -> list[ConsumerRecord]:
    """Every record on ``topic``, read until nothing new arrived for ``quiet_s``."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        last_new = time.monotonic()
        while time.monotonic() - last_new < quiet_s:
            batches = await consumer.getmany(timeout_ms=300)
            for batch in batches.values():
                records.extend(batch)
                last_new = time.monotonic()
    finally:
        await consumer.stop()
    return records


def events(records: list[ConsumerRecord]) -> list[dict[str, Any]]:
    """The decoded CloudEvents."""
    return [json.loads(record.value) for record in records]
