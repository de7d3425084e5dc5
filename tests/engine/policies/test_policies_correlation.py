"""Correlation rules at the gate: named patterns completing ``when`` within a window."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo.asynchronous.database import AsyncDatabase

from engine.evaluations import COLLECTION
from engine.policies import PolicyConflict, PolicyGate, StateStore
from engine.policies._correlate import REMEMBER
from engine.rules import RuleSet
from schemas import CloudEvent
from tests.engine.policies.policies_support import WORKFLOW, ruleset, starts

Db = AsyncDatabase[dict[str, Any]]
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
PATTERNS = {"unreachable": {"type": ["ping.lost"]}, "cpu": {"type": ["cpu.high"]}}


def host_down(**correlate: Any) -> dict[str, Any]:
    """A rule correlating ping.lost and cpu.high per host within 300 s."""
    return {
        "correlate": {
            "patterns": PATTERNS,
            "window": 300,
            "key": "<% $.subject %>",
            **correlate,
        },
        "workflow": WORKFLOW,
        "input": {
            "host": "<% $.events.unreachable.subject %>",
            "load": "<% $.events.cpu.data.load %>",
        },
    }


def event(type_: str, host: str = "web-1", after: float = 0, load: int = 95) -> CloudEvent:
    """A ping.lost or cpu.high event about ``host``, ``after`` seconds past T0."""
    return CloudEvent(
        source="monitoring",
        type=type_,
        subject=host,
        time=T0 + timedelta(seconds=after),
        data={"load": load},
    )


def lost(host: str = "web-1", after: float = 0) -> CloudEvent:
    """The host stopped answering pings."""
    return event("ping.lost", host, after)


def cpu(host: str = "web-1", after: float = 0, load: int = 95) -> CloudEvent:
    """The host's CPU is high."""
    return event("cpu.high", host, after, load)


async def admit(
    gate: PolicyGate, rules: RuleSet, events: list[CloudEvent], after: float = 0
) -> tuple[list[str], list[Any]]:
    """Admit at T0 + ``after`` seconds; the outcomes and the starts."""
    admission = await gate.admit(rules, events, T0 + timedelta(seconds=after))
    return [r.outcome for r in admission.records], starts(admission.commands)


