"""What flows on Kafka: the topic names and the publishing contract every part uses."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from pydantic import Field

from schemas.base import Message, parse_json, utcnow


@dataclass(frozen=True)
class Topics:
    """Squall's topics, all named from one prefix (``SQUALL_TOPIC_PREFIX``)."""

    prefix: str = "squall."

    @property
    def events(self) -> str:
        """CloudEvents from triggers and the engine's lifecycle events."""
        return f"{self.prefix}events"

    @property
    def commands(self) -> str:
        """Commands for the engine, keyed by execution id."""
        return f"{self.prefix}commands"

    @property
    def actions(self) -> str:
        """Action requests for the executors, keyed by action execution id."""
        return f"{self.prefix}actions"

    @property
    def dead_letters(self) -> str:
        """Messages no consumer could decode, with the reason."""
        return f"{self.prefix}deadletters"

    def all(self) -> tuple[str, ...]:
        """Every topic Squall needs to exist."""
        return (self.events, self.commands, self.actions, self.dead_letters)


@dataclass(frozen=True)
class Outbound:
    """One message to publish, with Kafka headers when it carries some."""

    topic: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


class Publisher(Protocol):
    """Publishes messages and returns only once Kafka acknowledged every one of them."""

    async def publish(self, messages: list[Outbound]) -> None:
        """Send all messages; raise if any was not acknowledged."""


class InboundRecord(Protocol):
    """The parts of a consumed Kafka record that handlers read."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


def claimed_project(value: bytes | None) -> str | None:
    """The ``project`` a JSON object names at its top level, if it names one."""
    try:
        data = parse_json(value or b"")
    except ValueError:
        return None
    found = data.get("project") if isinstance(data, dict) else None
    return found if isinstance(found, str) and 0 < len(found) <= 128 else None


@runtime_checkable
class WithHeaders(Protocol):
    """A consumed record's headers (aiokafka's records have them)."""

    @property
    def headers(self) -> Sequence[tuple[str, bytes | None]]: ...


def record_headers(record: InboundRecord) -> list[tuple[str, bytes]]:
    """The record's headers in order, repeats kept (none for a record without any)."""
    if not isinstance(record, WithHeaders):
        return []
    return [(name, raw or b"") for name, raw in record.headers]


class DeadLetter(Message):
    """An undecodable message, kept with the reason and its original bytes."""

    topic: str
    partition: int
    offset: int
    key: str | None = None
    value_b64: str
    #: The record's Kafka headers as (name, base64 value), so a re-drive sends them too.
    headers: list[tuple[str, str]] = Field(default_factory=list)
    error: str
    consumer: str
    #: The project whose letter this is; None when that could not be told, and then
    #: only admins see it.
    project: str | None = Field(default=None, min_length=1, max_length=128)
    at: datetime = Field(default_factory=utcnow)

    @classmethod
    def outbound(
        cls,
        topics: Topics,
        record: InboundRecord,
        error: str,
        consumer: str,
        project: str | None = None,
    ) -> Outbound:
        """The dead-letter message for an undecodable ``record``.

        ``project`` owns the letter; unset, it is the project the record itself names,
        which Squall's own messages do whenever their JSON is intact enough to read it.
        """
        letter = cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key.decode(errors="replace") if record.key is not None else None,
            value_b64=base64.b64encode(record.value or b"").decode(),
            headers=[(n, base64.b64encode(v).decode()) for n, v in record_headers(record)],
            error=error,
            consumer=consumer,
            project=project if project is not None else claimed_project(record.value),
        )
        key = f"{record.topic}:{record.partition}:{record.offset}"
        return Outbound(topics.dead_letters, key, letter.model_dump_json().encode())

    def original(self) -> Outbound:
        """The message as it was first published: topic, key, bytes and headers."""
        return Outbound(
            self.topic,
            self.key or "",
            base64.b64decode(self.value_b64),
            tuple((name, base64.b64decode(value)) for name, value in self.headers),
        )
