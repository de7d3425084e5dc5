"""The policy gate: a batch's events in, the commands to apply and the records out.

Per batch: evaluate the rules on every event; load the earlier decisions of these
(event, rule) pairs, the execution → key links of the executions whose lifecycle
events ended them, and every policy state involved (three keyed queries); decide in
event order in memory; write the states (version-checked), then the evaluation
records. A redelivered event reuses its recorded decision.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from engine.evaluations import EvaluationRecord, EvaluationStore, evaluation_id
from engine.expressions import ExpressionError
from engine.lifecycle import SOURCE as ENGINE_SOURCE
from engine.policies._correlate import Correlator, window_id
from engine.policies._decide import Decider, Decision, Keys, cancel_command, policy_keys
from engine.policies._state import Doc, StateStore
from engine.rules import CORRELATING, CancelMatch, Evaluation, RuleSet
from schemas import CloudEvent, Command, StartExecution
from schemas.base import utcnow

log = logging.getLogger(__name__)

#: Lifecycle event types that say an execution ended.
ENDED = frozenset(
    {"squall.execution.success", "squall.execution.error", "squall.execution.cancelled"}
)
#: How long evaluation records are kept by default.
RECORD_RETENTION = timedelta(days=7)

#: One event of a batch, the rules it matched, and the ``cancel-on`` patterns it matched.
Evaluated = tuple[CloudEvent, list[Evaluation], list[CancelMatch]]


@dataclass
class Admission:
    """What the gate let through for one batch."""

    #: StartExecution and ControlExecution (cancel) commands, in decision order.
    commands: list[Command] = field(default_factory=list)
    #: Event id → the executions it started (for the event archive).
    caused: dict[str, list[str]] = field(default_factory=dict)
    records: list[EvaluationRecord] = field(default_factory=list)


def ended_execution(event: CloudEvent) -> str | None:
    """The execution a lifecycle event says ended, if it is one."""
    if event.source == ENGINE_SOURCE and event.type in ENDED and event.subject:
        return event.subject
    return None


class PolicyGate:
    """Rule policies (dedupe, rate limit, cooldown, concurrency, cancel-on) and records."""

    def __init__(
        self, db: AsyncDatabase[Doc], *, record_retention: timedelta = RECORD_RETENTION
    ) -> None:
        self.states = StateStore(db)
        self.records = EvaluationStore(db)
        self._retention = record_retention

    async def ensure_indexes(self) -> None:
        """Create the indexes of the gate's collections."""
        await self.states.ensure_indexes()
        await self.records.ensure_indexes()

    async def admit(
        self, rules: RuleSet, events: Sequence[CloudEvent], now: datetime | None = None
    ) -> Admission:
        """Evaluate ``rules`` on ``events`` under their policies; store state and records.

        Raises:
            PolicyConflict: another engine changed the same policy state; retry the batch.
        """
        now = now or utcnow()
        evaluated = [(e, rules.evaluate(e), rules.cancellations(e)) for e in events]
        if not any(evs or cms for _, evs, cms in evaluated) and not rules.has_concurrency:
            return Admission()
        # Only decisions that depend on state (policies, correlation windows) must be
        # replayed from their record on redelivery; the others are recomputed
        # identically (and their records are inserted once), which saves a read per
        # event on the hot path.
        prior = await self.records.load(
            [_eval_id(ev) for _, evs, _ in evaluated for ev in evs if _stateful(ev)]
            + [_eval_id(cm) + "#cancel" for _, _, cms in evaluated for cm in cms]
        )
        windows = _windows(evaluated, prior) if rules.has_correlation else {}
        keys = _policy_keys(evaluated, prior)
        ended = [x for e in events if (x := ended_execution(e))] if rules.has_concurrency else []
        links = await self.states.running_states(ended)
        wanted = [i for k in keys.values() if isinstance(k, Keys) for i in k.ids()]
        wanted += [w for w in windows.values() if isinstance(w, str)]
        if windows:
            wanted += _likely_keys(evaluated, windows)
        decider = Decider(await self.states.load([*wanted, *links.values()]), now)
        if windows:
            evaluated = await self._correlate(rules, evaluated, windows, keys, decider)
        admission = Admission()
        for event, evs, cms in evaluated:
            ended_id = ended_execution(event)
            if ended_id in links:
                admission.commands += decider.finish(ended_id, links[ended_id])
            for ev in evs:
                self._admit_one(ev, prior, keys.get(id(ev)), decider, admission, now)
            for cm in cms:
                self._cancel_one(cm, prior, keys.get(id(cm)), decider, admission, now)
        await self.states.save(decider.states.values(), decider.runs)
        await self.records.write([r for r in admission.records if r.id not in prior])
        return admission

    async def _correlate(
        self,
        rules: RuleSet,
        evaluated: list[Evaluated],
        windows: dict[int, str | ExpressionError],
        keys: dict[int, Keys | ExpressionError],
        decider: Decider,
    ) -> list[Evaluated]:
        """Advance the correlation windows in event order; completed correlations are
        then decided like any match (their policy keys may use ``events``)."""
        correlator = Correlator(rules, decider.states, decider.now)
        resolved: list[Evaluated] = []
        for event, evs, cms in evaluated:
            done: list[Evaluation] = []
            for ev in evs:
                window = windows.get(id(ev))
                if window is None:
                    done.append(ev)
                    continue
                if isinstance(window, ExpressionError):
                    ev = replace(ev, outcome="key_error", reason=f"correlation key: {window}")
                else:
                    ev = correlator.advance(ev, window, _eval_id(ev))
                if ev.firing is not None and _has_policy(ev):
                    keys[id(ev)] = _keys(ev)
                done.append(ev)
            resolved.append((event, done, cms))
        unloaded = [
            i
            for k in keys.values()
            if isinstance(k, Keys)
            for i in k.ids()
            if i not in decider.states
        ]
        if unloaded:
            decider.states.update(await self.states.load(unloaded))
        return resolved

    def _admit_one(
        self,
        ev: Evaluation,
        prior: dict[str, Doc],
        keys: Keys | ExpressionError | None,
        decider: Decider,
        admission: Admission,
        now: datetime,
    ) -> None:
        eval_id = _eval_id(ev)
        if eval_id in prior:
            decision = _replayed(prior[eval_id], ev)
        elif ev.firing is None:
            decision = Decision(ev.outcome, ev.reason)
        elif isinstance(keys, ExpressionError):
            decision = Decision("key_error", f"policy key: {keys}")
        elif keys is None:
            command = ev.firing.command
            decision = Decision("fired", execution_id=command.execution_id, commands=[command])
        else:
            decision = decider.decide(ev, keys, eval_id)
        admission.commands += decision.commands
        if decision.outcome == "fired" and decision.execution_id:
            admission.caused.setdefault(ev.event.id, []).append(decision.execution_id)
        admission.records.append(self._record(ev, decision, now))

    def _cancel_one(
        self,
        cm: CancelMatch,
        prior: dict[str, Doc],
        keys: Keys | ExpressionError | None,
        decider: Decider,
        admission: Admission,
        now: datetime,
    ) -> None:
        eval_id = _eval_id(cm) + "#cancel"
        if eval_id in prior:
            decision = _replayed(prior[eval_id], None, cm.rule)
        elif isinstance(keys, ExpressionError):
            decision = Decision("key_error", f"concurrency key: {keys}")
        elif keys is None or keys.concurrency is None:
            decision = Decision("cancel_on", "the rule has no concurrency key")
        else:
            decision = decider.cancel_on(cm, keys.concurrency, eval_id)
        admission.commands += decision.commands
        admission.records.append(self._record(cm, decision, now, "#cancel"))

    def _record(
        self, item: Evaluation | CancelMatch, decision: Decision, now: datetime, suffix: str = ""
    ) -> EvaluationRecord:
        return EvaluationRecord(
            project=item.project,
            rule=item.rule,
            event_id=item.event.id,
            outcome=decision.outcome,
            at=now,
            expires_at=now + self._retention,
            reason=decision.reason,
            execution_id=decision.execution_id,
            cancelled=tuple(decision.cancelled),
            event_type=item.event.type,
            event_source=item.event.source,
            replayid=item.event.replayid,
            suffix=suffix,
            correlated=item.correlated if isinstance(item, Evaluation) else None,
            command=_correlated_start(item, decision),
        )


