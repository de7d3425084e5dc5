"""Dedupe, rate limit and cooldown, with their state in the real MongoDB-protocol server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from engine.policies import PolicyGate
from schemas.base import utcnow
from tests.engine.policies.policies_support import alert, alert_rule, ruleset, starts

Db = AsyncDatabase[dict[str, Any]]


async def test_dedupe_drops_a_repeat_of_the_key_within_the_window(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(r=alert_rule({"dedupe": {"key": "<% $.data.host %>", "window": 60}}))
    now = utcnow()
    first = await gate.admit(rules, [alert("a"), alert("a"), alert("b")], now)
    assert [r.outcome for r in first.records] == ["fired", "dedupe", "fired"]
    assert "same dedupe key" in (first.records[1].reason or "")
    later = await gate.admit(rules, [alert("a")], now + timedelta(seconds=61))
    assert [r.outcome for r in later.records] == ["fired"]


async def test_rate_limit_counts_starts_per_key_in_a_sliding_window(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(
        r=alert_rule({"rate-limit": {"count": 2, "per": 10, "key": "<% $.data.host %>"}})
    )
    now = utcnow()
    batch = await gate.admit(rules, [alert("a"), alert("a"), alert("a"), alert("b")], now)
    assert [r.outcome for r in batch.records] == ["fired", "fired", "rate_limit", "fired"]
    assert len(starts(batch.commands)) == 3
    assert "limit 2" in (batch.records[2].reason or "")
    # Both starts slide out of the window after 10 s: two more are allowed, not three.
    later = [alert("a"), alert("a"), alert("a")]
    again = await gate.admit(rules, later, now + timedelta(seconds=10.5))
    assert [r.outcome for r in again.records] == ["fired", "fired", "rate_limit"]


async def test_a_rate_limit_without_key_is_one_bucket_for_the_rule(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(r=alert_rule({"rate-limit": {"count": 1, "per": 60}}))
    batch = await gate.admit(rules, [alert("a"), alert("b")])
    assert [r.outcome for r in batch.records] == ["fired", "rate_limit"]


async def test_cooldown_ignores_the_key_after_a_start(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(r=alert_rule({"cooldown": {"seconds": 30, "key": "<% $.data.host %>"}}))
    now = utcnow()
    batch = await gate.admit(rules, [alert("a"), alert("a"), alert("b")], now)
    assert [r.outcome for r in batch.records] == ["fired", "cooldown", "fired"]
    after = await gate.admit(rules, [alert("a")], now + timedelta(seconds=31))
    assert [r.outcome for r in after.records] == ["fired"]


async def test_state_is_shared_between_gates_like_engine_replicas(db: Db) -> None:
    rules = ruleset(r=alert_rule({"dedupe": {"key": "<% $.data.host %>", "window": 60}}))
    first = await PolicyGate(db).admit(rules, [alert("a")])
    second = await PolicyGate(db).admit(rules, [alert("a")])
    assert [r.outcome for r in first.records + second.records] == ["fired", "dedupe"]


async def test_a_failing_key_expression_is_recorded_and_starts_nothing(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(r=alert_rule({"dedupe": {"key": "<% $.data.missing.deeper %>", "window": 5}}))
    batch = await gate.admit(rules, [alert("a")])
    assert batch.commands == []
    assert batch.records[0].outcome == "key_error"
