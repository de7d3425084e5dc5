"""The policy decisions for one batch, made in memory on the loaded state documents.

Every check first asks whether the state already records this very evaluation (by its
id): a redelivered event then gets the decision it got the first time, even when the
state was written but the evaluation record was not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.expressions import evaluate
from engine.policies._state import State, state_id
from engine.rules import CancelMatch, Evaluation
from schemas import Command, StartExecution
from schemas.commands import ControlExecution
from schemas.definitions import Rule
from schemas.ids import derive_id

#: How long an idle concurrency state, and the link from an ended execution to it,
#: are kept (a redelivered lifecycle event within this time still finds them).
LINGER = timedelta(days=1)


@dataclass(frozen=True)
class Keys:
    """The state ids an evaluation's policies use (None: the rule has no such policy)."""

    dedupe: str | None = None
    cooldown: str | None = None
    rate: str | None = None
    concurrency: str | None = None

    def ids(self) -> list[str]:
        """Every state id set."""
        return [i for i in (self.dedupe, self.cooldown, self.rate, self.concurrency) if i]


def key_value(expression: str | None, context: dict[str, Any]) -> str:
    """The key an expression gives on ``context`` (``*`` without one), as text.

    Raises:
        ExpressionError: the expression failed on this context.
    """
    if expression is None:
        return "*"
    value = evaluate(expression, context)
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def policy_keys(
    project: str, name: str, rule: Rule, context: dict[str, Any], replay: str | None
) -> Keys:
    """The state ids of a rule's policies for one event.

    Replayed events keep dedupe, cooldown and rate-limit state of their own (scoped
    by replay id), so live traffic neither suppresses them nor is limited by them;
    concurrency is shared, since it guards a real resource.

    Raises:
        ExpressionError: a key expression failed on this event.
    """
    policy = rule.policy
    scope = f"replay:{replay}/" if replay else ""

    def sid(kind: str, expression: str | None, scoped: bool = True) -> str:
        return state_id(
            project, name, kind, key_value(expression, context), scope if scoped else ""
        )

    return Keys(
        dedupe=sid("dedupe", policy.dedupe.key) if policy.dedupe else None,
        cooldown=sid("cooldown", policy.cooldown.key) if policy.cooldown else None,
        rate=sid("rate", policy.rate_limit.key) if policy.rate_limit else None,
        concurrency=sid("concurrency", policy.concurrency.key, False)
        if policy.concurrency
        else None,
    )


@dataclass
class Decision:
    """The outcome of one evaluation under the policies, and the commands it sends."""

    outcome: str
    reason: str | None = None
    execution_id: str | None = None
    commands: list[Command] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


def cancel_command(execution_id: str, because: str, message: str) -> ControlExecution:
    """The cancel a policy sends, with an id derived from its cause (idempotent)."""
    return ControlExecution(
        command_id=derive_id(execution_id, "cancel", because),
        execution_id=execution_id,
        action="cancel",
        message=message,
    )