def _eval_id(item: Evaluation | CancelMatch) -> str:
    return evaluation_id(item.project, item.event.id, item.rule)


def _stateful(ev: Evaluation) -> bool:
    """Whether the decision on ``ev`` depends on stored state."""
    return ev.outcome == CORRELATING or _has_policy(ev)


def _windows(evaluated: list[Evaluated], prior: dict[str, Doc]) -> dict[int, str | ExpressionError]:
    """The window state id (or the key's failure) of each correlating evaluation that
    has no earlier decision."""
    found: dict[int, str | ExpressionError] = {}
    for _, evs, _ in evaluated:
        for ev in evs:
            if ev.outcome != CORRELATING or _eval_id(ev) in prior:
                continue
            try:
                found[id(ev)] = window_id(ev)
            except ExpressionError as exc:
                found[id(ev)] = exc
    return found


def _likely_keys(
    evaluated: list[Evaluated], windows: dict[int, str | ExpressionError]
) -> list[str]:
    """The policy state ids of correlating rules as their matching event alone gives them,
    loaded with the rest: usually the keys of the completed correlation are the same."""
    likely: list[str] = []
    for _, evs, _ in evaluated:
        for ev in evs:
            # A key that reads ``events`` is only known once the window completes.
            if id(ev) in windows and _has_policy(ev) and isinstance(keys := _keys(ev), Keys):
                likely += keys.ids()
    return likely


