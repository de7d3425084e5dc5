"""Webhooks: check a delivery's secret and turn its payload into CloudEvents.

These are pure functions; the aiohttp handler in :mod:`triggers.webhooks.receiver`
reads the request, calls them, and publishes the events.
"""

from __future__ import annotations

from triggers.webhooks.adapters import ADAPTERS
from triggers.webhooks.auth import authenticate
from triggers.webhooks.convert import idempotency_key, to_events
from triggers.webhooks.delivery import Adapter, Delivery
from triggers.webhooks.errors import (
    InvalidPayload,
    Unauthorized,
    UnsupportedMediaType,
    WebhookError,
)

__all__ = [
    "ADAPTERS",
    "Adapter",
    "Delivery",
    "InvalidPayload",
    "Unauthorized",
    "UnsupportedMediaType",
    "WebhookError",
    "authenticate",
    "idempotency_key",
    "to_events",
]
