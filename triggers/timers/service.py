"""The timer process: a heap of next fire times, claimed and published exactly once.

Every timer process schedules every timer. When a fire is due, each process tries to
claim it (a unique key in MongoDB); the one that wins publishes and records it, the
others only check back after ``stale_claim_s`` that it was published, and take the claim
over if its owner died before publishing. The loop sleeps until the earliest fire, the
earliest check, or the next look at the definitions, whichever comes first.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import logging
import os
import socket
import uuid
from collections.abc import Callable, Coroutine, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from schemas.base import utcnow
from schemas.bus import Publisher, Topics
from schemas.definitions import Timer
from triggers.timers.errors import TimerError
from triggers.timers.fires import Fire, TimerKey, make_fire, stamp, timer_id
from triggers.timers.misfire import plan
from triggers.timers.schedule import Schedule
from triggers.timers.store import FireStore, TimerState

log = logging.getLogger(__name__)

#: A fire less late than this is on time, not missed (the misfire policy ignores it).
ON_TIME = timedelta(seconds=5)
#: How often the definitions are compared with what is scheduled.
SYNC_INTERVAL_S = 1.0
#: Pause before retrying after MongoDB or Kafka failed.
RETRY = timedelta(seconds=1)
#: Most fires handled in one round (one claim batch, one publish).
BATCH = 2000
#: How long a stopping service may take to finish its round and record what it published.
FLUSH_TIMEOUT_S = 5.0

_T = TypeVar("_T")


@dataclass
class _Entry:
    timer: Timer
    schedule: Schedule
    generation: int
    remaining: int | None


@dataclass(frozen=True)
class _Due:
    key: TimerKey
    generation: int
    at: datetime
    chained: bool  # the timer's next fire is scheduled from this one


async def _uninterrupted(round_: Coroutine[Any, Any, None]) -> None:
    """Run one claim-and-publish round to its end even if the service is stopped meanwhile.

    A stop in the middle would leave fires claimed but unpublished until another process
    presumes this one dead (``stale_claim_s`` later), delaying them for no reason.
    """
    task = asyncio.ensure_future(round_)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        with suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, FLUSH_TIMEOUT_S)
        raise


def fingerprint(timer: Timer) -> str:
    """Changes whenever the definition does (which restarts its count)."""
    return hashlib.sha256(timer.model_dump_json().encode()).hexdigest()[:20]


class TimerService:
    """Fires every enabled timer ``timers()`` returns, exactly once across all processes.

    Args:
        db: the database holding ``timer_fires`` and ``timer_state``.
        timers: the current definitions by ``(project, name)``; called about every second.
        publisher: publishes the fires' events and commands.
        topics: where they go.
        owner: this process's name on its claims (default: host, pid and a random part).
        stale_claim_s: how long a claim may stay unpublished before another process
            takes it over (its owner is presumed dead).
    """

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        timers: Callable[[], Mapping[tuple[str, str], Timer]],
        publisher: Publisher,
        topics: Topics,
        *,
        owner: str | None = None,
        stale_claim_s: float = 30.0,
    ) -> None:
        owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._store = FireStore(db, owner)
        self._timers = timers
        self._publisher = publisher
        self._topics = topics
        self._stale = timedelta(seconds=stale_claim_s)
        self._entries: dict[TimerKey, _Entry] = {}
        self._generations = itertools.count()
        self._seq = itertools.count()
        self._due: list[tuple[datetime, int, _Due]] = []
        self._checks: list[tuple[datetime, int, str]] = []
        self._unrecorded: list[Fire] = []
        self._published = asyncio.Event()

    async def run(self) -> None:
        """Schedule and fire until cancelled."""
        await self._store.ensure_indexes()
        recorder = asyncio.create_task(self._record_published())
        try:
            await self._loop()
        finally:
            recorder.cancel()
            with suppress(asyncio.CancelledError):
                await recorder
            # Best effort: a fire published but not recorded is published again (same
            # ids) by whoever takes its claim over.
            with suppress(Exception):
                await asyncio.wait_for(self._record_pending(), FLUSH_TIMEOUT_S)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_sync = loop.time()
        while True:
            if loop.time() >= next_sync:
                try:
                    await self._sync()
                except PyMongoError as exc:
                    log.warning("could not load timer state (%s); retrying", exc)
                next_sync = loop.time() + SYNC_INTERVAL_S
            now = utcnow()
            due = self._pop(self._due, now)
            if due:
                await _uninterrupted(self._fire(due))
            checks = self._pop(self._checks, now)
            if checks:
                await _uninterrupted(self._verify(checks))
            wake = [heap[0][0] for heap in (self._due, self._checks) if heap]
            delay = min([next_sync - loop.time(), *((w - utcnow()).total_seconds() for w in wake)])
            if delay > 0:
                await asyncio.sleep(delay)

    async def _record_published(self) -> None:
        # Recording runs beside firing: the next fires need not wait for it.
        while True:
            await self._published.wait()
            self._published.clear()
            await self._record_pending()

    async def _record_pending(self) -> None:
        while self._unrecorded:
            fires = self._unrecorded[:BATCH]
            try:
                await self._store.mark_published(fires, utcnow())
            except PyMongoError as exc:
                log.warning("could not record %d published timer fires (%s)", len(fires), exc)
                for fire in fires:
                    self._check(fire.id, utcnow() + RETRY)
            del self._unrecorded[: len(fires)]

    @staticmethod
    def _pop(heap: list[tuple[datetime, int, _T]], now: datetime) -> list[_T]:
        items: list[_T] = []
        while heap and heap[0][0] <= now and len(items) < BATCH:
            items.append(heapq.heappop(heap)[2])
        return items

    def _schedule(self, item: _Due, run_at: datetime | None = None) -> None:
        heapq.heappush(self._due, (run_at or item.at, next(self._seq), item))

    def _check(self, fire_id: str, at: datetime) -> None:
        heapq.heappush(self._checks, (at, next(self._seq), fire_id))

    async def _sync(self) -> None:
        current = self._timers()
        for key in [k for k in self._entries if k not in current or not current[k].enabled]:
            del self._entries[key]
        changed = {
            key: timer
            for key, timer in current.items()
            if timer.enabled
            and (
                (entry := self._entries.get(key)) is None
                or (entry.timer is not timer and entry.timer != timer)
            )
        }
        if changed:
            await self._build(changed)

    async def _build(self, timers: dict[TimerKey, Timer]) -> None:
        schedules = {}
        for key, timer in timers.items():
            try:
                schedules[key] = Schedule(timer)
            except TimerError as exc:
                log.error("timer %s cannot be scheduled: %s", timer_id(key), exc)
                self._entries.pop(key, None)
        now = utcnow()
        states = await self._store.load_states(
            [(timer_id(key), fingerprint(timers[key])) for key in schedules], now
        )
        plans = {}
        for key, schedule in schedules.items():
            known = states.get(timer_id(key)) or TimerState(None, now, 0)
            last = max(known.last or known.since, known.since)
            plans[key] = plan(schedule, timers[key].misfire, last=last, now=now, grace=ON_TIME)
        probes = {f"{timer_id(key)}/{stamp(at)}": key for key, p in plans.items() for at in p.probe}
        claimed, unfinished = await self._store.lookup(list(probes)) if probes else (set(), [])
        for claim in unfinished:
            self._check(claim.fire.id, now)
        for key, schedule in schedules.items():
            timer, state, p = timers[key], states.get(timer_id(key)), plans[key]
            remaining = None
            if timer.count is not None:
                earlier = sum(1 for fire_id in claimed if probes[fire_id] == key)
                remaining = max(0, timer.count - (state.fired if state else 0) - earlier)
            entry = _Entry(timer, schedule, next(self._generations), remaining)
            self._entries[key] = entry
            for at in p.fire_now:
                self._schedule(_Due(key, entry.generation, at, chained=False), run_at=now)
            if p.resume is not None:
                self._schedule(_Due(key, entry.generation, p.resume, chained=True))

    async def _fire(self, due: list[_Due]) -> None:
        now = utcnow()
        items: list[_Due] = []
        fires: list[Fire] = []
        for item in due:
            entry = self._entries.get(item.key)
            if entry is None or entry.generation != item.generation or entry.remaining == 0:
                continue
            if entry.remaining is not None:
                entry.remaining -= 1
            items.append(item)
            fires.append(make_fire(self._topics, item.key, entry.timer, item.at))
        if not fires:
            return
        try:
            won, lost = await self._store.claim(fires, now)
        except PyMongoError as exc:
            log.warning("could not claim %d timer fires (%s); retrying", len(fires), exc)
            for item in items:
                entry = self._entries[item.key]
                if entry.remaining is not None:
                    entry.remaining += 1
                self._schedule(item, run_at=now + RETRY)
            return
        for item in items:
            if item.chained:
                self._follow(item, now)
        for fire in lost:
            self._check(fire.id, now + self._stale)
        await self._publish(won)

    def _follow(self, item: _Due, now: datetime) -> None:
        """Schedule the fire after ``item`` (and any this process itself fell behind on)."""
        entry = self._entries.get(item.key)
        if entry is None or entry.generation != item.generation or entry.remaining == 0:
            return
        following = entry.schedule.after(item.at)
        if following is not None and following < now - ON_TIME:
            behind = plan(entry.schedule, entry.timer.misfire, last=item.at, now=now, grace=ON_TIME)
            for at in behind.fire_now:
                self._schedule(_Due(item.key, item.generation, at, chained=False), run_at=now)
            following = behind.resume
        if following is not None:
            self._schedule(_Due(item.key, item.generation, following, chained=True))

    async def _publish(self, fires: list[Fire]) -> None:
        if not fires:
            return
        try:
            await self._publisher.publish([fire.message for fire in fires])
        except Exception as exc:  # any publishing failure is retried the same way
            log.warning("could not publish %d timer fires (%s); retrying", len(fires), exc)
            for fire in fires:
                self._check(fire.id, utcnow() + RETRY)
            return
        self._unrecorded.extend(fires)
        self._published.set()

    async def _verify(self, fire_ids: list[str]) -> None:
        """Finish the fires among ``fire_ids`` that are still unpublished: this process's
        own, and others' whose claim went stale."""
        now = utcnow()
        try:
            _, unfinished = await self._store.lookup(fire_ids)
        except PyMongoError as exc:
            log.warning("could not check %d timer fires (%s); retrying", len(fire_ids), exc)
            for fire_id in fire_ids:
                self._check(fire_id, now + RETRY)
            return
        mine = [c.fire for c in unfinished if c.owner == self._store.owner]
        stale = [
            c
            for c in unfinished
            if c.owner != self._store.owner and c.claimed_at + self._stale <= now
        ]
        for claim in unfinished:
            if claim.owner != self._store.owner and claim.claimed_at + self._stale > now:
                self._check(claim.fire.id, claim.claimed_at + self._stale)
        taken = await asyncio.gather(*(self._store.take_over(c, now) for c in stale))
        for claim, ok in zip(stale, taken, strict=True):
            if ok:
                log.info("took over timer fire %s from %s", claim.fire.id, claim.owner)
                mine.append(claim.fire)
            else:
                self._check(claim.fire.id, now + self._stale)
        await self._publish(mine)