def _keys(item: Evaluation | CancelMatch) -> Keys | ExpressionError:
    """The state ids of an item's policies, or why its key expressions failed."""
    try:
        return policy_keys(item.project, item.rule, item.spec, item.context, item.event.replayid)
    except ExpressionError as exc:
        return exc


def _policy_keys(
    evaluated: list[Evaluated], prior: dict[str, Doc]
) -> dict[int, Keys | ExpressionError]:
    """The policy keys of every firing with policies and every ``cancel-on`` match that
    has no earlier decision, by the item's ``id()``."""
    keys: dict[int, Keys | ExpressionError] = {}
    for _, evs, cms in evaluated:
        for ev in evs:
            if ev.firing is not None and _has_policy(ev) and _eval_id(ev) not in prior:
                keys[id(ev)] = _keys(ev)
        for cm in cms:
            if _eval_id(cm) + "#cancel" not in prior:
                keys[id(cm)] = _keys(cm)
    return keys


def _correlated_start(item: Evaluation | CancelMatch, decision: Decision) -> Doc | None:
    """The start a completed correlation sent, kept in its record: its input came from
    window state that the completion cleared, so a redelivery cannot rebuild it."""
    if not isinstance(item, Evaluation) or item.correlated is None or decision.outcome != "fired":
        return None
    starts = [c for c in decision.commands if isinstance(c, StartExecution)]
    return starts[0].model_dump(mode="json") if starts else None


def _has_policy(ev: Evaluation) -> bool:
    p = ev.spec.policy
    return any(x is not None for x in (p.dedupe, p.rate_limit, p.cooldown, p.concurrency))


def _replayed(doc: Doc, ev: Evaluation | None, rule: str | None = None) -> Decision:
    """The decision recorded for a redelivered (event, rule), with its commands again."""
    name = ev.rule if ev is not None else rule
    commands: list[Command] = [
        cancel_command(x, doc["_id"], f"rule {name}: {doc['outcome']}") for x in doc["cancelled"]
    ]
    if doc["outcome"] == "fired" and ev is not None and ev.firing is not None:
        commands.append(ev.firing.command)
    elif doc["outcome"] == "fired" and doc.get("command"):
        commands.append(StartExecution.model_validate(doc["command"]))
    return Decision(doc["outcome"], doc["reason"], doc["execution_id"], commands, doc["cancelled"])
