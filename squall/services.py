"""The shared clients one Squall process wires together: MongoDB, Kafka, definitions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from engine.store import EngineStore
from schemas.bus import Topics
from squall.definitions import DefinitionsStore, DefinitionsView
from squall.kafka import KafkaPublisher, ensure_topics
from squall.settings import Settings, SettingsError


@dataclass
class Services:
    """Everything the roles share, created once per process."""

    settings: Settings
    mongo: AsyncMongoClient[dict[str, Any]]
    db: AsyncDatabase[dict[str, Any]]
    topics: Topics
    publisher: KafkaPublisher
    engine_store: EngineStore
    definitions_store: DefinitionsStore
    definitions: DefinitionsView

    @property
    def retention(self) -> timedelta:
        """How long archived events are kept."""
        return timedelta(days=self.settings.event_retention_days)

    @classmethod
    async def connect(cls, settings: Settings) -> Services:
        """Connect to Kafka and MongoDB, create topics and indexes, load definitions."""
        if not settings.kafka_bootstrap:
            raise SettingsError("SQUALL_KAFKA_BOOTSTRAP is required (or use `squall dev`)")
        if not settings.mongo_uri:
            raise SettingsError("SQUALL_MONGO_URI is required (or use `squall dev`)")
        topics = Topics(settings.topic_prefix)
        await ensure_topics(settings.kafka_bootstrap, topics, settings.topic_partitions)
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongo_uri, tz_aware=True
        )
        db = mongo[settings.mongo_db]
        engine_store = EngineStore(db)
        await engine_store.ensure_indexes()
        publisher = KafkaPublisher(settings.kafka_bootstrap)
        await publisher.start()
        definitions_store = DefinitionsStore(db)
        definitions = DefinitionsView(definitions_store)
        await definitions.refresh()
        return cls(
            settings=settings,
            mongo=mongo,
            db=db,
            topics=topics,
            publisher=publisher,
            engine_store=engine_store,
            definitions_store=definitions_store,
            definitions=definitions,
        )

    async def close(self) -> None:
        """Flush Kafka and close every client."""
        await self.publisher.stop()
        await self.mongo.close()
