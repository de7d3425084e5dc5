"""One webhook delivery as the adapters see it, and the helpers every adapter shares."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from schemas.definitions.hooks import Hook
from schemas.events import CloudEvent
from triggers.webhooks.errors import InvalidPayload


@dataclass(frozen=True)
class Delivery:
    """A request body with what is needed to read it.

    ``headers`` has lower-case names; ``media_type`` is the Content-Type without its
    parameters, lower-case; ``content_type`` is the Content-Type as sent.
    """

    hook: Hook
    body: bytes
    content_type: str
    media_type: str
    params: Mapping[str, str]
    headers: Mapping[str, str]

    @classmethod
    def of(
        cls, hook: Hook, *, body: bytes, content_type: str, headers: Mapping[str, str]
    ) -> Delivery:
        """Build a delivery, preferring the full Content-Type header (it has the charset)."""
        lowered = lower_keys(headers)
        raw = lowered.get("content-type") or content_type
        media_type, params = parse_content_type(raw)
        return cls(hook, body, raw.strip(), media_type, params, lowered)


@dataclass(frozen=True)
class Adapter:
    """How one kind of sender's deliveries become events.

    Args:
        convert: the delivery's events, one per alert or item.
        delivery_key: a key recognising a repeat of the same delivery, from its
            headers and events, or None when the adapter cannot tell.
    """

    convert: Callable[[Delivery], list[CloudEvent]]
    delivery_key: Callable[[Mapping[str, str], Sequence[CloudEvent]], str | None]


def lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names are case-insensitive; compare them lower-cased."""
    return {k.lower(): v for k, v in headers.items()}


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type/subtype; name=value`` into the lower-case media type and parameters."""
    media, *rest = value.split(";")
    params: dict[str, str] = {}
    for part in rest:
        name, sep, val = part.partition("=")
        if sep:
            params[name.strip().lower()] = val.strip().strip('"')
    return media.strip().lower(), params


def stable_key(*parts: object) -> str:
    """A short fixed-length key for a tuple of JSON-like values, the same on every replica."""
    encoded = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode("utf-8", "surrogatepass")).hexdigest()


def new_event(
    where: str, *, fields: Mapping[str, str] | None = None, **attributes: Any
) -> CloudEvent:
    """Build an event, reporting an attribute the envelope refuses as a 400.

    Args:
        where: prefix of the attribute's name in the error (``ce-``, ``[2].``, or empty).
        fields: the payload field or header an attribute came from, when its name differs.
        attributes: the event's attributes.
    """
    try:
        return CloudEvent(**attributes)
    except ValidationError as exc:
        err = exc.errors()[0]
        attr = ".".join(str(p) for p in err["loc"])
        field = (fields or {}).get(attr) or f"{where}{attr}"
        raise InvalidPayload(f"{field}: {err['msg']}", field) from None
