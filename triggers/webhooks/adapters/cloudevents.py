"""CloudEvents 1.0 over HTTP: structured, batched and binary content modes.

Producers keep their ``id``, ``source``, ``type``, ``subject``, ``time`` and extension
attributes. The project is always the hook's. Squall's own extensions ``project``,
``replayid`` and ``schemaversion`` are Squall's to set and are dropped when a producer
sends them; a producer may set ``dedupekey``, otherwise it is derived from ``source``
and ``id`` (which the spec makes unique per event). No delivery key is derived: a
receiver that re-keys a delivery replaces event ids, and CloudEvents producers own theirs.

Kafka sources read binary mode with the same attribute mapping (``header_attributes``
and ``build_event``), with the Kafka binding's ``ce_`` prefix and UTF-8 header values.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import unquote_to_bytes

from schemas.events import CloudEvent
from triggers.webhooks.body import is_json, json_value, text_value
from triggers.webhooks.delivery import Adapter, Delivery, new_event, stable_key
from triggers.webhooks.errors import InvalidPayload, UnsupportedMediaType
from triggers.webhooks.fields import as_list, as_object, kind, path

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
HEADER_PREFIX = "ce-"
SPECVERSION = "1.0"
#: The media type of base64 data whose producer did not say what it is.
OCTETS = "application/octet-stream"
REQUIRED = ("id", "source", "type")
#: Context attributes whose value must be a string in the JSON format.
STRING_ATTRIBUTES = frozenset(
    {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema"}
)
SQUALL_ONLY = frozenset({"project", "replayid", "schemaversion"})
_NAME = re.compile(r"[a-z0-9]+")
_QUOTED_PAIR = re.compile(r"\\(.)")

#: Names an attribute as the sender wrote it: ``ce-id`` (binary) or ``[2].id`` (batch).
FieldName = Callable[[str], str]
#: A header's value as a transport hands it over (text for HTTP, bytes for Kafka).
Value = TypeVar("Value")


def convert(delivery: Delivery) -> list[CloudEvent]:
    """The events of a structured, batched or binary-mode delivery."""
    media_type = delivery.media_type
    if media_type == STRUCTURED:
        return [_structured(delivery, json_value(delivery), "")]
    if media_type == BATCH:
        items = as_list(json_value(delivery), "body")
        return [_structured(delivery, item, path("", i)) for i, item in enumerate(items)]
    if media_type.startswith("application/cloudevents"):
        raise UnsupportedMediaType(
            f"'{media_type}' is not a CloudEvents format Squall reads; "
            f"use {STRUCTURED}, {BATCH}, or binary mode"
        )
    if not any(name.startswith(HEADER_PREFIX) for name in delivery.headers):
        raise InvalidPayload(
            f"not a CloudEvent: expected Content-Type {STRUCTURED} or {BATCH}, or binary "
            "mode's ce-specversion, ce-id, ce-source and ce-type headers",
            "ce-specversion",
        )
    return [_binary(delivery)]


def delivery_key(headers: Mapping[str, str], events: Sequence[CloudEvent]) -> str | None:
    """None: CloudEvents are recognised by their own ``source`` and ``id``."""
    return None


def _structured(delivery: Delivery, value: object, where: str) -> CloudEvent:
    def field(name: str) -> str:
        return path(where, name)

    event = as_object(value, where or "body")
    attributes: dict[str, Any] = {}
    for name, attr in event.items():
        if name in ("data", "data_base64") or attr is None:
            continue
        _check_name(name, field(name))
        if isinstance(attr, bool | int | str):
            attributes[name] = attr
        else:
            raise InvalidPayload(
                f"{field(name)}: expected a string, integer or boolean, got {kind(attr)}",
                field(name),
            )
    if event.get("data") is not None and event.get("data_base64") is not None:
        raise InvalidPayload(
            f"{field('data_base64')}: an event has data or data_base64, not both",
            field("data_base64"),
        )
    if event.get("data_base64") is not None:
        attributes["data_base64"] = _base64(event["data_base64"], field("data_base64"))
        attributes.setdefault("datacontenttype", OCTETS)
    elif "data" in event:
        attributes["data"] = event["data"]
    return build_event(attributes, field, f"{where}." if where else "", delivery.hook.project)


def _binary(delivery: Delivery) -> CloudEvent:
    attributes: dict[str, Any] = header_attributes(delivery.headers, HEADER_PREFIX, _header_value)
    if delivery.body:
        attributes["datacontenttype"] = delivery.content_type
        if is_json(delivery.media_type):
            attributes["data"] = json_value(delivery)
        elif delivery.media_type.startswith("text/"):
            attributes["data"] = text_value(delivery)
        else:
            attributes["data_base64"] = base64.b64encode(delivery.body).decode("ascii")
    return build_event(attributes, prefixed(HEADER_PREFIX), HEADER_PREFIX, delivery.hook.project)


def header_attributes(
    headers: Mapping[str, Value], prefix: str, decode: Callable[[Value, str], str]
) -> dict[str, str]:
    """The context attributes a binary-mode message carries as ``<prefix><name>`` headers.

    ``headers`` has lower-case names; other headers are ignored. ``decode`` turns a
    value into the attribute's text (each protocol binding encodes it its own way),
    given the header's name for its error. The data's media type travels as the
    message's content type, never as a prefixed header.

    Raises:
        InvalidPayload: naming the header whose name or value is not acceptable.
    """
    attributes: dict[str, str] = {}
    for header, raw in headers.items():
        if not header.startswith(prefix):
            continue
        name = header[len(prefix) :]
        _check_name(name, header)
        if name == "datacontenttype":
            raise InvalidPayload(
                f"{header}: binary mode carries the data's media type as the content type", header
            )
        attributes[name] = decode(raw, header)
    return attributes


def prefixed(prefix: str) -> FieldName:
    """Names attributes as binary mode's headers: ``id`` → ``<prefix>id``."""
    return lambda name: prefix + name


