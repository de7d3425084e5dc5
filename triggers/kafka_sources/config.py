"""How an external Kafka topic maps onto Squall's event envelope.

Sources are configured in the settings (``kafka_sources``: a list, e.g. a TOML array
of tables or ``SQUALL_KAFKA_SOURCES`` as JSON), since they are deployment wiring
(addresses, topics, consumer groups) rather than automation logic::

    [[kafka_sources]]
    name = "orders"
    topic = "shop.orders"
    format = "json"
    type = "<% $.kind %>"          # a YAQL or Jinja2 expression on the message ...
    subject = "{{ _.order_id }}"
    source = "shop"                # ... or a constant

Expressions see the decoded message body as ``$`` (and ``_``), plus ``kafka``
(``topic``, ``partition``, ``offset``, ``key``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class KafkaSource(BaseModel):
    """One external topic consumed into the events topic.

    ``format`` ``json``: any JSON value; ``type`` is required and ``source``,
    ``subject``, ``id``, ``data`` are computed by the mapping (defaults: source
    ``kafka/<topic>``, the whole message as data, an id derived from the message's
    topic, partition and offset, so a re-consumed message is recognised downstream).
    ``format`` ``cloudevents``: CloudEvents by the Kafka protocol binding, in structured
    mode (the JSON envelope as the value) or binary mode (``ce_*`` headers, the value
    as data), decided per message; the event's ``project`` is the source's.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")
    topic: str = Field(min_length=1, max_length=249)
    bootstrap: str | None = Field(
        default=None, description="the external cluster; unset: Squall's own Kafka"
    )
    group: str | None = Field(
        default=None, description="consumer group; unset: squall-source-<name>"
    )
    format: Literal["json", "cloudevents"] = "json"
    project: str = "default"
    source: str | None = None
    type: str | None = None
    subject: str | None = None
    id: str | None = None
    data: str | None = None
    max_message_bytes: int = Field(default=1024 * 1024, ge=1)

    def consumer_group(self) -> str:
        """The consumer group this source commits its offsets in."""
        return self.group or f"squall-source-{self.name}"
