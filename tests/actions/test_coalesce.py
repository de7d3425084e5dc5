"""CoalescingWriter against the real MongoDB-protocol server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from actions.coalesce import CoalescingWriter
from squall.settings import Settings

Doc = dict[str, Any]


class _Requests(monitoring.CommandListener):
    """Counts the write requests that reach the server."""

    def __init__(self) -> None:
        self.writes = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in ("insert", "update"):
            self.writes += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def counted(settings: Settings) -> AsyncIterator[tuple[AsyncDatabase[Doc], _Requests]]:
    requests = _Requests()
    client: AsyncMongoClient[Doc] = AsyncMongoClient(settings.mongo_uri, event_listeners=[requests])
    try:
        yield client[settings.mongo_db], requests
    finally:
        await client.close()


async def test_concurrent_claims_each_learn_whether_they_won_in_few_requests(
    counted: tuple[AsyncDatabase[Doc], _Requests],
) -> None:
    db, requests = counted
    await db["runs"].insert_many([{"_id": f"run-{i}", "state": "old"} for i in range(0, 200, 4)])
    writer = CoalescingWriter(db["runs"])
    won = await asyncio.gather(*(writer.insert({"_id": f"run-{i}"}) for i in range(200)))
    assert won == [i % 4 != 0 for i in range(200)]
    assert await db["runs"].count_documents({}) == 200
    assert (await db["runs"].find_one({"_id": "run-0"}) or {}).get("state") == "old"
    assert requests.writes <= 3


async def test_updates_apply_and_a_bad_one_fails_only_its_caller(
    counted: tuple[AsyncDatabase[Doc], _Requests],
) -> None:
    db, _ = counted
    writer = CoalescingWriter(db["runs"])
    await asyncio.gather(*(writer.insert({"_id": n, "state": "RUNNING"}) for n in "abc"))
    results = await asyncio.gather(
        writer.update({"_id": "a"}, {"$set": {"state": "SUCCESS"}}),
        writer.update({"_id": "b"}, {"$inc": {"state": 1}}),
        writer.update({"_id": "c"}, {"$set": {"state": "ERROR"}}),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], BulkWriteError)
    states = {d["_id"]: d["state"] async for d in db["runs"].find({})}
    assert states == {"a": "SUCCESS", "b": "RUNNING", "c": "ERROR"}