def build_event(
    attributes: dict[str, Any], field: FieldName, where: str, project: str
) -> CloudEvent:
    """The event of a producer's attributes, in ``project``.

    Checks the required attributes (naming each by ``field``), drops the extensions
    only Squall sets, and derives ``dedupekey`` from ``source`` and ``id`` unless the
    producer set one.

    Raises:
        InvalidPayload: an attribute is missing or not what the envelope accepts.
    """
    _check_required(attributes, field)
    for name in SQUALL_ONLY:
        attributes.pop(name, None)
    dedupekey = attributes.pop("dedupekey", None)
    if not isinstance(dedupekey, str) or not dedupekey:
        dedupekey = stable_key("cloudevent", attributes["source"], attributes["id"])
    return new_event(where, **attributes, project=project, dedupekey=dedupekey)


def _check_required(attributes: dict[str, Any], field: FieldName) -> None:
    if "specversion" not in attributes:
        raise InvalidPayload(
            f'{field("specversion")}: required attribute is missing; expected "1.0"',
            field("specversion"),
        )
    if attributes["specversion"] != SPECVERSION:
        raise InvalidPayload(
            f'{field("specversion")}: expected "{SPECVERSION}", got {attributes["specversion"]!r}',
            field("specversion"),
        )
    for name in REQUIRED:
        if name not in attributes:
            raise InvalidPayload(f"{field(name)}: required attribute is missing", field(name))
    for name in STRING_ATTRIBUTES & attributes.keys():
        value = attributes[name]
        if value is None:
            continue
        if not isinstance(value, str) or (name in REQUIRED and not value):
            got = "an empty string" if value == "" else kind(value)
            raise InvalidPayload(
                f"{field(name)}: expected a non-empty string, got {got}", field(name)
            )


def _check_name(name: str, field: str) -> None:
    if not _NAME.fullmatch(name):
        raise InvalidPayload(
            f"{field}: attribute names are lower-case ASCII letters and digits only", field
        )


def _header_value(raw: str, header: str) -> str:
    value = raw.strip()
    # Older producers may send a quoted-string; the spec asks receivers to accept it.
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = _QUOTED_PAIR.sub(r"\1", value[1:-1])
    try:
        return unquote_to_bytes(value).decode("utf-8")
    except UnicodeError:
        raise InvalidPayload(
            f"{header}: the percent-decoded value is not valid UTF-8", header
        ) from None


def _base64(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidPayload(f"{field}: expected a base64 string, got {kind(value)}", field)
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidPayload(f"{field}: not valid base64", field) from None
    return value


ADAPTER = Adapter(convert=convert, delivery_key=delivery_key)
