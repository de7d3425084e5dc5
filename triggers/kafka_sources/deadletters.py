"""Reading the dead-letter topic, and re-driving chosen letters to their original topic.

A letter is named by its position on the dead-letter topic, ``<partition>:<offset>``,
so both listing and re-drive read the topic directly (no copy in MongoDB).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.bus import DeadLetter, Publisher, Topics
from triggers.kafka_sources.errors import DeadLetterNotFound

_READ_TIMEOUT_MS = 2000


def letter_id(partition: int, offset: int) -> str:
    """The name of the letter at ``offset`` of dead-letter ``partition``."""
    return f"{partition}:{offset}"


def _parse(ident: str) -> tuple[int, int]:
    try:
        partition, offset = ident.split(":")
        return int(partition), int(offset)
    except ValueError:
        raise DeadLetterNotFound(
            f"invalid dead-letter id {ident!r}: expected <partition>:<offset>"
        ) from None


async def _consumer(bootstrap: str, topic: str) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    partitions = sorted(consumer.partitions_for_topic(topic) or set())
    parts = [TopicPartition(topic, p) for p in partitions]
    if parts:
        consumer.assign(parts)
    return consumer, parts


async def list_dead_letters(
    bootstrap: str, topics: Topics, limit: int = 100
) -> list[dict[str, Any]]:
    """The latest ``limit`` letters of each dead-letter partition, newest first."""
    consumer, parts = await _consumer(bootstrap, topics.dead_letters)
    try:
        if not parts:
            return []
        ends = await consumer.end_offsets(parts)
        starts = await consumer.beginning_offsets(parts)
        for tp in parts:
            consumer.seek(tp, max(starts[tp], ends[tp] - limit))
        found: list[dict[str, Any]] = []
        pending = {tp for tp in parts if ends[tp] > max(starts[tp], ends[tp] - limit)}
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=_READ_TIMEOUT_MS)
            if not batch:
                break
            for tp, records in batch.items():
                for record in records:
                    letter = DeadLetter.model_validate_json(record.value or b"")
                    found.append(
                        {
                            "id": letter_id(tp.partition, record.offset),
                            **letter.model_dump(mode="json"),
                        }
                    )
                    if record.offset + 1 >= ends[tp]:
                        pending.discard(tp)
        found.sort(key=lambda x: x["at"], reverse=True)
        return found
    finally:
        await consumer.stop()


async def read_letters(bootstrap: str, topics: Topics, ids: Sequence[str]) -> dict[str, DeadLetter]:
    """The letters named by ``ids``, each read at its exact position.

    Raises:
        DeadLetterNotFound: an id is malformed or names no letter.
    """
    wanted = {ident: _parse(ident) for ident in ids}
    consumer, parts = await _consumer(bootstrap, topics.dead_letters)
    by_partition = {tp.partition: tp for tp in parts}
    try:
        found: dict[str, DeadLetter] = {}
        for ident, (partition, offset) in wanted.items():
            tp = by_partition.get(partition)
            if tp is None:
                raise DeadLetterNotFound(f"dead letter {ident}: no partition {partition}")
            consumer.seek(tp, offset)
            batch = await consumer.getmany(tp, timeout_ms=_READ_TIMEOUT_MS, max_records=1)
            records = batch.get(tp, [])
            if not records or records[0].offset != offset:
                raise DeadLetterNotFound(f"dead letter {ident}: no message at that offset")
            found[ident] = DeadLetter.model_validate_json(records[0].value or b"")
        return found
    finally:
        await consumer.stop()


async def redrive(
    bootstrap: str, topics: Topics, publisher: Publisher, ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Publish the original bytes of the named letters to their original topics.

    Returns, per letter, where it went. Raises DeadLetterNotFound before sending
    anything if any id names no letter.
    """
    letters = await read_letters(bootstrap, topics, ids)
    await publisher.publish([letter.original() for letter in letters.values()])
    return [
        {"id": ident, "topic": letter.topic, "key": letter.key} for ident, letter in letters.items()
    ]