async def test_both_patterns_within_the_window_fire_once(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(host_down=host_down())
    first = lost(after=0)
    outcomes, started = await admit(gate, rules, [first])
    assert (outcomes, started) == (["correlating"], [])
    (record,) = await gate.records.for_event("default", first.id)
    assert record["reason"] == "matched 'unreachable'; waiting for 'cpu' within 300 s"

    second = cpu(after=200, load=97)
    outcomes, started = await admit(gate, rules, [second], after=200)
    assert outcomes == ["fired"]
    (start,) = started
    assert start.input == {"host": "web-1", "load": 97}
    assert start.event_id == second.id and start.rule == "host_down"
    (record,) = await gate.records.for_event("default", second.id)
    assert record["correlated"] == {"unreachable": first.id, "cpu": second.id}

    # The firing used both events: one more cpu.high alone waits again.
    outcomes, started = await admit(gate, rules, [cpu(after=250)], after=250)
    assert (outcomes, started) == (["correlating"], [])


async def test_events_too_far_apart_do_not_fire(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(host_down=host_down())
    await admit(gate, rules, [lost(after=0)])
    outcomes, started = await admit(gate, rules, [cpu(after=301)], after=301)
    assert (outcomes, started) == (["correlating"], [])
    # A late event older than the window no longer counts either.
    late = lost(after=0.5)
    outcomes, started = await admit(gate, rules, [late], after=302)
    assert (outcomes, started) == (["correlating"], [])
    (record,) = await gate.records.for_event("default", late.id)
    assert "older than the window" in record["reason"]


async def test_different_keys_correlate_apart(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(host_down=host_down())
    outcomes, started = await admit(gate, rules, [lost("web-1"), cpu("web-2", after=1)])
    assert (outcomes, started) == (["correlating", "correlating"], [])
    outcomes, started = await admit(gate, rules, [cpu("web-1", after=2)], after=2)
    assert outcomes == ["fired"] and [s.input["host"] for s in started] == ["web-1"]


async def test_either_pattern_fires_with_or(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(
        host_down={**host_down(when="unreachable or cpu"), "input": {"e": "<% $.events %>"}}
    )
    outcomes, started = await admit(gate, rules, [cpu(after=0), lost(after=1)], after=1)
    assert outcomes == ["fired", "fired"]
    assert [set(s.input["e"]) for s in started] == [{"cpu"}, {"unreachable"}]


async def test_both_events_in_one_batch_fire_once(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(host_down=host_down())
    outcomes, started = await admit(gate, rules, [lost(), cpu(after=1), lost(after=2)], after=2)
    assert outcomes == ["correlating", "fired", "correlating"]
    assert len(started) == 1


async def test_a_later_pair_fires_again(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(host_down=host_down())
    await admit(gate, rules, [lost(after=0), cpu(after=10)], after=10)
    outcomes, started = await admit(gate, rules, [cpu(after=20, load=99)], after=20)
    assert (outcomes, started) == (["correlating"], [])
    outcomes, started = await admit(gate, rules, [lost(after=30)], after=30)
    assert outcomes == ["fired"] and started[0].input["load"] == 99


async def test_a_redelivered_completing_event_fires_the_same_start_again(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(host_down=host_down())
    await admit(gate, rules, [lost(after=0)])
    completing = cpu(after=5)
    first = await gate.admit(rules, [completing], T0 + timedelta(seconds=5))
    # Redelivered with its records: the recorded decision and start come back.
    again = await gate.admit(rules, [completing], T0 + timedelta(seconds=6))
    assert [r.outcome for r in again.records] == ["fired"]
    assert again.commands == first.commands and len(starts(first.commands)) == 1


async def test_a_redelivered_waiting_event_changes_nothing(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(host_down=host_down())
    waiting = lost(after=0.123456)
    await admit(gate, rules, [waiting], after=1)
    stored = await db["rule_state"].find_one({})
    await db[COLLECTION].delete_many({})  # as if the records were never written
    outcomes, _ = await admit(gate, rules, [waiting], after=2)
    assert outcomes == ["correlating"]
    assert await db["rule_state"].find_one({}) == stored


async def test_a_crash_between_state_and_records_loses_no_firing(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(host_down=host_down())
    batch = [lost(after=0), cpu(after=5)]
    first = await gate.admit(rules, batch, T0 + timedelta(seconds=5))
    # The engine died after writing the window state, before the records (and the
    # execution): the whole batch comes again.
    await db[COLLECTION].delete_many({})
    again = await gate.admit(rules, batch, T0 + timedelta(seconds=7))
    assert [r.outcome for r in again.records] == ["correlating", "fired"]
    assert again.commands == first.commands and len(starts(again.commands)) == 1
    # The first event was used by that firing: it does not count a second time.
    outcomes, started = await admit(gate, rules, [cpu(after=8)], after=8)
    assert (outcomes, started) == (["correlating"], [])


async def test_concurrent_engines_fire_once(db: Db) -> None:
    rules = ruleset(host_down=host_down())
    gates = PolicyGate(db), PolicyGate(db)

    async def admit_retrying(gate: PolicyGate, ev: CloudEvent) -> list[Any]:
        while True:
            try:
                return starts((await gate.admit(rules, [ev], T0 + timedelta(seconds=5))).commands)
            except PolicyConflict:
                continue  # as the engine does: the batch is tried again

    for host in ("a", "b", "c", "d", "e"):
        # An old event gives the window a stored state, which both engines then change.
        await gates[0].admit(rules, [cpu(host, after=-1000)], T0)
        found = await asyncio.gather(
            admit_retrying(gates[0], lost(host)), admit_retrying(gates[1], cpu(host, after=1))
        )
        assert len(found[0] + found[1]) == 1, host


async def test_a_false_condition_keeps_the_window(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(host_down={**host_down(), "condition": "<% $.events.cpu.data.load > 90 %>"})
    outcomes, _ = await admit(gate, rules, [lost(), cpu(after=1, load=50)], after=1)
    assert outcomes == ["correlating", "condition_false"]
    outcomes, started = await admit(gate, rules, [cpu(after=2, load=96)], after=2)
    assert outcomes == ["fired"] and started[0].input["load"] == 96


async def test_policies_apply_to_the_firing(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(
        host_down={
            **host_down(),
            "policy": {"dedupe": {"key": "<% $.events.unreachable.subject %>", "window": 60}},
        }
    )
    outcomes, _ = await admit(gate, rules, [lost(), cpu(after=1)], after=1)
    assert outcomes == ["correlating", "fired"]
    outcomes, started = await admit(gate, rules, [lost(after=2), cpu(after=3)], after=3)
    assert (outcomes, started) == (["correlating", "dedupe"], [])


async def test_a_failing_key_says_so(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(host_down=host_down(key="<% $.data.nope.deeper() %>"))
    outcomes, started = await admit(gate, rules, [lost()])
    assert (outcomes, started) == (["key_error"], [])


async def test_replayed_events_correlate_apart_from_live_ones(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(host_down=host_down())
    await admit(gate, rules, [lost()])
    replayed = CloudEvent(**{**cpu(after=1).model_dump(), "replayid": "rp1"})
    outcomes, started = await admit(gate, rules, [replayed], after=1)
    assert (outcomes, started) == (["correlating"], [])


async def test_window_states_expire_for_the_purge(db: Db) -> None:
    gate = PolicyGate(db)
    rules = ruleset(host_down=host_down())
    await admit(gate, rules, [lost()])
    store = StateStore(db)
    assert await store.purge_expired(T0 + timedelta(seconds=299)) == 0
    assert await store.purge_expired(T0 + timedelta(seconds=300) + REMEMBER + timedelta(1)) == 1


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["lost", "cpu"]), st.integers(0, 400), st.booleans()),
        min_size=1,
        max_size=10,
    )
)
async def test_firings_match_a_simple_model_and_survive_redelivery(
    db: Db, steps: list[tuple[str, int, bool]]
) -> None:
    """Random in-order events, each maybe redelivered: fire exactly when both names were
    seen unused within the window, once per completing event."""
    gate = PolicyGate(db)
    name = f"r{uuid.uuid4().hex}"  # examples share the database: one rule each
    rules = ruleset(**{name: host_down()})
    clock = 0.0
    seen: dict[str, float] = {}
    for kind, gap, redeliver in steps:
        clock += gap
        ev = lost(after=clock) if kind == "lost" else cpu(after=clock)
        seen[kind] = clock
        seen = {k: t for k, t in seen.items() if t >= clock - 300}
        expected = len(seen) == 2
        if expected:
            seen = {}
        outcomes, started = await admit(gate, rules, [ev], after=clock)
        assert outcomes == ["fired" if expected else "correlating"]
        if redeliver:
            again = await admit(gate, rules, [ev], after=clock + 1)
            assert again == (outcomes, started)
