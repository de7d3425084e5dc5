"""The CloudEvents Kafka protocol binding: structured and binary content modes.

The mode is read from each message, as the binding says: a ``content-type`` header
starting with ``application/cloudevents`` means structured mode (only the JSON format,
``application/cloudevents+json``, is read); otherwise a message with ``ce_`` headers is
in binary mode: each ``ce_<name>`` header is one attribute (UTF-8 text), the
``content-type`` header is ``datacontenttype`` and the value is the data. A message
with neither is taken as structured JSON, as producers without headers send it.

Binary mode's data is JSON when the content type is JSON (or absent and the value
parses as JSON), text for ``text/*``, and ``data_base64`` otherwise; an empty value is
an event without data. The record's key becomes ``partitionkey`` unless a
``ce_partitionkey`` header carries it (the binding keeps the attribute as sent).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from schemas import CloudEvent
from schemas.base import UndecodableMessage, parse_json
from schemas.bus import InboundRecord, record_headers
from schemas.events import decode_event
from triggers.kafka_sources.config import KafkaSource
from triggers.kafka_sources.errors import UnmappableMessage
from triggers.webhooks.adapters.cloudevents import (
    OCTETS,
    STRUCTURED,
    build_event,
    header_attributes,
    prefixed,
)
from triggers.webhooks.body import is_json
from triggers.webhooks.delivery import parse_content_type
from triggers.webhooks.errors import InvalidPayload

PREFIX = "ce_"
CONTENT_TYPE = "content-type"
_CLOUDEVENTS_MEDIA = "application/cloudevents"


def cloudevent(source: KafkaSource, record: InboundRecord) -> CloudEvent:
    """The event a ``cloudevents`` source's record carries, in the source's project.

    Raises:
        UnmappableMessage: naming the header or attribute at fault.
    """
    headers = _headers(record)
    content_type = _content_type(headers)
    if content_type is not None and content_type.lower().startswith(_CLOUDEVENTS_MEDIA):
        media_type, _ = parse_content_type(content_type)
        if media_type != STRUCTURED:
            raise UnmappableMessage(
                f"content-type: '{media_type}' is not a CloudEvents format Squall reads; "
                f"use {STRUCTURED} or binary mode"
            )
        return _structured(source, record.value or b"")
    if any(name.startswith(PREFIX) for name in headers):
        return _binary(source, record, headers, content_type)
    return _structured(source, record.value or b"")


def _structured(source: KafkaSource, raw: bytes) -> CloudEvent:
    try:
        event = decode_event(raw)
    except UndecodableMessage as exc:
        raise UnmappableMessage(f"not a CloudEvent: {exc}") from None
    return event.model_copy(update={"project": source.project})


def _binary(
    source: KafkaSource,
    record: InboundRecord,
    headers: Mapping[str, bytes],
    content_type: str | None,
) -> CloudEvent:
    try:
        attributes: dict[str, Any] = header_attributes(headers, PREFIX, _header_text)
        key = _utf8(record.key)
        if key and "partitionkey" not in attributes:
            attributes["partitionkey"] = key
        if record.value:
            attributes.update(_data(record.value, content_type))
        return build_event(attributes, prefixed(PREFIX), PREFIX, source.project)
    except InvalidPayload as exc:
        raise UnmappableMessage(exc.message) from None


def _data(value: bytes, content_type: str | None) -> dict[str, Any]:
    """``datacontenttype`` and ``data`` (or ``data_base64``) of a binary-mode value."""
    if content_type is None:
        try:
            return {"data": parse_json(value)}
        except ValueError:
            return {"datacontenttype": OCTETS, "data_base64": _base64(value)}
    media_type, params = parse_content_type(content_type)
    if is_json(media_type):
        try:
            data = parse_json(value)
        except ValueError as exc:
            raise InvalidPayload(
                f"value: not JSON, as content-type {content_type} says: {exc}"
            ) from None
        return {"datacontenttype": content_type, "data": data}
    if media_type.startswith("text/"):
        charset = params.get("charset", "utf-8")
        try:
            text = value.decode(charset)
        except (LookupError, UnicodeDecodeError):
            raise InvalidPayload(f"value: not {charset} text, as content-type says") from None
        return {"datacontenttype": content_type, "data": text}
    return {"datacontenttype": content_type, "data_base64": _base64(value)}


def _headers(record: InboundRecord) -> dict[str, bytes]:
    """The record's headers by lower-case name; a repeated header's last value counts."""
    return {name.lower(): raw for name, raw in record_headers(record)}


def _content_type(headers: Mapping[str, bytes]) -> str | None:
    raw = headers.get(CONTENT_TYPE)
    return None if raw is None else _header_text(raw, CONTENT_TYPE)


def _header_text(raw: bytes, header: str) -> str:
    """A header's value: the binding encodes the ones it defines as UTF-8."""
    text = _utf8(raw)
    if text is None:
        raise UnmappableMessage(f"{header}: header value is not UTF-8")
    return text


def _utf8(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")
