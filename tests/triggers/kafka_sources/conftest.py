"""Fixtures of the Kafka source tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from schemas.bus import Topics
from squall.kafka import KafkaPublisher, ensure_topics
from squall.settings import Settings


@pytest.fixture
async def publisher(settings: Settings) -> AsyncIterator[KafkaPublisher]:
    """A publisher on the test's broker, with Squall's topics created."""
    await ensure_topics(settings.kafka_bootstrap or "", Topics(settings.topic_prefix), 1)
    started = KafkaPublisher(settings.kafka_bootstrap or "")
    await started.start()
    yield started
    await started.stop()
