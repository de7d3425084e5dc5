"""The event archive over time: replaying a time range through the current rules, and
deleting what outlived its retention.

A replay re-sends each chosen archived event to the events topic under a new id
(derived from the original id and the replay id, so a retried replay sends the same
ids), with the extension attributes ``replayid``, ``replayof`` (the original id) and,
when the replay names rules, ``replayrules`` (only those rules see it). Replayed
events are never chosen by a later replay. Progress is kept in ``replays``, updated
after every page of events together with the cursor (the last event of the page).

A replay runs inside one API process, its ``owner``, which holds a lease on it
(``lease_until``), renewed on a timer and after every page. When that process dies
the lease lapses and another API process's ``sweep`` takes the replay over, resuming
after the last recorded page: the page that was in flight is sent again, under the
same derived ids, so its events are recognised downstream as repeats, and the counts
stay exact because a page's counts and cursor are recorded in one update. Every
update is conditional on still being the owner, so a process that lost its lease
(paused, not dead) stops at its next page instead of competing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from engine.evaluations import purge_expired
from engine.rules import REPLAY_RULES_ATTRIBUTE, Evaluation, RuleSet
from schemas import CloudEvent
from schemas.base import as_utc, utcnow
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
#: How long a replay stays its owner's without a renewal.
LEASE_S = 30.0


class LeaseLost(Exception):
    """Another process took the replay over: this one must stop running it."""


def process_name() -> str:
    """Names this process as a replay owner: host, pid, and a tag telling restarts apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Replayer:
    """Starts replays in the background, reports their progress, and takes over the
    replays of processes that stopped renewing their leases.
    """

    def __init__(
        self,
        db: AsyncDatabase[Doc],
        publisher: Publisher,
        topics: Topics,
        rules: Callable[[], RuleSet],
        *,
        page: int = PAGE,
        owner: str | None = None,
        lease_s: float = LEASE_S,
    ) -> None:
        self._events = db["events"]
        self.replays = db["replays"]
        self._publisher = publisher
        self._topics = topics
        self._rules = rules
        self._page = page
        self.owner = owner or process_name()
        self._lease = timedelta(seconds=lease_s)
        self._running: set[asyncio.Task[None]] = set()

    async def ensure_indexes(self) -> None:
        """The indexes behind choosing archived events by project and time received,
        and behind the sweep's query for running replays whose lease lapsed.
        """
        await self._events.create_index([("project", ASCENDING), ("received_at", ASCENDING)])
        await self.replays.create_index([("state", ASCENDING), ("lease_until", ASCENDING)])

    async def start(self, request: ReplayRequest, project: str) -> str:
        """Record a new replay, owned by this process, and run it in the background;
        return its id.
        """
        replay_id = uuid.uuid4().hex
        now = utcnow()
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
                "created_at": now,
                "owner": self.owner,
                "lease_until": now + self._lease,
                "progressed_at": now,
                "cursor": None,
                "resumes": 0,
            }
        )
        self._launch(replay_id, request, project)
        return replay_id

    async def sweep(self) -> list[str]:
        """Take over every running replay whose lease lapsed and resume it here; return
        their ids. Each is claimed by one atomic update, so two sweeping processes
        never both take the same replay. This process's own replays are left alone
        even when late (say, a blocked event loop): their task is still running.
        """
        taken: list[str] = []
        while True:
            now = utcnow()
            previous = await self.replays.find_one_and_update(
                {"state": "running", "lease_until": {"$lt": now}, "owner": {"$ne": self.owner}},
                {
                    "$set": {"owner": self.owner, "lease_until": now + self._lease},
                    "$inc": {"resumes": 1},
                },
                return_document=ReturnDocument.BEFORE,
            )
            if previous is None:
                return taken
            replay_id = previous["_id"]
            log.warning(
                "replay %s: owner %s stopped renewing its lease; resuming it after its last page",
                replay_id,
                previous.get("owner"),
            )
            try:
                request = ReplayRequest.model_validate(previous["request"])
            except ValidationError as exc:
                await self._finish(replay_id, "failed", f"interrupted; cannot resume: {exc}")
                continue
            self._launch(replay_id, request, previous["project"])
            taken.append(replay_id)

    async def run_sweeps(self, interval_s: float | None = None) -> None:
        """Sweep every ``interval_s`` (a third of the lease unless told), forever."""
        interval = interval_s or self._lease.total_seconds() / 3
        while True:
            try:
                await self.sweep()
            except Exception as exc:
                log.warning("replay sweep failed: %s", exc)
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        """Stop this process's replays where they are, without finishing them: their
        leases lapse and another process's sweep resumes them.
        """
        for task in self._running:
            task.cancel()
        await self.wait()

    def _launch(self, replay_id: str, request: ReplayRequest, project: str) -> None:
        task = asyncio.create_task(self.run(replay_id, request, project))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def get(self, project: str, replay_id: str) -> ReplayProgress | None:
        """A replay's progress, or None if the project has no such replay."""
        doc = await self.replays.find_one({"_id": replay_id})
        if doc is None or doc["project"] != project:
            return None
        cursor = doc.get("cursor")
        position = as_utc(cursor["received_at"]) if cursor else None
        return ReplayProgress.model_validate({**doc, "id": doc["_id"], "position": position})

    async def wait(self) -> None:
        """Wait for the replays this process runs (used at shutdown and in tests)."""
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def run(self, replay_id: str, request: ReplayRequest, project: str) -> None:
        """Scan the archive page by page from the recorded cursor, publishing or
        reporting, updating progress, while renewing this process's lease.
        """
        heartbeat = asyncio.create_task(self._renew(replay_id))
        try:
            await self._scan(replay_id, request, project)
        except LeaseLost:
            log.warning("replay %s: taken over by another process; stopping here", replay_id)
            return
        except Exception as exc:
            log.exception("replay %s failed", replay_id)
            await self._finish(replay_id, "failed", str(exc))
            return
        finally:
            heartbeat.cancel()
        await self._finish(replay_id, "done")

    async def _renew(self, replay_id: str) -> None:
        """Push the lease forward every third of its length while the replay runs."""
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            try:
                renewed = await self.replays.update_one(
                    self._owned(replay_id), {"$set": {"lease_until": utcnow() + self._lease}}
                )
            except Exception as exc:
                log.warning("replay %s: lease renewal failed: %s", replay_id, exc)
                continue
            if renewed.matched_count == 0:
                return

    def _owned(self, replay_id: str) -> Doc:
        return {"_id": replay_id, "owner": self.owner, "state": "running"}

    async def _finish(self, replay_id: str, state: str, error: str | None = None) -> None:
        fields: Doc = {"state": state, "finished_at": utcnow()}
        if error is not None:
            fields["error"] = error
        await self.replays.update_one(self._owned(replay_id), {"$set": fields})

    async def _scan(self, replay_id: str, request: ReplayRequest, project: str) -> None:
        progress = await self.replays.find_one(self._owned(replay_id))
        if progress is None:
            raise LeaseLost(replay_id)
        cursor = progress.get("cursor")
        after = (cursor["received_at"], cursor["id"]) if cursor else None
        scanned = progress["scanned"]
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
            now = utcnow()
            update: Doc = {
                "$inc": {"scanned": len(docs), "matched": len(chosen)},
                "$set": {
                    "cursor": {"received_at": after[0], "id": after[1]},
                    "progressed_at": now,
                    "lease_until": now + self._lease,
                },
            }
            if request.dry_run:
                results = [_dry_result(e, evs) for e, evs in chosen]
                update["$push"] = {"results": {"$each": results, "$slice": RESULTS_SHOWN}}
            else:
                events = [_replayed(e, replay_id, request.rules) for e, _ in chosen]
                await self._publisher.publish(
                    [Outbound(self._topics.events, e.subject or e.id, e.to_bytes()) for e in events]
                )
                update["$inc"]["published"] = len(events)
            recorded = await self.replays.update_one(self._owned(replay_id), update)
            if recorded.matched_count == 0:
                raise LeaseLost(replay_id)

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
