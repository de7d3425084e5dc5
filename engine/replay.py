"""The event archive over time: replaying a time range through the current rules, and
deleting what outlived its retention.

A replay re-sends each chosen archived event to the events topic under a new id
(derived from the original id and the replay id, so a retried replay sends the same
ids), with the extension attributes ``replayid``, ``replayof`` (the original id) and,
when the replay names rules, ``replayrules`` (only those rules see it). Replayed
events are never chosen by a later replay. Progress is kept in ``replays``, updated
after every page of events.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from engine.evaluations import purge_expired
from engine.rules import REPLAY_RULES_ATTRIBUTE, Evaluation, RuleSet
from schemas import CloudEvent
from schemas.base import utcnow
from schemas.bus import Outbound, Publisher, Topics
from schemas.ids import derive_id
from schemas.replays import ReplayProgress, ReplayRequest

log = logging.getLogger(__name__)

Doc = dict[str, Any]
PAGE = 500
#: A dry run keeps this many per-event results in its replay document.
RESULTS_SHOWN = 1000
#: Collections whose documents carry ``expires_at`` and are purged by ``purge``.
EXPIRING = ("events", "rule_evaluations", "rule_state", "rule_runs")
_PURGE_CHUNK = 1000


class Replayer:
    """Starts replays in the background and reports their progress."""

    def __init__(
        self,
        db: AsyncDatabase[Doc],
        publisher: Publisher,
        topics: Topics,
        rules: Callable[[], RuleSet],
        *,
        page: int = PAGE,
    ) -> None:
        self._events = db["events"]
        self.replays = db["replays"]
        self._publisher = publisher
        self._topics = topics
        self._rules = rules
        self._page = page
        self._running: set[asyncio.Task[None]] = set()

    async def ensure_indexes(self) -> None:
        """The index behind choosing archived events by project and time received."""
        await self._events.create_index([("project", ASCENDING), ("received_at", ASCENDING)])

    async def start(self, request: ReplayRequest, project: str) -> str:
        """Record a new replay and run it in the background; return its id."""
        replay_id = uuid.uuid4().hex
        await self.replays.insert_one(
            {
                "_id": replay_id,
                "project": project,
                "state": "running",
                "request": request.model_dump(mode="json"),
                "scanned": 0,
                "matched": 0,
                "published": 0,
                "results": [],
                "created_at": utcnow(),
            }
        )
        task = asyncio.create_task(self.run(replay_id, request, project))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return replay_id

    async def get(self, project: str, replay_id: str) -> ReplayProgress | None:
        """A replay's progress, or None if the project has no such replay."""
        doc = await self.replays.find_one({"_id": replay_id})
        if doc is None or doc["project"] != project:
            return None
        return ReplayProgress.model_validate({**doc, "id": doc["_id"]})

    async def wait(self) -> None:
        """Wait for the replays this process runs (used at shutdown and in tests)."""
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def run(self, replay_id: str, request: ReplayRequest, project: str) -> None:
        """Scan the archive page by page, publishing or reporting, updating progress."""
        try:
            await self._scan(replay_id, request, project)
        except Exception as exc:
            log.exception("replay %s failed", replay_id)
            await self.replays.update_one(
                {"_id": replay_id},
                {"$set": {"state": "failed", "error": str(exc), "finished_at": utcnow()}},
            )
            return
        await self.replays.update_one(
            {"_id": replay_id}, {"$set": {"state": "done", "finished_at": utcnow()}}
        )

    async def _scan(self, replay_id: str, request: ReplayRequest, project: str) -> None:
        after: tuple[datetime, str] | None = None
        scanned = 0
        while scanned < request.max_events:
            docs = await self._page_after(request, project, after)
            if not docs:
                return
            docs = docs[: request.max_events - scanned]
            scanned += len(docs)
            after = (docs[-1]["received_at"], docs[-1]["_id"])
            rules = self._rules()
            chosen: list[tuple[CloudEvent, list[Evaluation]]] = []
            for doc in docs:
                event = CloudEvent.model_validate(doc["event"])
                evaluations = [
                    e for e in rules.evaluate(event) if not request.rules or e.rule in request.rules
                ]
                if request.rules and not evaluations:
                    continue
                chosen.append((event, evaluations))
            update: Doc = {"$inc": {"scanned": len(docs), "matched": len(chosen)}}
            if request.dry_run:
                results = [_dry_result(e, evs) for e, evs in chosen]
                update["$push"] = {"results": {"$each": results, "$slice": RESULTS_SHOWN}}
            else:
                events = [_replayed(e, replay_id, request.rules) for e, _ in chosen]
                await self._publisher.publish(
                    [Outbound(self._topics.events, e.subject or e.id, e.to_bytes()) for e in events]
                )
                update["$inc"]["published"] = len(events)
            await self.replays.update_one({"_id": replay_id}, update)

    async def _page_after(
        self, request: ReplayRequest, project: str, after: tuple[datetime, str] | None
    ) -> list[Doc]:
        query: Doc = {
            "project": project,
            "received_at": {"$gte": request.start, "$lt": request.end},
            "event.replayid": {"$exists": False},
        }
        if request.sources:
            query["event.source"] = {"$in": request.sources}
        if request.types:
            query["event.type"] = {"$in": request.types}
        if after is not None:
            at, last = after
            query["$or"] = [{"received_at": {"$gt": at}}, {"received_at": at, "_id": {"$gt": last}}]
        cursor = self._events.find(query).sort([("received_at", ASCENDING), ("_id", ASCENDING)])
        return [doc async for doc in cursor.limit(self._page)]


def _replayed(event: CloudEvent, replay_id: str, rules: list[str]) -> CloudEvent:
    """The copy of an archived event that a replay sends."""
    fields = event.model_dump()
    fields.update(id=derive_id(event.id, replay_id), replayid=replay_id, replayof=event.id)
    if rules:
        fields[REPLAY_RULES_ATTRIBUTE] = ",".join(rules)
    return CloudEvent.model_validate(fields)


def _dry_result(event: CloudEvent, evaluations: list[Evaluation]) -> Doc:
    """What a dry run reports for one event."""
    return {
        "event_id": event.id,
        "type": event.type,
        "source": event.source,
        "rules": [
            {
                "rule": e.rule,
                "outcome": e.outcome,
                "reason": e.reason,
                "workflow": e.firing.command.workflow_name if e.firing else None,
                "input": e.firing.command.input if e.firing else None,
            }
            for e in evaluations
        ],
    }


async def purge(db: AsyncDatabase[Doc], now: datetime | None = None) -> dict[str, int]:
    """Delete, in batches, archived events, evaluation records and policy state past
    their ``expires_at``; return how many went per collection.
    """
    now = now or utcnow()
    return {name: await purge_expired(db[name], now, _PURGE_CHUNK) for name in EXPIRING}


async def run_retention(db: AsyncDatabase[Doc], interval_s: float = 300.0) -> None:
    """Purge expired documents every ``interval_s`` seconds, forever."""
    while True:
        try:
            removed = await purge(db)
            if any(removed.values()):
                log.info("retention removed %s", removed)
        except Exception as exc:
            log.warning("retention pass failed: %s", exc)
        await asyncio.sleep(interval_s)
