"""The engine's MongoDB collections and the batched, version-checked writes to them."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, InsertOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from engine.workflow import item_result_id
from engine.workflow.lookups import (
    RESULT_KINDS,
    LookupKey,
    Lookups,
    assemble_items,
    query_of,
)
from schemas import CloudEvent

Doc = dict[str, Any]
# The MongoDB-compatible server answers `$in` lookups fastest in small groups.
_LOOKUP_CHUNK = 100
_WRITE_CHUNK = 1000


_DUPLICATE_KEY = 11000


async def insert_once(collection: AsyncCollection[Doc], docs: Sequence[Doc]) -> None:
    """Insert ``docs`` in one unordered bulk; those whose ``_id`` is already stored (a
    redelivery) are left as they are."""
    if not docs:
        return
    try:
        await collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        if any(e.get("code") != _DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
            raise


class VersionConflict(RuntimeError):
    """Another engine changed an execution this batch also changed; redo the batch."""


class EngineStore:
    """Keyed access to executions, tasks, workflow snapshots and the event archive."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.executions = db["executions"]
        self.tasks = db["tasks"]
        self.specs = db["workflow_specs"]
        self.events = db["events"]
        self.item_results = db["item_results"]
        self.results = db["results"]

    async def ensure_indexes(self) -> None:
        """Create the secondary indexes the API's lookups use."""
        await self.tasks.create_index([("execution_id", ASCENDING)])
        await self.events.create_index([("expires_at", ASCENDING)])

    async def load_executions(self, ids: Iterable[str]) -> dict[str, Doc]:
        """Every execution of ``ids`` that exists, in one query."""
        wanted = list(set(ids))
        if not wanted:
            return {}
        return {doc["_id"]: doc async for doc in self.executions.find({"_id": {"$in": wanted}})}

    async def load_lookups(self, lookups: Lookups, keys: Sequence[LookupKey]) -> None:
        """Load what ``keys`` ask for into ``lookups``: task results stored apart (those
        by action execution id in one query) and executions."""
        wanted = list(dict.fromkeys(keys))
        results = [key for key in wanted if key[0] == "result"]
        await asyncio.gather(
            self._load_results(lookups, results),
            *(self._load_items(lookups, key) for key in wanted if key[0] == "items"),
            *(self._load_lookup(lookups, key) for key in wanted if key[0] not in RESULT_KINDS),
        )

    async def _load_results(self, lookups: Lookups, keys: list[LookupKey]) -> None:
        if not keys:
            return
        found = {
            doc["_id"]: doc["value"]
            async for doc in self.results.find({"_id": {"$in": [key[1] for key in keys]}})
        }
        for key in keys:
            lookups.put_result(key, found.get(key[1]))

    async def _load_items(self, lookups: Lookups, key: LookupKey) -> None:
        task_id, count = str(key[1]), int(key[2] or 0)
        stored = await self.load_item_results(task_id, count)
        lookups.put_result(key, assemble_items(stored, count))

    async def _load_lookup(self, lookups: Lookups, key: LookupKey) -> None:
        """Load the executions ``key`` selects (oldest first) and the definitions they ran
        into ``lookups``, for ``tasks()`` and ``executions()``."""
        query, projection = query_of(key)
        docs = [d async for d in self.executions.find(query, projection).sort("created_at", 1)]
        digests = list({d["spec_hash"] for d in docs if d.get("spec_hash")} - set(lookups.specs))
        specs = {}
        if digests:
            specs = {
                d["_id"]: d["definition"] async for d in self.specs.find({"_id": {"$in": digests}})
            }
        lookups.put(key, docs, specs)

    async def save_spec(self, definition: dict[str, Any]) -> str:
        """Store a workflow definition snapshot once; return its content hash."""
        text = json.dumps(definition, sort_keys=True, default=str)
        digest = hashlib.sha256(text.encode()).hexdigest()
        await self.specs.update_one(
            {"_id": digest}, {"$setOnInsert": {"definition": definition}}, upsert=True
        )
        return digest

    async def load_spec(self, digest: str) -> dict[str, Any] | None:
        """A workflow definition snapshot by its hash."""
        doc = await self.specs.find_one({"_id": digest})
        return doc["definition"] if doc else None

    async def write(self, created: list[Doc], changed: list[tuple[Doc, Doc]]) -> None:
        """Insert new executions and apply version-checked updates, in one bulk write each.

        ``changed`` holds (document, update) pairs; each update applies only if the stored
        version is still the one the document was loaded with.
        """
        ops: list[InsertOne[Doc] | UpdateOne] = [InsertOne(doc) for doc in created]
        ops += [UpdateOne({"_id": d["_id"], "version": d["version"]}, u) for d, u in changed]
        if not ops:
            return
        result = await self.executions.bulk_write(ops, ordered=False)
        if result.matched_count != len(changed):
            raise VersionConflict(
                f"{len(changed) - result.matched_count} execution(s) changed concurrently"
            )

    async def write_tasks(self, tasks: list[Doc]) -> None:
        """Index new task records: id → execution, project, name, created_at.

        The index is written once per task, by an insert that ignores the ones already
        there: updating it on every state change cost an update per task on the hot
        path. Readers take a task's current state from its execution document.
        """
        await insert_once(self.tasks, tasks)

    async def write_item_results(self, results: list[tuple[str, int, str, Any]]) -> None:
        """Store with-items results, each under the key of its task and item."""
        if not results:
            return
        ops = [
            UpdateOne(
                {"_id": item_result_id(task_id, index)},
                {"$set": {"task_id": task_id, "index": index, "state": state, "result": value}},
                upsert=True,
            )
            for task_id, index, state, value in results
        ]
        for start in range(0, len(ops), _WRITE_CHUNK):
            await self.item_results.bulk_write(ops[start : start + _WRITE_CHUNK], ordered=False)

    async def load_item_results(self, task_id: str, count: int) -> dict[int, tuple[str, Any]]:
        """Every stored item result of a with-items task, by item index."""
        ids = [item_result_id(task_id, i) for i in range(count)]
        chunks = [ids[i : i + _LOOKUP_CHUNK] for i in range(0, len(ids), _LOOKUP_CHUNK)]
        found: dict[int, tuple[str, Any]] = {}

        async def load(chunk: list[str]) -> None:
            async for doc in self.item_results.find({"_id": {"$in": chunk}}):
                found[doc["index"]] = (doc["state"], doc["result"])

        await asyncio.gather(*(load(chunk) for chunk in chunks))
        return found

    async def write_results(self, results: dict[str, Any]) -> None:
        """Store large action results apart, by action execution id."""
        if results:
            await self.results.bulk_write(
                [
                    UpdateOne({"_id": aeid}, {"$set": {"value": value}}, upsert=True)
                    for aeid, value in results.items()
                ],
                ordered=False,
            )

    async def load_result(self, action_execution_id: str) -> Any:
        """A large result stored apart (``{_id, value}``, as the executor stores them too)."""
        doc = await self.results.find_one({"_id": action_execution_id})
        return doc["value"] if doc else None

    async def archive(
        self,
        events: list[CloudEvent],
        caused: dict[str, list[str]],
        *,
        received_at: datetime,
        expires_at: datetime,
    ) -> None:
        """Archive events (once each, whatever the redeliveries) with what they caused.

        What an event causes is derived from the event, so a redelivery would store the
        same document: a plain insert that ignores duplicates is enough (and far cheaper
        than an upsert).
        """
        if not events:
            return
        # A batch may hold the same event twice (a redelivery): one document each.
        unique = {event.id: event for event in events}
        docs = [
            {
                "_id": event.id,
                "project": event.project,
                "event": event.matchable(),
                "received_at": received_at,
                "expires_at": expires_at,
                "executions": list(dict.fromkeys(caused.get(event.id, []))),
            }
            for event in unique.values()
        ]
        await insert_once(self.events, docs)

    async def get_event(self, event_id: str) -> Doc | None:
        """An archived event by id."""
        return await self.events.find_one({"_id": event_id})
