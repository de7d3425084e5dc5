"""Reading the dead-letter topic, and re-driving chosen letters to their original topic.

A letter is named by its position on the dead-letter topic, ``<partition>:<offset>``,
so both listing and re-drive read the topic directly (no copy in MongoDB). Every read
goes through a ``LetterScope``: a caller sees its own project's letters, and only an
admin also sees the letters no project could be told for.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import ValidationError

from schemas.bus import DeadLetter, Publisher, Topics
from triggers.kafka_sources.errors import DeadLetterNotFound

log = logging.getLogger(__name__)

_READ_TIMEOUT_MS = 2000
#: A reader asks for records it knows are there: a broker need not hold the fetch
#: open for more (the default, 500 ms, was paid once per partition and listing).
_FETCH_WAIT_MS = 20
#: Records read per step when looking back through a partition.
_WINDOW = 500
#: How far back a listing looks in each partition, so that one project's flood of
#: letters cannot make another's listing read the whole topic.
MAX_SCAN = 20_000


@dataclass(frozen=True)
class LetterScope:
    """Which letters a caller may see: ``project``'s, and unattributed ones too when
    ``unattributed`` (admins)."""

    project: str
    unattributed: bool = False

    def admits(self, letter: DeadLetter) -> bool:
        """True when the caller may see (and re-drive) ``letter``."""
        if letter.project is None:
            return self.unattributed
        return letter.project == self.project


def letter_id(partition: int, offset: int) -> str:
    """The name of the letter at ``offset`` of dead-letter ``partition``."""
    return f"{partition}:{offset}"


def letter_view(ident: str, letter: DeadLetter) -> dict[str, Any]:
    """A letter as the API shows it: its id and its fields."""
    return {"id": ident, **letter.model_dump(mode="json")}


def _parse(ident: str) -> tuple[int, int]:
    try:
        partition, offset = ident.split(":")
        return int(partition), int(offset)
    except ValueError:
        raise DeadLetterNotFound(
            f"invalid dead-letter id {ident!r}: expected <partition>:<offset>"
        ) from None


def _decode(record: ConsumerRecord[Any, Any]) -> DeadLetter | None:
    try:
        return DeadLetter.model_validate_json(record.value or b"")
    except ValidationError:
        log.warning("dead-letter topic: offset %d is not a dead letter", record.offset)
        return None


async def _consumer(bootstrap: str, topic: str) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=_FETCH_WAIT_MS
    )
    await consumer.start()
    partitions = sorted(consumer.partitions_for_topic(topic) or set())
    return consumer, [TopicPartition(topic, p) for p in partitions]


async def _read_range(
    consumer: AIOKafkaConsumer, tp: TopicPartition, first: int, stop: int
) -> list[ConsumerRecord[Any, Any]]:
    """The records of ``tp`` from offset ``first`` up to (not including) ``stop``."""
    consumer.seek(tp, first)
    found: list[ConsumerRecord[Any, Any]] = []
    while True:
        batch = await consumer.getmany(tp, timeout_ms=_READ_TIMEOUT_MS)
        records = batch.get(tp, [])
        if not records:
            return found
        found += [r for r in records if r.offset < stop]
        if records[-1].offset + 1 >= stop:
            return found


async def _end(consumer: AIOKafkaConsumer, tp: TopicPartition, start: int) -> int:
    """The offset after the last record of ``tp``.

    Some Kafka-compatible brokers (tansu) answer the offset after the *first* record
    of the last batch written, so the records from there on are read to find the end.
    """
    reported = int((await consumer.end_offsets([tp]))[tp])
    if reported <= start:
        return reported
    consumer.seek(tp, reported - 1)
    batch = await consumer.getmany(tp, timeout_ms=_READ_TIMEOUT_MS)
    return max([reported] + [int(r.offset) + 1 for r in batch.get(tp, [])])


async def _read_at(
    consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int
) -> list[ConsumerRecord[Any, Any]]:
    """The record at ``offset`` of ``tp``, if the partition holds that offset (asking
    first, so a wrong id is answered at once rather than after a read times out)."""
    start = (await consumer.beginning_offsets([tp]))[tp]
    if not start <= offset < await _end(consumer, tp, start):
        return []
    return await _read_range(consumer, tp, offset, offset + 1)


async def _latest_in(
    consumer: AIOKafkaConsumer, tp: TopicPartition, limit: int, scope: LetterScope
) -> list[dict[str, Any]]:
    """The latest ``limit`` letters of one partition that ``scope`` admits, looking
    back window by window (at most ``MAX_SCAN`` records)."""
    start = (await consumer.beginning_offsets([tp]))[tp]
    stop = await _end(consumer, tp, start)
    floor = max(start, stop - MAX_SCAN)
    found: list[dict[str, Any]] = []
    while stop > floor and len(found) < limit:
        first = max(floor, stop - _WINDOW)
        window = []
        for record in await _read_range(consumer, tp, first, stop):
            letter = _decode(record)
            if letter is not None and scope.admits(letter):
                window.append(letter_view(letter_id(tp.partition, record.offset), letter))
        found = window + found
        stop = first
    return found[-limit:]


async def list_dead_letters(
    bootstrap: str, topics: Topics, scope: LetterScope, limit: int = 100
) -> list[dict[str, Any]]:
    """The latest ``limit`` letters ``scope`` admits of each dead-letter partition,
    newest first."""
    consumer, parts = await _consumer(bootstrap, topics.dead_letters)
    try:
        if parts:
            consumer.assign(parts)
        found = [v for tp in parts for v in await _latest_in(consumer, tp, limit, scope)]
        found.sort(key=lambda x: x["at"], reverse=True)
        return found
    finally:
        await consumer.stop()


async def read_letters(
    bootstrap: str, topics: Topics, ids: Sequence[str], scope: LetterScope
) -> dict[str, DeadLetter]:
    """The letters named by ``ids``, each read at its exact position.

    Raises:
        DeadLetterNotFound: an id is malformed, names no letter, or names one that
            ``scope`` does not admit (told apart from a missing one by nothing).
    """
    wanted = {ident: _parse(ident) for ident in ids}
    consumer, parts = await _consumer(bootstrap, topics.dead_letters)
    by_partition = {tp.partition: tp for tp in parts}
    try:
        if parts:
            consumer.assign(parts)
        found: dict[str, DeadLetter] = {}
        for ident, (partition, offset) in wanted.items():
            tp = by_partition.get(partition)
            records = [] if tp is None else await _read_at(consumer, tp, offset)
            letter = _decode(records[0]) if records and records[0].offset == offset else None
            if letter is None or not scope.admits(letter):
                raise DeadLetterNotFound(f"no dead letter {ident}")
            found[ident] = letter
        return found
    finally:
        await consumer.stop()


async def redrive(
    bootstrap: str, topics: Topics, publisher: Publisher, ids: Sequence[str], scope: LetterScope
) -> list[dict[str, Any]]:
    """Publish the original bytes of the named letters to their original topics.

    Returns, per letter, where it went. Raises DeadLetterNotFound before sending
    anything if any id names no letter ``scope`` admits.
    """
    letters = await read_letters(bootstrap, topics, ids, scope)
    await publisher.publish([letter.original() for letter in letters.values()])
    return [
        {"id": ident, "topic": letter.topic, "key": letter.key} for ident, letter in letters.items()
    ]
