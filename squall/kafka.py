"""Kafka plumbing shared by every role: topics, the acknowledged publisher, consumer loops.

The loops embody the delivery rule: a record's offset is committed only after its
handler finished, and the handler returns only after the state it derived is in
MongoDB and the messages it derived were acknowledged by Kafka.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from schemas.bus import Outbound, Topics

log = logging.getLogger(__name__)

#: Pauses before a failed record is tried again: doubling from the first to the cap.
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 30.0

Record: TypeAlias = ConsumerRecord
BatchHandler = Callable[[list[Record]], Awaitable[None]]
RecordHandler = Callable[[Record], Awaitable[None]]


async def ensure_topics(bootstrap: str, topics: Topics, partitions: int) -> None:
    """Create Squall's topics if they do not exist yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics.all() if t not in existing]
        if missing:
            with suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [NewTopic(name, partitions, replication_factor=1) for name in missing]
                )
    finally:
        await admin.close()


class KafkaPublisher:
    """The acknowledged publisher: ``publish`` returns once Kafka has every message."""

    def __init__(self, bootstrap: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", linger_ms=0, max_batch_size=1_048_576
        )

    async def start(self) -> None:
        """Connect to the brokers."""
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and disconnect."""
        await self._producer.stop()

    async def publish(self, messages: Sequence[Outbound]) -> None:
        """Send every message and wait for all acknowledgements (raises KafkaError)."""
        if not messages:
            return
        futures = [
            await self._producer.send(
                m.topic, m.value, key=m.key.encode(), headers=list(m.headers) or None
            )
            for m in messages
        ]
        await asyncio.gather(*futures)


def make_consumer(
    bootstrap: str,
    group: str,
    topics: Sequence[str],
    *,
    fetch_wait_ms: int,
    session_timeout_ms: int,
    **extra: Any,
) -> AIOKafkaConsumer:
    """A consumer-group member with manual commits, reading from the earliest offset."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=fetch_wait_ms,
        session_timeout_ms=session_timeout_ms,
        # Heartbeats well inside the session, so a busy moment never costs the partitions.
        heartbeat_interval_ms=max(100, session_timeout_ms // 4),
        **extra,
    )


async def run_batches(
    consumer: AIOKafkaConsumer, handler: BatchHandler, *, max_records: int
) -> None:
    """Fetch batches, hand each to ``handler``, commit its offsets once it returned.

    A handler that raises leaves the batch uncommitted; the loop seeks back to the
    batch's first offsets so the same records are tried again.
    """
    while True:
        batches = await consumer.getmany(timeout_ms=1000, max_records=max_records)
        records = [r for part in batches.values() for r in part]
        if not records:
            continue
        try:
            await handler(records)
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception:
            log.exception("batch of %d records failed; retrying it", len(records))
            for tp, part in batches.items():
                consumer.seek(tp, part[0].offset)
            await asyncio.sleep(RETRY_FIRST_S)
            continue
        await consumer.commit({tp: part[-1].offset + 1 for tp, part in batches.items()})


class _PartitionProgress:
    """Tracks finished offsets of one partition to find the highest safe commit point."""

    def __init__(self) -> None:
        self.pending: set[int] = set()
        self.done: set[int] = set()
        self.committable: int | None = None

    def start(self, offset: int) -> None:
        self.pending.add(offset)

    def finish(self, offset: int) -> None:
        self.pending.discard(offset)
        self.done.add(offset)
        low = min(self.pending) if self.pending else None
        finished = [o for o in self.done if low is None or o < low]
        if finished:
            self.committable = max(finished) + 1
            self.done.difference_update(finished)


async def run_concurrently(
    consumer: AIOKafkaConsumer, handler: RecordHandler, *, concurrency: int
) -> None:
    """Handle up to ``concurrency`` records at once; commit each partition up to the
    first record still running, so a crash redelivers exactly the unfinished ones.

    A handler that raises (MongoDB or Kafka briefly out of reach) is tried again with
    growing pauses, never skipped: committing past it would lose the record.
    """
    progress: dict[TopicPartition, _PartitionProgress] = {}
    running: set[asyncio.Task[None]] = set()

    async def handle(tp: TopicPartition, record: Record) -> None:
        pause = RETRY_FIRST_S
        while True:
            try:
                await handler(record)
                break
            except Exception:
                log.exception(
                    "%s@%d failed; trying it again in %.1f s", record.topic, record.offset, pause
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY_MAX_S)
        progress[tp].finish(record.offset)

    try:
        while True:
            if len(running) >= concurrency:
                await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            batches = await consumer.getmany(timeout_ms=200, max_records=concurrency - len(running))
            for tp, records in batches.items():
                part = progress.setdefault(tp, _PartitionProgress())
                for record in records:
                    part.start(record.offset)
                    task = asyncio.create_task(handle(tp, record))
                    running.add(task)
                    task.add_done_callback(running.discard)
            await _commit_progress(consumer, progress)
    finally:
        for task in running:
            task.cancel()


async def _commit_progress(
    consumer: AIOKafkaConsumer, progress: dict[TopicPartition, _PartitionProgress]
) -> None:
    offsets = {}
    for tp, part in progress.items():
        if part.committable is not None:
            offsets[tp] = part.committable
            part.committable = None
    if offsets:
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:
            # After a rebalance the partitions belong to someone else, who will
            # redeliver what we did not commit; the claims make that harmless.
            log.warning("offset commit failed (%s); records will be redelivered", exc)
