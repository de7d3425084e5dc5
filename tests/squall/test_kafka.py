"""run_concurrently against the real broker: the per-process limit and the commit rule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from squall.kafka import Record, make_consumer, run_concurrently
from squall.settings import Settings
from tests.harness import wait_for

RECORDS = 24
LIMIT = 3


@pytest.fixture
async def topic(settings: Settings) -> TopicPartition:
    """A one-partition topic holding RECORDS records, offsets 0 to RECORDS - 1."""
    name = f"{settings.topic_prefix}concurrency"
    bootstrap = settings.kafka_bootstrap or ""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for n in range(RECORDS):
            await producer.send_and_wait(name, str(n).encode())
    finally:
        await producer.stop()
    return TopicPartition(name, 0)


@pytest.fixture
async def consumer(settings: Settings, topic: TopicPartition) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = make_consumer(
        settings.kafka_bootstrap or "",
        f"{settings.topic_prefix}test-group",
        [topic.topic],
        fetch_wait_ms=settings.kafka_fetch_wait_ms,
        session_timeout_ms=settings.kafka_session_timeout_ms,
    )
    await consumer.start()
    yield consumer
    await consumer.stop()


async def _running(
    consumer: AIOKafkaConsumer, handler: Callable[[Record], Awaitable[None]]
) -> asyncio.Task[None]:
    return asyncio.create_task(run_concurrently(consumer, handler, concurrency=LIMIT))


async def _all_committed(consumer: AIOKafkaConsumer, topic: TopicPartition) -> None:
    async def committed() -> bool:
        offset: int | None = await consumer.committed(topic)
        return offset == RECORDS

    await wait_for(committed, 20)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


async def test_at_most_the_limit_run_at_once_and_every_record_is_handled(
    consumer: AIOKafkaConsumer, topic: TopicPartition
) -> None:
    handled: list[int] = []
    active, peak = 0, 0
    full = asyncio.Event()

    async def handle(record: Record) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        if active == LIMIT:
            full.set()
        try:
            # The first handlers wait for each other: with a limit below LIMIT this
            # would time out; above it, the peak would show more.
            await asyncio.wait_for(full.wait(), 20)
            await asyncio.sleep(0.01)
            handled.append(record.offset)
        finally:
            active -= 1

    task = await _running(consumer, handle)
    try:

        async def all_handled() -> bool:
            return len(handled) == RECORDS

        await wait_for(all_handled, 60)
        await _all_committed(consumer, topic)
    finally:
        await _stop(task)
    assert sorted(handled) == list(range(RECORDS))
    assert peak == LIMIT


async def test_the_commit_waits_for_the_first_record_still_running(
    consumer: AIOKafkaConsumer, topic: TopicPartition
) -> None:
    handled: set[int] = set()
    first_may_finish = asyncio.Event()
    cancelled: list[int] = []

    async def handle(record: Record) -> None:
        try:
            if record.offset == 0:
                await first_may_finish.wait()
            handled.add(record.offset)
        except asyncio.CancelledError:
            cancelled.append(record.offset)
            raise

    task = await _running(consumer, handle)
    try:

        async def others_handled() -> bool:
            return handled == set(range(1, RECORDS))

        await wait_for(others_handled, 60)
        # Several fetch-and-commit rounds (200 ms each) pass while offset 0 runs.
        await asyncio.sleep(1.0)
        assert await consumer.committed(topic) is None
        first_may_finish.set()
        await _all_committed(consumer, topic)
    finally:
        await _stop(task)
    assert handled == set(range(RECORDS))
    assert cancelled == []


async def test_stopping_cancels_the_handlers_still_running(
    consumer: AIOKafkaConsumer, topic: TopicPartition
) -> None:
    started: list[int] = []
    cancelled: list[int] = []

    async def handle(record: Record) -> None:
        started.append(record.offset)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(record.offset)
            raise

    task = await _running(consumer, handle)

    async def full() -> bool:
        return len(started) == LIMIT

    await wait_for(full, 60)
    await _stop(task)
    await asyncio.sleep(0)
    assert sorted(cancelled) == sorted(started) == [0, 1, 2]
    assert await consumer.committed(topic) is None


async def test_a_record_whose_handler_fails_is_tried_again_not_skipped(
    consumer: AIOKafkaConsumer, topic: TopicPartition
) -> None:
    attempts: dict[int, int] = {}
    handled: set[int] = set()

    async def handle(record: Record) -> None:
        attempts[record.offset] = attempts.get(record.offset, 0) + 1
        if record.offset == 5 and attempts[5] < 3:
            raise ConnectionError("MongoDB is out of reach")
        handled.add(record.offset)

    task = await _running(consumer, handle)
    try:
        await _all_committed(consumer, topic)
    finally:
        await _stop(task)
    assert handled == set(range(RECORDS))
    assert attempts[5] == 3
