"""Webhook definitions: ``hooks:`` in a definitions file, served at ``POST /hooks/{name}``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

Adapter = Literal["generic", "cloudevents", "alertmanager", "grafana", "aodh"]


class Hook(BaseModel):
    """One webhook: how callers authenticate and how their payload becomes events."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,128}$")
    project: str = "default"
    adapter: Adapter = "generic"
    secret: SecretStr = Field(min_length=8)
    #: ``token``: the secret as ``?token=…`` or ``Authorization: Bearer …``;
    #: ``hmac``: an HMAC-SHA256 of the raw body, hex, in ``signature_header``.
    auth: Literal["token", "hmac"] = "token"
    signature_header: str = Field(default="X-Hub-Signature-256", alias="signature-header")
    signature_prefix: str = Field(default="sha256=", alias="signature-prefix")
    #: ``hmac`` only: the header carrying the sender's Unix time in seconds. When set,
    #: the signed message is ``<timestamp>:<body>`` (Grafana's "Timestamp Header") and
    #: a delivery whose time is more than ``timestamp_tolerance`` seconds from ours is
    #: refused, so a captured request cannot be replayed later.
    timestamp_header: str | None = Field(
        default=None, min_length=1, max_length=256, alias="timestamp-header"
    )
    timestamp_tolerance: int = Field(default=300, gt=0, le=86_400, alias="timestamp-tolerance")
    max_body_bytes: int = Field(default=1_048_576, gt=0, le=16_777_216, alias="max-body-bytes")
    #: CloudEvent ``source`` for events from this hook; defaults to ``hooks/<name>``.
    source: str | None = None
    #: CloudEvent ``type`` for the generic adapter; defaults to ``webhook``.
    type: str | None = None
    description: str = ""

    @model_validator(mode="after")
    def _timestamp_needs_hmac(self) -> Hook:
        if self.timestamp_header is not None and self.auth != "hmac":
            raise ValueError("timestamp-header: only signed hooks (auth: hmac) carry a timestamp")
        return self

    @property
    def event_source(self) -> str:
        """The CloudEvent source of events this hook accepts."""
        return self.source or f"hooks/{self.name}"
