"""One running execution per key: skip, queue, replace, cancel, and cancel-on."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from engine.policies import PolicyGate
from tests.engine.policies.policies_support import (
    alert,
    alert_rule,
    cancels,
    ended,
    ruleset,
    starts,
)

Db = AsyncDatabase[dict[str, Any]]
KEY = "<% $.data.host %>"


def concurrency(mode: str, **extra: Any) -> dict[str, Any]:
    return {"concurrency": {"key": KEY, "mode": mode}, **extra}


async def test_skip_drops_matches_while_one_runs_and_admits_after_it_ended(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(r=alert_rule(concurrency("skip")))
    first = await gate.admit(rules, [alert("a"), alert("a"), alert("b")])
    assert [r.outcome for r in first.records] == ["fired", "concurrency_skip", "fired"]
    running = first.records[0].execution_id
    assert running is not None
    assert f"execution {running} is running" == first.records[1].reason
    after = await gate.admit(rules, [ended(running), alert("a")])
    assert [r.outcome for r in after.records] == ["fired"]


async def test_queue_starts_the_next_one_when_the_running_one_ends(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(r=alert_rule(concurrency("queue")))
    batch = await gate.admit(rules, [alert("a"), alert("a"), alert("a")])
    assert [r.outcome for r in batch.records] == ["fired", "queued", "queued"]
    assert len(starts(batch.commands)) == 1
    first, second, third = (r.execution_id or "" for r in batch.records)

    handed = await gate.admit(rules, [ended(first, "error")])
    assert [c.execution_id for c in starts(handed.commands)] == [second]
    # A redelivered end starts the same one again (idempotent in the engine), no other.
    again = await gate.admit(rules, [ended(first, "error")])
    assert [c.execution_id for c in starts(again.commands)] == [second]
    last = await gate.admit(rules, [ended(second)])
    assert [c.execution_id for c in starts(last.commands)] == [third]
    assert (await gate.admit(rules, [ended(third)])).commands == []


async def test_replace_cancels_the_running_one_and_starts_the_new_one_after(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(r=alert_rule(concurrency("replace")))
    first = await gate.admit(rules, [alert("a")])
    old = first.records[0].execution_id or ""
    second = await gate.admit(rules, [alert("a")])
    assert second.records[0].outcome == "queued"
    assert cancels(second.commands) == [old] and starts(second.commands) == []
    new = second.records[0].execution_id
    done = await gate.admit(rules, [ended(old, "cancelled")])
    assert [c.execution_id for c in starts(done.commands)] == [new]


async def test_cancel_mode_cancels_the_running_one_and_starts_nothing(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(r=alert_rule(concurrency("cancel")))
    first = await gate.admit(rules, [alert("a")])
    old = first.records[0].execution_id or ""
    second = await gate.admit(rules, [alert("a")])
    assert second.records[0].outcome == "concurrency_cancel"
    assert second.records[0].cancelled == (old,)
    assert cancels(second.commands) == [old] and starts(second.commands) == []


async def test_a_resolved_alert_cancels_its_remediation_and_drops_the_queue(db: Db) -> None:
    gate = PolicyGate(db)
    rule = alert_rule(concurrency("queue", **{"cancel-on": {"type": ["alert.resolved"]}}))
    rules = ruleset(r=rule)
    batch = await gate.admit(rules, [alert("a"), alert("a"), alert("b")])
    running = batch.records[0].execution_id or ""
    resolved = await gate.admit(rules, [alert("a", type_="alert.resolved")])
    assert cancels(resolved.commands) == [running]
    (record,) = resolved.records
    assert (record.outcome, record.cancelled) == ("cancel_on", (running,))
    # The queued match for "a" is gone: nothing starts once the cancelled one ends.
    assert starts((await gate.admit(rules, [ended(running, "cancelled")])).commands) == []
    nothing = await gate.admit(rules, [alert("c", type_="alert.resolved")])
    assert nothing.commands == [] and nothing.records[0].reason == (
        "no execution running for this key"
    )
