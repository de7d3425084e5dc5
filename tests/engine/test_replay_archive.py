"""Replays of archived events through the current rules, dry runs, takeover of a dead
process's replay, and retention."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from engine.replay import Replayer, purge
from engine.store import EngineStore
from schemas import CloudEvent
from schemas.base import utcnow
from schemas.bus import Outbound, Topics
from schemas.events import decode_event
from schemas.ids import derive_id
from schemas.replays import ReplayRequest
from squall.kafka import KafkaPublisher
from squall.settings import Settings
from tests.engine.policies.policies_support import alert, alert_rule, ruleset
from tests.harness import wait_for
from tests.triggers.timers.timers_support import kafka, read_topic

Db = AsyncDatabase[dict[str, Any]]
TOPICS = Topics("rp.")
RULES = ruleset(
    fix=alert_rule(),
    page=alert_rule(condition="<% $.data.host = 'db-1' %>", input={"who": "oncall"}),
)


class Recorder:
    """A publisher that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[Outbound] = []

    async def publish(self, messages: list[Outbound]) -> None:
        self.sent += messages


async def archived(db: Db, events: list[CloudEvent], hours_ago: float = 1) -> None:
    at = utcnow() - timedelta(hours=hours_ago)
    await EngineStore(db).archive(events, {}, received_at=at, expires_at=at + timedelta(days=1))


def window(**extra: Any) -> ReplayRequest:
    now = utcnow()
    return ReplayRequest(start=now - timedelta(hours=2), end=now, **extra)


async def replay(db: Db, request: ReplayRequest) -> tuple[Any, Recorder]:
    recorder = Recorder()
    replayer = Replayer(db, recorder, TOPICS, lambda: RULES, page=2)
    replay_id = await replayer.start(request, "default")
    await replayer.wait()
    progress = await replayer.get("default", replay_id)
    assert progress is not None and await replayer.get("other", replay_id) is None
    return progress, recorder


async def test_a_replay_resends_the_range_marked_with_its_replay_id(db: Db) -> None:
    events = [alert("web-1"), alert("db-1"), alert("web-2")]
    await archived(db, events)
    await archived(db, [alert("old")], hours_ago=5)
    progress, recorder = await replay(db, window())
    assert (progress.state, progress.scanned, progress.published) == ("done", 3, 3)
    # How far through the range it got: the last scanned event's arrival, an hour ago.
    assert progress.position is not None
    assert abs(progress.position - (utcnow() - timedelta(hours=1))) < timedelta(minutes=1)
    sent = [decode_event(m.value) for m in recorder.sent]
    assert all(m.topic == TOPICS.events for m in recorder.sent)
    assert sorted(e.model_extra["replayof"] for e in sent if e.model_extra) == sorted(
        e.id for e in events
    )
    assert {e.replayid for e in sent} == {progress.id}
    assert not {e.id for e in sent} & {e.id for e in events}


async def test_a_replay_filtered_by_rule_sends_only_what_that_rule_matches(db: Db) -> None:
    await archived(db, [alert("web-1"), alert("db-1"), CloudEvent(source="x", type="other")])
    progress, recorder = await replay(db, window(rules=["fix"]))
    assert (progress.scanned, progress.matched, progress.published) == (3, 2, 2)
    # The replayed events reach only the named rule, whatever else matches them.
    for message in recorder.sent:
        assert [f.rule for f in RULES.fire(decode_event(message.value))] == ["fix"]


async def test_a_dry_run_reports_what_would_fire_and_sends_nothing(db: Db) -> None:
    await archived(db, [alert("db-1", source="nagios")])
    await archived(db, [alert("db-2")])
    progress, recorder = await replay(db, window(dry_run=True, sources=["nagios"]))
    assert recorder.sent == [] and progress.published == 0
    (result,) = progress.results
    assert {(r["rule"], r["outcome"]) for r in result["rules"]} == {
        ("fix", "fired"),
        ("page", "fired"),
    }
    fix = next(r for r in result["rules"] if r["rule"] == "fix")
    assert fix["input"] == {"host": "db-1"} and fix["workflow"] == "remediate"


async def test_replayed_events_are_not_replayed_again(db: Db) -> None:
    await archived(db, [alert("web-1"), alert("web-2", replayid="earlier")])
    progress, _ = await replay(db, window())
    assert progress.scanned == 1


async def test_retention_deletes_only_expired_documents(db: Db) -> None:
    now = utcnow()
    store = EngineStore(db)
    await store.archive([alert("a")], {}, received_at=now, expires_at=now - timedelta(seconds=1))
    kept = alert("b")
    await store.archive([kept], {}, received_at=now, expires_at=now + timedelta(days=1))
    removed = await purge(db, now)
    assert removed["events"] == 1
    assert [d["_id"] async for d in db["events"].find({})] == [kept.id]


