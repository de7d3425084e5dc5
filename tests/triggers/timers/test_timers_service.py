"""TimerService against the real Kafka- and MongoDB-protocol servers, in this process."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from schemas.bus import Outbound
from schemas.commands import StartExecution, decode_command
from schemas.ids import derive_id
from squall.kafka import KafkaPublisher
from squall.settings import Settings
from tests.triggers.timers.timers_support import (
    events,
    kafka,
    make_timer,
    read_topic,
    services,
)
from triggers.timers import TimerService
from triggers.timers.fires import make_fire, stamp
from triggers.timers.service import fingerprint
from triggers.timers.store import FireStore

Db = AsyncDatabase[dict[str, Any]]
SECOND = timedelta(seconds=1)


def scheduled(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["data"]["scheduled"])


def assert_once_each_without_gaps(times: list[datetime]) -> None:
    counts = Counter(times)
    assert counts and set(counts.values()) == {1}, counts
    ordered = sorted(counts)
    assert [b - a for a, b in itertools.pairwise(ordered)] == [SECOND] * (len(ordered) - 1)


async def test_each_fire_publishes_one_event(settings: Settings, db: Db) -> None:
    timers = {("default", "tick"): make_timer("tick", interval=1)}
    async with kafka(settings) as (publisher, topics):
        async with services(1, db, lambda: timers, publisher, topics):
            await asyncio.sleep(3.5)
        found = events(await read_topic(settings.kafka_bootstrap or "", topics.events))
    assert len(found) >= 3
    assert_once_each_without_gaps([scheduled(e) for e in found])
    first = found[0]
    fire_id = f"default/tick/{stamp(scheduled(first))}"
    assert first["id"] == derive_id(fire_id)
    assert (first["source"], first["type"], first["subject"]) == (
        "squall/timers",
        "tick",
        "default/tick",
    )
    assert first["data"]["timer"] == "tick" and first["data"]["data"] == {"n": 1}


async def test_three_services_racing_publish_each_fire_once(settings: Settings, db: Db) -> None:
    timers = {("default", f"t{i}"): make_timer(f"t{i}", interval=1) for i in range(20)}
    async with kafka(settings) as (publisher, topics):
        async with services(3, db, lambda: timers, publisher, topics):
            await asyncio.sleep(4)
        found = events(await read_topic(settings.kafka_bootstrap or "", topics.events))
    for i in range(20):
        mine = [scheduled(e) for e in found if e["subject"] == f"default/t{i}"]
        assert len(mine) >= 3
        assert_once_each_without_gaps(mine)
    unpublished = await db["timer_fires"].count_documents({"published": False})
    assert unpublished == 0


class _SlowPublisher:
    """Kafka, reached slowly: the service is stopped while its publish is in flight."""

    def __init__(self, inner: KafkaPublisher, started: asyncio.Event) -> None:
        self._inner = inner
        self._started = started

    async def publish(self, messages: list[Outbound]) -> None:
        self._started.set()
        await asyncio.sleep(0.5)
        await self._inner.publish(messages)


async def test_a_service_stopped_mid_publish_finishes_what_it_claimed(
    settings: Settings, db: Db
) -> None:
    timers = {("default", "tick"): make_timer("tick", interval=1)}
    started = asyncio.Event()
    async with kafka(settings) as (publisher, topics):
        service = TimerService(db, lambda: timers, _SlowPublisher(publisher, started), topics)
        task = asyncio.create_task(service.run())
        await asyncio.wait_for(started.wait(), 5)
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        found = events(await read_topic(settings.kafka_bootstrap or "", topics.events))
    claimed = [d["_id"] async for d in db["timer_fires"].find({})]
    assert claimed and await db["timer_fires"].count_documents({"published": False}) == 0
    assert sorted(e["id"] for e in found) == sorted(derive_id(c) for c in claimed)


async def test_a_workflow_timer_starts_an_execution(settings: Settings, db: Db) -> None:
    timer = make_timer("nightly", interval=1, event=None, workflow="power_off", input={"tag": "x"})
    async with kafka(settings) as (publisher, topics):
        async with services(2, db, lambda: {("ops", "nightly"): timer}, publisher, topics):
            await asyncio.sleep(2.5)
        records = await read_topic(settings.kafka_bootstrap or "", topics.commands)
    commands = [decode_command(r.value) for r in records]
    assert commands and all(isinstance(c, StartExecution) for c in commands)
    starts = [c for c in commands if isinstance(c, StartExecution)]
    assert len({c.execution_id for c in starts}) == len(starts)
    start, record = starts[0], records[0]
    assert record.key == start.execution_id.encode()
    assert (start.project, start.workflow_name, start.input) == ("ops", "power_off", {"tag": "x"})
    fire_docs = [d async for d in db["timer_fires"].find({})]
    derived = {derive_id(d["_id"], "execution") for d in fire_docs}
    assert {c.execution_id for c in starts} <= derived


async def test_count_limits_executions_across_processes(settings: Settings, db: Db) -> None:
    timers = {("default", "twice"): make_timer("twice", interval=1, count=2)}
    async with kafka(settings) as (publisher, topics):
        async with services(3, db, lambda: timers, publisher, topics):
            await asyncio.sleep(4)
        found = events(await read_topic(settings.kafka_bootstrap or "", topics.events))
    assert len(found) == 2


async def test_a_claim_left_by_a_dead_process_is_taken_over(settings: Settings, db: Db) -> None:
    timer = make_timer("tick", interval=1)
    async with kafka(settings) as (publisher, topics):
        # A process claimed the fire two seconds from now, then died before publishing.
        doomed = datetime.now(UTC).replace(microsecond=0) + 2 * SECOND
        fire = make_fire(topics, ("default", "tick"), timer, doomed)
        won, _ = await FireStore(db, "dead").claim([fire], datetime.now(UTC))
        assert won == [fire]
        async with services(
            1, db, lambda: {("default", "tick"): timer}, publisher, topics, stale_claim_s=1.0
        ):
            await asyncio.sleep(4.5)
        found = events(await read_topic(settings.kafka_bootstrap or "", topics.events))
    assert_once_each_without_gaps([scheduled(e) for e in found])
    assert doomed in {scheduled(e) for e in found}
    doc = await db["timer_fires"].find_one({"_id": fire.id})
    assert doc is not None and doc["published"] and doc["owner"] == "svc0"


async def test_catch_up_after_downtime_runs_the_latest_missed_fires(
    settings: Settings, db: Db
) -> None:
    timer = make_timer("tick", interval=1, misfire={"mode": "catch_up", "max": 3})
    now = datetime.now(UTC).replace(microsecond=0)
    last = now - 30 * SECOND
    await db["timer_state"].insert_one(
        {
            "_id": "default/tick",
            "fingerprint": fingerprint(timer),
            "last": stamp(last),
            "since": stamp(now - 60 * SECOND),
            "fired": 0,
        }
    )
    async with kafka(settings) as (publisher, topics):
        # The services' own clock decides what is missed: start measuring from there.
        started = datetime.now(UTC)
        async with services(2, db, lambda: {("default", "tick"): timer}, publisher, topics):
            await asyncio.sleep(1.5)
        found = sorted(
            scheduled(e)
            for e in events(await read_topic(settings.kafka_bootstrap or "", topics.events))
        )
    assert_once_each_without_gaps(found)
    # 3 missed fires (more than 5 s late) caught up, then the on-time ones.
    missed = [at for at in found if at < started - 5 * SECOND]
    assert len(missed) <= 3 and started - 9 * SECOND <= found[0] <= started - 6 * SECOND
    assert found[-1] >= started


async def test_skip_after_downtime_runs_no_missed_fire(settings: Settings, db: Db) -> None:
    timer = make_timer("tick", interval=1)
    now = datetime.now(UTC).replace(microsecond=0)
    await db["timer_state"].insert_one(
        {
            "_id": "default/tick",
            "fingerprint": fingerprint(timer),
            "last": stamp(now - 30 * SECOND),
            "since": stamp(now - 60 * SECOND),
            "fired": 0,
        }
    )
    async with kafka(settings) as (publisher, topics):
        async with services(1, db, lambda: {("default", "tick"): timer}, publisher, topics):
            await asyncio.sleep(1.5)
        found = [
            scheduled(e)
            for e in events(await read_topic(settings.kafka_bootstrap or "", topics.events))
        ]
    assert found and min(found) >= now - 6 * SECOND


async def test_changed_definitions_are_picked_up_while_running(settings: Settings, db: Db) -> None:
    timers = {("default", "a"): make_timer("a", interval=1)}
    async with kafka(settings) as (publisher, topics):
        async with services(2, db, lambda: timers, publisher, topics):
            await asyncio.sleep(2)
            timers[("default", "b")] = make_timer("b", interval=1)
            await asyncio.sleep(2.5)
            removed_at = datetime.now(UTC)
            del timers[("default", "a")]
            await asyncio.sleep(2)
        found = events(await read_topic(settings.kafka_bootstrap or "", topics.events))
    a = [scheduled(e) for e in found if e["subject"] == "default/a"]
    b = [scheduled(e) for e in found if e["subject"] == "default/b"]
    assert_once_each_without_gaps(a)
    assert_once_each_without_gaps(b)
    assert len(b) >= 2 and max(a) <= removed_at + 1.5 * SECOND
