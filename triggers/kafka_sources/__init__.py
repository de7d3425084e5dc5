"""Kafka sources: external topics consumed into Squall's events topic, with dead letters.

``KafkaSource`` configures one topic and its mapping onto the event envelope;
``KafkaBridge`` turns records into events (or dead letters, with the error and the
original bytes) and publishes them before the offsets are committed;
``list_dead_letters`` and ``redrive`` read and re-send letters of the dead-letter topic.
"""

from __future__ import annotations

from triggers.kafka_sources.bridge import KafkaBridge
from triggers.kafka_sources.config import KafkaSource
from triggers.kafka_sources.convert import to_event
from triggers.kafka_sources.deadletters import letter_id, list_dead_letters, read_letters, redrive
from triggers.kafka_sources.errors import DeadLetterNotFound, KafkaSourceError, UnmappableMessage

__all__ = [
    "DeadLetterNotFound",
    "KafkaBridge",
    "KafkaSource",
    "KafkaSourceError",
    "UnmappableMessage",
    "letter_id",
    "list_dead_letters",
    "read_letters",
    "redrive",
    "to_event",
]