class Dying:
    """A publisher whose process stops at its ``at``-th page until ``release`` is set:
    before sending that page or, with ``sent``, once Kafka acknowledged it.
    """

    def __init__(self, publisher: KafkaPublisher, at: int, *, sent: bool = False) -> None:
        self._publisher, self._at, self._sent = publisher, at, sent
        self._calls = 0
        self.stopped, self.release = asyncio.Event(), asyncio.Event()

    async def publish(self, messages: list[Outbound]) -> None:
        self._calls += 1
        if self._calls == self._at:
            if self._sent:
                await self._publisher.publish(messages)
            self.stopped.set()
            await self.release.wait()
            if self._sent:
                return
        await self._publisher.publish(messages)


async def replayed_ids(settings: Settings) -> Counter[str]:
    """How many times each event id is on the events topic."""
    records = await read_topic(settings.kafka_bootstrap or "", Topics(settings.topic_prefix).events)
    return Counter(decode_event(r.value).id for r in records)


async def takeover(
    db: Db, settings: Settings, publisher: KafkaPublisher, *, sent: bool
) -> tuple[Any, list[CloudEvent], Counter[str]]:
    """Seven events replayed two per page by ``api-a``, which dies at its second page;
    ``api-b``'s sweep resumes the replay once the lease lapsed.
    """
    events = [alert(f"web-{i}") for i in range(7)]
    await archived(db, events)
    topics = Topics(settings.topic_prefix)
    dying = Dying(publisher, at=2, sent=sent)
    first = Replayer(db, dying, topics, lambda: RULES, page=2, owner="api-a", lease_s=0.6)
    replay_id = await first.start(window(), "default")
    await dying.stopped.wait()
    await first.stop()
    stuck = await first.get("default", replay_id)
    assert stuck is not None and (stuck.state, stuck.owner, stuck.scanned) == (
        "running",
        "api-a",
        2,
    )

    second = Replayer(db, publisher, topics, lambda: RULES, page=2, owner="api-b", lease_s=0.6)
    await second.ensure_indexes()
    assert await wait_for(second.sweep) == [replay_id]
    await second.wait()
    progress = await second.get("default", replay_id)
    return progress, events, await replayed_ids(settings)


async def test_a_replay_whose_process_died_is_resumed_and_sends_each_event_once(
    db: Db, settings: Settings
) -> None:
    async with kafka(settings) as (publisher, _):
        progress, events, sent = await takeover(db, settings, publisher, sent=False)
    assert (progress.state, progress.scanned, progress.published) == ("done", 7, 7)
    assert (progress.owner, progress.resumes) == ("api-b", 1)
    assert progress.progressed_at is not None and progress.progressed_at >= progress.created_at
    assert sent == Counter({derive_id(e.id, progress.id): 1 for e in events})


async def test_a_page_sent_just_before_dying_is_sent_again_under_the_same_ids(
    db: Db, settings: Settings
) -> None:
    async with kafka(settings) as (publisher, _):
        progress, events, sent = await takeover(db, settings, publisher, sent=True)
    assert (progress.state, progress.published) == ("done", 7)
    assert set(sent) == {derive_id(e.id, progress.id) for e in events}
    assert sorted(sent.values()) == [1] * 5 + [2] * 2


async def test_a_live_owner_keeps_its_replay_by_renewing_the_lease(
    db: Db, settings: Settings
) -> None:
    await archived(db, [alert("web-1"), alert("web-2")])
    async with kafka(settings) as (publisher, topics):
        slow = Dying(publisher, at=1)
        owner = Replayer(db, slow, topics, lambda: RULES, owner="api-a", lease_s=1.0)
        replay_id = await owner.start(window(), "default")
        await slow.stopped.wait()
        await asyncio.sleep(2.5)
        other = Replayer(db, publisher, topics, lambda: RULES, owner="api-b", lease_s=1.0)
        assert await other.sweep() == []
        slow.release.set()
        await owner.wait()
        progress = await owner.get("default", replay_id)
    assert progress is not None
    assert (progress.state, progress.owner, progress.published, progress.resumes) == (
        "done",
        "api-a",
        2,
        0,
    )


async def test_an_owner_that_lost_its_lease_stops_at_its_next_page(
    db: Db, settings: Settings
) -> None:
    events = [alert(f"web-{i}") for i in range(5)]
    await archived(db, events)
    async with kafka(settings) as (publisher, topics):
        paused = Dying(publisher, at=2)
        first = Replayer(db, paused, topics, lambda: RULES, page=2, owner="api-a")
        replay_id = await first.start(window(), "default")
        await paused.stopped.wait()
        # As if api-a had been paused for longer than its lease.
        await db["replays"].update_one({"_id": replay_id}, {"$set": {"lease_until": utcnow()}})
        second = Replayer(db, publisher, topics, lambda: RULES, page=2, owner="api-b")
        assert await second.sweep() == [replay_id]
        await second.wait()
        paused.release.set()
        await first.wait()
        progress = await first.get("default", replay_id)
        sent = await replayed_ids(settings)
    assert progress is not None
    assert (progress.state, progress.owner, progress.published) == ("done", "api-b", 5)
    assert set(sent) == {derive_id(e.id, replay_id) for e in events}
    # api-a sent the page it was stuck on (a harmless repeat), then stopped.
    assert sorted(sent.values()) == [1, 1, 1, 2, 2]