class Decider:
    """Applies the policies to a batch's evaluations, in order, on in-memory state."""

    def __init__(self, states: dict[str, State], now: datetime) -> None:
        self.states = states
        self.now = now
        #: Execution id → (concurrency state id, link expiry) to store.
        self.runs: dict[str, tuple[str, datetime | None]] = {}

    def decide(self, evaluation: Evaluation, keys: Keys, eval_id: str) -> Decision:
        """The decision for a fired evaluation of a rule with policies."""
        assert evaluation.firing is not None
        policy, command = evaluation.spec.policy, evaluation.firing.command
        now = self.now
        dedupe = self.states[keys.dedupe] if keys.dedupe else None
        if dedupe and _foreign(dedupe, eval_id) and dedupe.body.get("until", now) > now:
            return Decision("dedupe", f"same dedupe key seen at {dedupe.body['at'].isoformat()}")
        cooldown = self.states[keys.cooldown] if keys.cooldown else None
        if cooldown and _foreign(cooldown, eval_id) and cooldown.body.get("until", now) > now:
            return Decision("cooldown", f"cooling down until {cooldown.body['until'].isoformat()}")
        rate = self.states[keys.rate] if keys.rate else None
        if rate and policy.rate_limit:
            per = timedelta(seconds=policy.rate_limit.per)
            starts = [s for s in rate.body.get("starts", []) if s["at"] > now - per]
            if len(starts) != len(rate.body.get("starts", [])):
                rate.body["starts"] = starts
                rate.touch(now + per)
            if all(s["e"] != eval_id for s in starts) and len(starts) >= policy.rate_limit.count:
                return Decision(
                    "rate_limit",
                    f"{len(starts)} start(s) in the last {policy.rate_limit.per:g} s "
                    f"(limit {policy.rate_limit.count})",
                )
        if keys.concurrency and policy.concurrency:
            decision = self._concurrency(
                self.states[keys.concurrency], policy.concurrency.mode, command, eval_id
            )
        else:
            decision = Decision("fired", execution_id=command.execution_id, commands=[command])
        if dedupe and policy.dedupe and _foreign(dedupe, eval_id):
            window = timedelta(seconds=policy.dedupe.window)
            dedupe.body.update({"event": eval_id, "at": now, "until": now + window})
            dedupe.touch(now + window)
        if decision.outcome not in ("fired", "queued"):
            return decision
        if cooldown and policy.cooldown and _foreign(cooldown, eval_id):
            until = now + timedelta(seconds=policy.cooldown.seconds)
            cooldown.body.update({"event": eval_id, "until": until})
            cooldown.touch(until)
        if (
            rate
            and policy.rate_limit
            and all(s["e"] != eval_id for s in rate.body.get("starts", []))
        ):
            rate.body["starts"] = [*rate.body.get("starts", []), {"e": eval_id, "at": now}]
            rate.touch(now + timedelta(seconds=policy.rate_limit.per))
        return decision

    def _concurrency(
        self, state: State, mode: str, command: StartExecution, eval_id: str
    ) -> Decision:
        body = state.body
        running: str | None = body.get("running")
        queue: list[dict[str, Any]] = body.get("queue", [])
        if body.get("running_eval") == eval_id:
            return Decision("fired", execution_id=command.execution_id, commands=[command])
        for entry in queue:
            if entry["eval"] == eval_id:
                again = entry.get("cancels")
                commands: list[Command] = []
                if again is not None and again == running:
                    commands.append(
                        cancel_command(again, eval_id, f"replaced by {command.execution_id}")
                    )
                return Decision(
                    "queued", f"waits for execution {running}", command.execution_id, commands
                )
        if running is None:
            body.update({"running": command.execution_id, "running_eval": eval_id, "queue": []})
            state.touch(None)
            self.runs[command.execution_id] = (state.id, None)
            return Decision("fired", execution_id=command.execution_id, commands=[command])
        if mode == "skip":
            return Decision("concurrency_skip", f"execution {running} is running")
        entry = {"eval": eval_id, "command": command.model_dump(mode="json"), "cancels": None}
        if mode == "queue":
            body["queue"] = [*queue, entry]
            state.touch(None)
            return Decision("queued", f"waits for execution {running}", command.execution_id)
        cancel = cancel_command(running, eval_id, f"rule {command.rule}: {mode} by a new match")
        if mode == "replace":
            body["queue"] = [{**entry, "cancels": running}]
            state.touch(None)
            return Decision(
                "queued",
                f"replaces execution {running}, which is being cancelled",
                command.execution_id,
                [cancel],
                [running],
            )
        if queue:
            body["queue"] = []
            state.touch(None)
        return Decision(
            "concurrency_cancel", f"cancelled execution {running}", None, [cancel], [running]
        )

    def cancel_on(self, match: CancelMatch, sid: str, eval_id: str) -> Decision:
        """A ``cancel-on`` match: cancel the key's running execution and drop its queue."""
        state = self.states[sid]
        running = state.body.get("running")
        if running is None:
            return Decision("cancel_on", "no execution running for this key")
        if state.body.get("queue"):
            state.body["queue"] = []
            state.touch(None)
        cancel = cancel_command(running, eval_id, f"rule {match.rule}: cancel-on matched")
        return Decision("cancel_on", f"cancelled execution {running}", None, [cancel], [running])

    def finish(self, execution_id: str, sid: str) -> list[Command]:
        """An execution holding a concurrency key ended: start the next queued one."""
        state = self.states[sid]
        body = state.body
        if body.get("running") != execution_id:
            handoff = body.get("handoff") or {}
            if handoff.get("after") == execution_id:
                return [StartExecution.model_validate(handoff["command"])]
            return []
        self.runs[execution_id] = (sid, self.now + LINGER)
        queue = list(body.get("queue", []))
        if not queue:
            body.update({"running": None, "running_eval": None, "handoff": None})
            state.touch(self.now + LINGER)
            return []
        head = queue.pop(0)
        command = StartExecution.model_validate(head["command"])
        body.update(
            {
                "running": command.execution_id,
                "running_eval": head["eval"],
                "queue": queue,
                "handoff": {"after": execution_id, "command": head["command"]},
            }
        )
        state.touch(None)
        self.runs[command.execution_id] = (sid, None)
        return [command]


def _foreign(state: State, eval_id: str) -> bool:
    """Whether ``state`` does not already record ``eval_id`` (so it may block it)."""
    return state.body.get("event") != eval_id
