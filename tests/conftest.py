"""Test fixtures: real Kafka-protocol and MongoDB-protocol servers, once per session.

By default the session starts the embedded servers (tansu and SecantusDB) on free
loopback ports. Set SQUALL_KAFKA_BOOTSTRAP and SQUALL_MONGO_URI to run the same tests
against real Apache Kafka and MongoDB instead. Each test gets its own topic prefix and
database, so tests never see each other's messages or documents.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from squall.embedded import EmbeddedServers, embedded_servers
from squall.settings import Settings


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServers]:
    """Kafka and MongoDB addresses for the whole session."""
    kafka, mongo = os.environ.get("SQUALL_KAFKA_BOOTSTRAP"), os.environ.get("SQUALL_MONGO_URI")
    if kafka and mongo:
        yield EmbeddedServers(kafka_bootstrap=kafka, mongo_uri=mongo)
        return
    with embedded_servers(tmp_path_factory.mktemp("servers")) as started:
        yield started


@pytest.fixture
def settings(servers: EmbeddedServers, tmp_path: Path) -> Settings:
    """Settings isolated to this test: own topics, own database, a free port."""
    from squall.embedded import free_port

    tag = uuid.uuid4().hex[:10]
    return Settings(
        kafka_bootstrap=servers.kafka_bootstrap,
        mongo_uri=servers.mongo_uri,
        mongo_db=f"t_{tag}",
        topic_prefix=f"t{tag}.",
        topic_partitions=4,
        http_port=free_port(),
        data_dir=tmp_path,
        allow_private_networks=True,
        action_heartbeat_s=0.5,
        action_stale_after_s=2.0,
        # Short sessions: joining a group waits about half of one, and a killed
        # process's partitions move on after one.
        kafka_session_timeout_ms=2_000,
        # Access control has its own tests; the rest call the API without tokens.
        auth_disabled=True,
        timer_stale_claim_s=3.0,
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    """This test's database."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_uri, tz_aware=True)
    yield client[settings.mongo_db]
    await client.close()
