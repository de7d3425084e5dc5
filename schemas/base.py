"""The base every message model shares: strict, frozen, versioned."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationError

#: Version of the message contracts. A consumer refuses (dead-letters) a message whose
#: version it does not know instead of guessing at its meaning.
SCHEMA_VERSION: Final = 1


class Message(BaseModel):
    """A message exchanged over Kafka: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def parse_json(text: str | bytes) -> Any:
    """``json.loads``, except that text nested too deeply for the parser is the
    ValueError any other malformed text gives, not a RecursionError that would escape
    the callers' handling of bad input (as a 500, or a Kafka record retried forever)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply to parse") from None


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the only kind Squall stores)."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` timezone-aware: a naive time (as MongoDB clients not opened with
    ``tz_aware=True`` and ISO texts without an offset give them) is taken as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class UndecodableMessage(ValueError):
    """A Kafka message that is not a valid instance of the contract it was read as."""


def describe_error(exc: ValidationError) -> str:
    """One line naming the first invalid field and what was expected of it."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "message"
    return f"{where}: {err['msg']}"
