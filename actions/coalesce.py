"""One bulk write for the single-document writes that concurrent action runs make together.

Every action run claims its id and later records its outcome: two writes of one
document each. With a hundred runs in flight, sending them one by one costs the
database a round trip and a request each; a MongoDB server that serves requests one at
a time spends most of its time on that overhead. ``CoalescingWriter`` queues the writes
callers make while a bulk write is in flight and sends them as the next one, so under
load the number of requests stays flat while each caller still learns its own outcome.
When idle, a write goes out at once (after one turn of the event loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

Doc = dict[str, Any]
_DUPLICATE_KEY = 11000
#: Most writes sent in one bulk (a bound on the request's size).
MAX_BATCH = 1000


@dataclass(frozen=True, slots=True)
class _Pending:
    op: InsertOne[Doc] | UpdateOne
    done: asyncio.Future[bool]


class CoalescingWriter:
    """Inserts and updates on one collection, sent as unordered bulk writes.

    Writes to the same document must not be in flight together: the bulk is unordered.
    """

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self._collection = collection
        self._queue: list[_Pending] = []
        self._flushing: asyncio.Task[None] | None = None

    async def insert(self, doc: Doc) -> bool:
        """Insert ``doc``; False if a document with its ``_id`` already exists."""
        return await self._submit(InsertOne(doc))

    async def update(self, selector: Mapping[str, Any], update: Mapping[str, Any]) -> None:
        """Apply ``update`` to the document ``selector`` matches, if any."""
        await self._submit(UpdateOne(dict(selector), dict(update)))

    async def _submit(self, op: InsertOne[Doc] | UpdateOne) -> bool:
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(op, done))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        return await done

    async def _flush(self) -> None:
        try:
            # One turn of the loop lets the callers woken together join the first bulk.
            await asyncio.sleep(0)
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                try:
                    await self._write(batch)
                except asyncio.CancelledError:
                    # Stopping: nobody may wait forever for a write that will not be sent.
                    for pending in batch + self._queue:
                        pending.done.cancel()
                    self._queue = []
                    raise
        finally:
            self._flushing = None

    async def _write(self, batch: list[_Pending]) -> None:
        failed: dict[int, Any] = {}
        try:
            await self._collection.bulk_write([p.op for p in batch], ordered=False)
        except BulkWriteError as exc:
            failed = {e["index"]: e for e in exc.details.get("writeErrors", [])}
        except Exception as exc:  # every caller of this bulk sees the same failure
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(exc)
            return
        for index, pending in enumerate(batch):
            if pending.done.done():
                continue
            error = failed.get(index)
            if error is None:
                pending.done.set_result(True)
            elif error.get("code") == _DUPLICATE_KEY and isinstance(pending.op, InsertOne):
                pending.done.set_result(False)
            else:
                pending.done.set_exception(BulkWriteError({"writeErrors": [error]}))
