"""The event envelope: CloudEvents 1.0 in structured JSON mode."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, ValidationError

from schemas.base import SCHEMA_VERSION, Message, UndecodableMessage, describe_error, utcnow


class CloudEvent(Message):
    """One event on the events topic.

    The CloudEvents context attributes keep their spec names. Squall's own extension
    attributes (lower-case letters and digits only, as the spec requires) say which
    project owns the event, how to recognise a repeat of it, and whether it is a replay.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    specversion: str = Field(default="1.0", pattern=r"^1\.0$")
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=256)
    source: str = Field(min_length=1, max_length=1024)
    type: str = Field(min_length=1, max_length=256)
    subject: str | None = Field(default=None, max_length=1024)
    time: datetime = Field(default_factory=utcnow)
    datacontenttype: str | None = "application/json"
    data: Any = None
    project: str = Field(default="default", min_length=1, max_length=128)
    dedupekey: str | None = Field(default=None, max_length=1024)
    replayid: str | None = None
    schemaversion: int = SCHEMA_VERSION

    def to_bytes(self) -> bytes:
        """Serialise in CloudEvents structured JSON mode."""
        return self.model_dump_json(exclude_none=True).encode()

    def matchable(self) -> dict[str, Any]:
        """The event as rule patterns and expressions see it: plain JSON-like values."""
        return self.model_dump(mode="json", exclude_none=True)


def decode_event(raw: bytes) -> CloudEvent:
    """Parse one events-topic message, raising UndecodableMessage with the reason."""
    try:
        event = CloudEvent.model_validate_json(raw)
    except ValidationError as exc:
        raise UndecodableMessage(describe_error(exc)) from None
    if event.schemaversion != SCHEMA_VERSION:
        raise UndecodableMessage(f"unknown schemaversion {event.schemaversion}")
    return event
