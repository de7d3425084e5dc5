"""Typed access to fields of a decoded JSON payload, with errors naming the field's path."""

from __future__ import annotations

from typing import Any

from triggers.webhooks.errors import InvalidPayload


def kind(value: object) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def path(parent: str, key: str | int) -> str:
    """``alerts`` + 2 → ``alerts[2]``; ``alerts[2]`` + ``status`` → ``alerts[2].status``."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def as_object(value: object, where: str) -> dict[str, Any]:
    """The value as a JSON object, or a 400 naming ``where`` (``body`` for the whole body)."""
    if not isinstance(value, dict):
        raise InvalidPayload(f"{where}: expected an object, got {kind(value)}", where or None)
    return value


def as_list(value: object, where: str) -> list[Any]:
    """The value as a JSON array, or a 400 naming ``where``."""
    if not isinstance(value, list):
        raise InvalidPayload(f"{where}: expected an array, got {kind(value)}", where)
    return value


def required_str(obj: dict[str, Any], key: str, parent: str = "") -> str:
    """A non-empty string field, or a 400 naming it."""
    where = path(parent, key)
    if key not in obj:
        raise InvalidPayload(f"{where}: required field is missing", where)
    value = obj[key]
    if not isinstance(value, str) or not value:
        got = "an empty string" if value == "" else kind(value)
        raise InvalidPayload(f"{where}: expected a non-empty string, got {got}", where)
    return value


def optional_str(obj: dict[str, Any], key: str, parent: str = "") -> str | None:
    """A string field that may be absent or null, or a 400 naming it."""
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    where = path(parent, key)
    raise InvalidPayload(f"{where}: expected a string, got {kind(value)}", where)
