"""Deterministic ids: the same input always names the same thing, so redelivery is harmless."""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-4e0f-9c51-2b7a9d0e4f13")


def derive_id(*parts: object) -> str:
    """A UUID determined by ``parts`` (e.g. an event id and a rule name)."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(str(p) for p in parts)))
