"""Any sender: the body (JSON of any shape, form fields, or text) is the event's data.

JSON is kept as parsed; form fields become an object (a repeated field maps to the
list of its values); ``text/plain`` becomes ``{"text": ...}``. The type is the hook's
``type`` (default ``webhook``); the subject comes from the ``X-Squall-Subject`` header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from schemas.events import CloudEvent
from triggers.webhooks.body import FORM, TEXT, form_fields, is_json, json_value, text_value
from triggers.webhooks.delivery import Adapter, Delivery, new_event, stable_key
from triggers.webhooks.errors import UnsupportedMediaType

SUBJECT_HEADER = "X-Squall-Subject"
DEFAULT_TYPE = "webhook"


def convert(delivery: Delivery) -> list[CloudEvent]:
    """One event whose data is the body; the same body gives the same dedupe key."""
    data = _data(delivery)
    hook = delivery.hook
    event_type = hook.type or DEFAULT_TYPE
    subject = delivery.headers.get(SUBJECT_HEADER.lower()) or None
    body_digest = hashlib.sha256(delivery.body).hexdigest()
    return [
        new_event(
            "",
            fields={"subject": SUBJECT_HEADER},
            source=hook.event_source,
            type=event_type,
            subject=subject,
            data=data,
            project=hook.project,
            dedupekey=stable_key("generic", event_type, subject, body_digest),
        )
    ]


def delivery_key(headers: Mapping[str, str], events: Sequence[CloudEvent]) -> str | None:
    """Arbitrary senders say nothing that tells a retry from a new delivery."""
    return None


def _data(delivery: Delivery) -> Any:
    media_type = delivery.media_type
    if is_json(media_type):
        return json_value(delivery)
    if media_type == FORM:
        return form_fields(delivery)
    if media_type == TEXT:
        return {"text": text_value(delivery)}
    raise UnsupportedMediaType(
        f"the generic adapter reads application/json (or any +json type), {FORM} "
        f"or {TEXT}, not '{media_type or 'no Content-Type'}'"
    )


ADAPTER = Adapter(convert=convert, delivery_key=delivery_key)
