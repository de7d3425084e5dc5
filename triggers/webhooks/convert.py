"""From a delivery to events, and to the key that recognises its repeats."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from schemas.definitions.hooks import Hook
from schemas.events import CloudEvent
from triggers.webhooks.adapters import ADAPTERS
from triggers.webhooks.delivery import Delivery, lower_keys
from triggers.webhooks.errors import InvalidPayload

IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Printable ASCII without spaces at the ends, short enough to store as part of a key.
_IDEMPOTENCY_KEY = re.compile(r"[!-~]([ -~]{0,253}[!-~])?")


def to_events(
    hook: Hook, *, body: bytes, content_type: str, headers: Mapping[str, str]
) -> list[CloudEvent]:
    """The events of one delivery, by the hook's adapter: one per alert or item.

    Raises:
        InvalidPayload: (400) an empty or malformed body, or a field the adapter needs
            missing or wrong; the error names the field.
        UnsupportedMediaType: (415) a Content-Type the adapter does not read.
    """
    delivery = Delivery.of(hook, body=body, content_type=content_type, headers=headers)
    return ADAPTERS[hook.adapter].convert(delivery)


def idempotency_key(
    hook: Hook, *, headers: Mapping[str, str], events: Sequence[CloudEvent]
) -> str | None:
    """The ``Idempotency-Key`` header, else the key the adapter derives, else None.

    Raises:
        InvalidPayload: (400) an ``Idempotency-Key`` that is not 1-255 printable ASCII.
    """
    lowered = lower_keys(headers)
    given = lowered.get(IDEMPOTENCY_HEADER.lower())
    if given is not None:
        if not _IDEMPOTENCY_KEY.fullmatch(given):
            raise InvalidPayload(
                f"{IDEMPOTENCY_HEADER}: expected 1 to 255 printable ASCII characters",
                IDEMPOTENCY_HEADER,
            )
        return given
    return ADAPTERS[hook.adapter].delivery_key(lowered, events)
