"""Persisted delays and the poller that fires them: wait-before, wait-after, retry, timeout.

The engine stores each delay in the ``delays`` collection (``_id`` derived from the task,
the kind and the attempt, so a redelivered batch stores nothing new) in the batch that
creates it, before the execution itself. The poller sleeps until the earliest due
time, claims what is due with a fresh token in one bulk write, reads back which claims
it won (a keyed lookup), publishes one ``DelayFired`` command per delay keyed by its
execution, and only then deletes them. A claim left by a process that died is taken
over once it is stale, so a delay is never lost; one fired twice is harmless, as the
engine applies a ``DelayFired`` only while the task waits for exactly that delay.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import InvalidOperation

from engine.workflow import Delay
from schemas.base import utcnow
from schemas.bus import Outbound, Publisher, Topics
from schemas.commands import DelayFired
from schemas.ids import derive_id

log = logging.getLogger(__name__)

Doc = dict[str, Any]
#: The claim time of a delay nobody claimed yet: stale from the start.
_EPOCH_CLAIM = datetime(1970, 1, 1, tzinfo=UTC)


class DelayStore:
    """The ``delays`` collection: store, find due, claim, delete."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.delays = db["delays"]

    async def ensure_indexes(self) -> None:
        """The index the poller's due-time lookups use."""
        await self.delays.create_index([("due", ASCENDING)])

    async def save(self, delays: Sequence[Delay]) -> None:
        """Store delays once each, whatever the redeliveries."""
        if not delays:
            return
        ops = [
            UpdateOne(
                {"_id": d.id},
                {
                    "$setOnInsert": {
                        "execution_id": d.execution_id,
                        "task_id": d.task_id,
                        "kind": d.kind,
                        "due": d.due,
                        "claimed_at": _EPOCH_CLAIM,
                        "token": None,
                    }
                },
                upsert=True,
            )
            for d in delays
        ]
        await self.delays.bulk_write(ops, ordered=False)

    async def next_due(self) -> datetime | None:
        """The earliest due time of any stored delay."""
        doc = await self.delays.find_one({}, {"due": 1}, sort=[("due", ASCENDING)])
        return doc["due"] if doc else None

    async def claim_due(self, now: datetime, stale_after: timedelta, limit: int) -> list[Doc]:
        """Claim up to ``limit`` due delays not held by a live claim; return those won."""
        due = self.delays.find(
            {"due": {"$lte": now}, "claimed_at": {"$lt": now - stale_after}},
            {"claimed_at": 1, "token": 1},
            limit=limit,
        )
        candidates = [doc async for doc in due]
        if not candidates:
            return []
        token = uuid.uuid4().hex
        await self.delays.bulk_write(
            [
                UpdateOne(
                    {"_id": doc["_id"], "token": doc["token"]},
                    {"$set": {"token": token, "claimed_at": now}},
                )
                for doc in candidates
            ],
            ordered=False,
        )
        ids = [doc["_id"] for doc in candidates]
        return [doc async for doc in self.delays.find({"_id": {"$in": ids}, "token": token})]

    async def delete(self, ids: Sequence[str]) -> None:
        """Forget fired delays."""
        if ids:
            await self.delays.delete_many({"_id": {"$in": list(ids)}})


class DelayPoller:
    """Fires due delays as ``DelayFired`` commands; run one per engine process."""

    def __init__(
        self,
        store: DelayStore,
        publisher: Publisher,
        topics: Topics,
        *,
        idle_s: float = 5.0,
        stale_after_s: float = 30.0,
        batch: int = 500,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._topics = topics
        self._idle = idle_s
        self._stale_after = timedelta(seconds=stale_after_s)
        self._batch = batch
        self._wake = asyncio.Event()
        self._next_wake: datetime | None = None

    def notify(self, due: datetime) -> None:
        """A delay due at ``due`` was just stored: wake earlier if needed."""
        if self._next_wake is None or due < self._next_wake:
            self._next_wake = due
            self._wake.set()

    async def run(self) -> None:
        """Fire delays as they come due, until cancelled or the database client closes."""
        while True:
            try:
                await self._round()
            except InvalidOperation:
                return  # the client was closed: the process is shutting down
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delay poller round failed; retrying")
                await asyncio.sleep(1.0)

    async def _round(self) -> None:
        now = utcnow()
        if await self.fire_due(now) >= self._batch:
            return
        upcoming = await self._store.next_due()
        wake = now + timedelta(seconds=self._idle)
        if upcoming is not None and upcoming < wake:
            wake = upcoming
        self._next_wake = wake
        self._wake.clear()
        timeout = max(0.0, (wake - utcnow()).total_seconds())
        with suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def fire_due(self, now: datetime) -> int:
        """Claim, publish and delete the delays due at ``now``; how many fired."""
        claimed = await self._store.claim_due(now, self._stale_after, self._batch)
        if not claimed:
            return 0
        messages = [self._message(doc) for doc in claimed]
        await self._publisher.publish(messages)
        await self._store.delete([doc["_id"] for doc in claimed])
        return len(claimed)

    def _message(self, doc: Doc) -> Outbound:
        command = DelayFired(
            command_id=derive_id(doc["_id"], "fired"),
            execution_id=doc["execution_id"],
            task_id=doc["task_id"],
            delay_id=doc["_id"],
            delay_kind=doc["kind"],
        )
        return Outbound(
            self._topics.commands, command.execution_id, command.model_dump_json().encode()
        )
