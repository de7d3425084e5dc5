"""Reading a request body by its media type: JSON, form fields, or plain text."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from triggers.webhooks.delivery import Delivery
from triggers.webhooks.errors import InvalidPayload, UnsupportedMediaType

#: Deeper JSON is refused at the door: the event envelope adds a level or two, and
#: the events topic's decoder gives up a little below 200 levels.
MAX_DEPTH = 100

FORM = "application/x-www-form-urlencoded"
TEXT = "text/plain"


def is_json(media_type: str) -> bool:
    """``application/json`` and any ``*/*+json`` structured-syntax type."""
    return media_type == "application/json" or ("/" in media_type and media_type.endswith("+json"))


def require_body(delivery: Delivery) -> None:
    """Refuse an empty body: every adapter but CloudEvents binary mode needs one."""
    if not delivery.body.strip():
        raise InvalidPayload("body is empty; expected a payload", "body")


def json_value(delivery: Delivery) -> Any:
    """The body parsed as JSON: RFC 8259 only (no NaN or Infinity), at most MAX_DEPTH deep."""
    require_body(delivery)
    try:
        value = json.loads(delivery.body, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InvalidPayload(
            f"body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", "body"
        ) from None
    except UnicodeDecodeError as exc:
        raise InvalidPayload(
            f"body is not valid JSON: invalid UTF-8 at byte {exc.start}", "body"
        ) from None
    except RecursionError:
        raise _too_deep() from None
    if _depth(value) > MAX_DEPTH:
        raise _too_deep()
    return value


def json_media_value(delivery: Delivery, adapter: str) -> Any:
    """The JSON body of an adapter that only reads JSON, or 415 for another media type."""
    if not is_json(delivery.media_type):
        raise UnsupportedMediaType(
            f"the {adapter} adapter reads application/json, "
            f"not '{delivery.media_type or 'no Content-Type'}'"
        )
    return json_value(delivery)


def form_fields(delivery: Delivery) -> dict[str, str | list[str]]:
    """Form fields; a key sent several times maps to the list of its values, in order."""
    text, charset = text_value(delivery), _charset(delivery)
    try:
        parsed = parse_qs(text, keep_blank_values=True, encoding=charset, errors="strict")
    except UnicodeDecodeError:
        raise InvalidPayload(
            f"form body has a percent-encoded value that is not valid {charset}", "body"
        ) from None
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


def text_value(delivery: Delivery) -> str:
    """The body decoded with its charset (UTF-8 unless told otherwise)."""
    require_body(delivery)
    charset = _charset(delivery)
    try:
        return delivery.body.decode(charset)
    except UnicodeDecodeError as exc:
        raise InvalidPayload(
            f"body is not valid {charset} text at byte {exc.start}", "body"
        ) from None


def _charset(delivery: Delivery) -> str:
    charset = delivery.params.get("charset", "utf-8").lower()
    try:
        "".encode(charset)
    except LookupError:
        raise UnsupportedMediaType(f"unknown charset '{charset}' in Content-Type") from None
    return charset


def _refuse_constant(name: str) -> Any:
    raise InvalidPayload(f"body is not valid JSON: {name} is not a JSON value", "body")


def _too_deep() -> InvalidPayload:
    return InvalidPayload(f"body is nested more than {MAX_DEPTH} levels deep", "body")


def _depth(value: Any) -> int:
    # Iterative, so that checking a deep value cannot itself overflow the stack.
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest
