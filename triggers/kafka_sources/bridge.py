"""The bridge: consume an external topic, publish its events, then commit.

Each batch's events and dead letters are published together and acknowledged by
Kafka before ``run_batches`` commits the batch's offsets: a crash redelivers the
batch, and the derived event ids (topic, partition, offset) make the repeats
recognisable downstream.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from schemas.bus import DeadLetter, InboundRecord, Outbound, Publisher, Topics
from triggers.kafka_sources.config import KafkaSource
from triggers.kafka_sources.convert import to_event
from triggers.kafka_sources.errors import UnmappableMessage

log = logging.getLogger(__name__)


class KafkaBridge:
    """Turns batches of one source's records into events and dead letters."""

    def __init__(self, source: KafkaSource, publisher: Publisher, topics: Topics) -> None:
        self.source = source
        self._publisher = publisher
        self._topics = topics

    def messages(self, records: Sequence[InboundRecord]) -> list[Outbound]:
        """The events (or dead letters) a batch of records becomes, in order."""
        out = []
        for record in records:
            try:
                event = to_event(self.source, record)
            except UnmappableMessage as exc:
                log.warning(
                    "source %s: dead-lettering %s@%d:%d: %s",
                    self.source.name,
                    record.topic,
                    record.partition,
                    record.offset,
                    exc,
                )
                # The source's project, never one the external message claims.
                out.append(
                    DeadLetter.outbound(
                        self._topics,
                        record,
                        str(exc),
                        f"kafka-source:{self.source.name}",
                        self.source.project,
                    )
                )
                continue
            out.append(Outbound(self._topics.events, event.subject or event.id, event.to_bytes()))
        return out

    async def handle(self, records: Sequence[InboundRecord]) -> None:
        """Publish a batch's events and dead letters; returns once Kafka has them all."""
        await self._publisher.publish(self.messages(records))
