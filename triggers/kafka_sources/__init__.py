"""Kafka sources: external topics consumed into Squall's events topic, with dead letters.

``KafkaSource`` configures one topic and its mapping onto the event envelope;
``KafkaBridge`` turns records into events (or dead letters, with the error and the
original bytes) and publishes them before the offsets are committed;
``list_dead_letters``, ``read_letters`` and ``redrive`` read and re-send letters of the
dead-letter topic, each within a caller's ``LetterScope``.
"""

from __future__ import annotations

from triggers.kafka_sources.bridge import KafkaBridge
from triggers.kafka_sources.config import KafkaSource
from triggers.kafka_sources.convert import to_event
from triggers.kafka_sources.deadletters import (
    LetterScope,
    letter_id,
    letter_view,
    list_dead_letters,
    read_letters,
    redrive,
)
from triggers.kafka_sources.errors import DeadLetterNotFound, KafkaSourceError, UnmappableMessage

__all__ = [
    "DeadLetterNotFound",
    "KafkaBridge",
    "KafkaSource",
    "KafkaSourceError",
    "LetterScope",
    "UnmappableMessage",
    "letter_id",
    "letter_view",
    "list_dead_letters",
    "read_letters",
    "redrive",
    "to_event",
]
