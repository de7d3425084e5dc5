"""A redelivered batch gets the decisions it got the first time; replays are apart."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo.asynchronous.database import AsyncDatabase

from engine.evaluations import COLLECTION
from engine.policies import PolicyGate
from tests.engine.policies.policies_support import alert, alert_rule, ended, ruleset, starts

Db = AsyncDatabase[dict[str, Any]]
KEY = "<% $.data.host %>"
LIMITS = {
    "dedupe": {"key": "<% $.data.host %>", "window": 60},
    "rate-limit": {"count": 1, "per": 60},
}


async def test_a_redelivered_batch_gets_the_same_decisions_and_commands(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(r=alert_rule({**LIMITS, "concurrency": {"key": "k", "mode": "skip"}}))
    events = [alert("a"), alert("a"), alert("b")]
    first = await gate.admit(rules, events)
    again = await gate.admit(rules, events)
    assert [r.outcome for r in first.records] == ["fired", "dedupe", "rate_limit"]
    assert [r.outcome for r in again.records] == [r.outcome for r in first.records]
    assert again.commands == first.commands


async def test_a_crash_after_the_state_write_still_gives_the_same_decisions(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(r=alert_rule({**LIMITS, "concurrency": {"key": "k", "mode": "queue"}}))
    events = [alert("a"), alert("b")]
    first = await gate.admit(rules, events)
    # The records were never written: only the policy state remembers the batch.
    await db[COLLECTION].delete_many({})
    again = await gate.admit(rules, events)
    assert [r.outcome for r in again.records] == ["fired", "rate_limit"]
    assert again.commands == first.commands


async def test_replayed_events_are_neither_deduped_nor_limited_by_live_traffic(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(r=alert_rule(LIMITS))
    live = await gate.admit(rules, [alert("a")])
    replayed = await gate.admit(rules, [alert("a", replayid="rp1"), alert("a", replayid="rp1")])
    assert [r.outcome for r in live.records] == ["fired"]
    # Within one replay the policies still hold.
    assert [r.outcome for r in replayed.records] == ["fired", "dedupe"]
    assert replayed.records[0].replayid == "rp1"
    # And the replay used up none of live traffic's rate limit.
    live_again = await gate.admit(rules, [alert("b")])
    assert [r.outcome for r in live_again.records] == ["rate_limit"]


async def test_records_explain_why_a_rule_did_not_fire(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(
        quiet=alert_rule(condition="<% $.data.host = 'never' %>"),
        broken=alert_rule(input={"x": "<% $.data.host.nope() %>"}),
    )
    event = alert("a")
    batch = await gate.admit(rules, [event])
    assert batch.commands == []
    stored = await gate.records.for_event("default", event.id)
    assert {(d["rule"], d["outcome"]) for d in stored} == {
        ("quiet", "condition_false"),
        ("broken", "input_error"),
    }
    (latest,) = await gate.records.for_rule("default", "quiet")
    assert latest["event_id"] == event.id and "is false" in latest["reason"]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    mode=st.sampled_from(["skip", "queue", "replace"]),
    steps=st.lists(
        st.one_of(st.sampled_from(["a", "b"]), st.integers(min_value=0, max_value=3)),
        min_size=1,
        max_size=12,
    ),
)
async def test_never_two_running_executions_for_one_key(
    db: Db, mode: str, steps: list[str | int]
) -> None:
    """Random matches (a host name) and ends (the n-th running one) in random batches."""
    gate = PolicyGate(db)
    name = f"r{uuid.uuid4().hex}"  # examples share the database: one rule each
    rules = ruleset(**{name: alert_rule({"concurrency": {"key": KEY, "mode": mode}})})
    running: dict[str, str] = {}  # execution id → host
    for step in steps:
        if isinstance(step, str):
            events = [alert(step)]
        elif running:
            events = [ended(sorted(running)[step % len(running)], "cancelled")]
            running.pop(events[0].subject or "")
        else:
            continue
        admission = await gate.admit(rules, events)
        for command in starts(admission.commands):
            running[command.execution_id] = command.input["host"]
        hosts = list(running.values())
        assert len(hosts) == len(set(hosts)), f"two running for one key: {running}"
