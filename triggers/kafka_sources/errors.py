"""The Kafka sources' one exception family."""

from __future__ import annotations


class KafkaSourceError(Exception):
    """Base of the Kafka sources' errors."""


class UnmappableMessage(KafkaSourceError):
    """A message that cannot become an event: the reason names the field and what came.

    Such a message goes to the dead-letter topic with this reason and its bytes.
    """


class DeadLetterNotFound(KafkaSourceError):
    """A dead letter named for reading or a re-drive is not there (or not the caller's)."""
