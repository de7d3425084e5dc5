"""Replays of archived events through the current rules, dry runs, and retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from engine.replay import Replayer, purge
from engine.store import EngineStore
from schemas import CloudEvent
from schemas.base import utcnow
from schemas.bus import Outbound, Topics
from schemas.events import decode_event
from schemas.replays import ReplayRequest
from tests.engine.policies.policies_support import alert, alert_rule, ruleset

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
