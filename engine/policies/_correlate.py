"""Correlation windows: which of a rule's named patterns matched recently, per key.

One ``rule_state`` document per rule and correlation key (policy ``correlate``) holds
the latest event of each pattern name (``seen``: its id, time and matchable data), the
newest event time seen, and the recent completions (``fired``). An event older than the
newest one minus the window no longer counts. When the names seen satisfy ``when``, the
rule completes on that event and ``seen`` starts afresh.

A completion is remembered (which evaluation, which events) for a while, because the
state is written before the evaluation records: an event redelivered after a crash in
between finds its completion there and fires again identically, and the events that
completion used are not counted a second time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from engine.policies._decide import key_value
from engine.policies._state import State, state_id
from engine.rules import Evaluation, RuleSet, quoted
from schemas import CloudEvent
from schemas.base import as_utc

#: The policy name of correlation windows in ``rule_state`` ids.
POLICY = "correlate"
#: How long a completion is remembered for redeliveries.
REMEMBER = timedelta(hours=1)
#: At most this many recent completions are remembered per window.
MAX_REMEMBERED = 16


def window_id(ev: Evaluation) -> str:
    """The state id of the window this correlating evaluation belongs to.

    Replayed events correlate among themselves only (scoped by replay id).

    Raises:
        ExpressionError: the correlation key expression failed on this event.
    """
    assert ev.spec.correlate is not None
    scope = f"replay:{ev.event.replayid}/" if ev.event.replayid else ""
    key = key_value(ev.spec.correlate.key, ev.context)
    return state_id(ev.project, ev.rule, POLICY, key, scope)


def _event_time(event: CloudEvent, now: datetime) -> datetime:
    # A source whose clock runs ahead must not push the window past real time.
    at = min(as_utc(event.time), now)
    # MongoDB keeps milliseconds: a redelivered event must compare equal to its entry.
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


class Correlator:
    """Advances the windows of a batch's correlating evaluations, in event order."""

    def __init__(self, rules: RuleSet, states: dict[str, State], now: datetime) -> None:
        self.rules = rules
        self.states = states
        self.now = now

    def advance(self, ev: Evaluation, sid: str, eval_id: str) -> Evaluation:
        """Record ``ev``'s event in its window; the completed evaluation if ``when`` now
        holds, else ``ev`` with the reason it waits."""
        correlate = ev.spec.correlate
        assert correlate is not None
        state = self.states[sid]
        body = state.body
        remembered: list[dict[str, Any]] = body.get("fired") or []
        for mark in remembered:
            if mark["eval"] == eval_id:
                return self._complete(ev, mark["events"])
            used = [n for n, e in mark["events"].items() if e["id"] == ev.event.id]
            if used:
                reason = f"matched {quoted(ev.matched)}; already counted by an earlier firing"
                return replace(ev, reason=reason)
        at = _event_time(ev.event, self.now)
        window = timedelta(seconds=correlate.window)
        seen: dict[str, dict[str, Any]] = dict(body.get("seen") or {})
        newest = max(body.get("newest") or at, at)
        for name in ev.matched:
            current = seen.get(name)
            if current is None or (current["id"] != ev.event.id and current["time"] <= at):
                seen[name] = {"id": ev.event.id, "time": at, "data": ev.context["event"]}
        kept = {n: e for n, e in seen.items() if e["time"] >= newest - window}
        if kept != body.get("seen") or newest != body.get("newest"):
            body.update({"seen": kept, "newest": newest})
            state.touch(self.now + window + REMEMBER)
        if all(e["id"] != ev.event.id for e in kept.values()):
            why = (
                f"older than the window ({correlate.window:g} s before the newest event)"
                if at < newest - window
                else "a later event already counts for it"
            )
            return replace(ev, reason=f"matched {quoted(ev.matched)}, but {why}")
        if not correlate.holds(kept):
            waiting = quoted(correlate.missing(kept))
            return replace(
                ev,
                reason=f"matched {quoted(ev.matched)}; waiting for {waiting} "
                f"within {correlate.window:g} s",
            )
        done = self._complete(ev, kept)
        if done.firing is not None:
            # The events of a firing count once: the next completion needs new ones.
            mark = {"eval": eval_id, "at": self.now, "events": kept}
            recent = [m for m in remembered if m["at"] > self.now - REMEMBER]
            body.update({"seen": {}, "fired": [*recent[1 - MAX_REMEMBERED :], mark]})
            state.touch(self.now + window + REMEMBER)
        return done

    def _complete(self, ev: Evaluation, entries: dict[str, dict[str, Any]]) -> Evaluation:
        return self.rules.complete(ev, {name: entry["data"] for name, entry in entries.items()})
