"""One consumed message → one CloudEvent, by the source's mapping."""

from __future__ import annotations

from typing import Any

from engine.expressions import ExpressionError, evaluate
from schemas import CloudEvent
from schemas.base import parse_json
from schemas.bus import InboundRecord
from schemas.ids import derive_id
from triggers.kafka_sources.binding import cloudevent
from triggers.kafka_sources.config import KafkaSource
from triggers.kafka_sources.errors import UnmappableMessage


def to_event(source: KafkaSource, record: InboundRecord) -> CloudEvent:
    """The event for ``record``.

    Raises:
        UnmappableMessage: the message is too large, not JSON, not a CloudEvent in
            structured or binary mode (for ``cloudevents``), or a mapping expression
            failed or gave a wrong value.
    """
    raw = record.value or b""
    if len(raw) > source.max_message_bytes:
        raise UnmappableMessage(f"message of {len(raw)} bytes exceeds {source.max_message_bytes}")
    if source.format == "cloudevents":
        return cloudevent(source, record)
    try:
        body = parse_json(raw)
    except ValueError as exc:
        raise UnmappableMessage(f"not JSON: {exc}") from None
    context = {
        **(body if isinstance(body, dict) else {}),
        "kafka": {
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "key": record.key.decode(errors="replace") if record.key is not None else None,
        },
    }
    if not isinstance(body, dict):
        context["_"] = body
    fields: dict[str, Any] = {
        "id": _text(source, "id", context)
        or derive_id("kafka", record.topic, record.partition, record.offset),
        "source": _text(source, "source", context) or f"kafka/{record.topic}",
        "type": _text(source, "type", context),
        "subject": _text(source, "subject", context),
        "data": _value(source, "data", context) if source.data else body,
        "project": source.project,
    }
    if not fields["type"]:
        raise UnmappableMessage("type: the mapping gave no event type")
    try:
        return CloudEvent.model_validate(fields)
    except ValueError as exc:
        raise UnmappableMessage(f"mapped event is invalid: {exc}") from None


def _value(source: KafkaSource, field: str, context: dict[str, Any]) -> Any:
    expression = getattr(source, field)
    if expression is None:
        return None
    try:
        return evaluate(expression, context)
    except ExpressionError as exc:
        raise UnmappableMessage(f"{field}: {exc}") from None


def _text(source: KafkaSource, field: str, context: dict[str, Any]) -> str | None:
    value = _value(source, field, context)
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise UnmappableMessage(f"{field}: expected a text value, got {type(value).__name__}")
    return str(value)
