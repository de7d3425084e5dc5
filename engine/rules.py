"""Rules: which events start which workflows (or single actions), with what input.

``RuleSet.evaluate`` reports every rule whose pattern an event matched, with the
outcome (fired, or why not); ``RuleSet.fire`` keeps only the firings. A rule with
``action:`` instead of ``workflow:`` starts a synthesized one-task workflow named
``squall.rule.<rule>`` (see ``RuleSet.workflow``). ``RuleSet.cancellations`` reports
the rules whose ``cancel-on`` pattern an event matched.

A rule that correlates several named patterns (``correlate``) cannot decide on one
event alone: ``evaluate`` reports it as ``correlating`` with the names the event
matched, and the policy gate, which holds the window state, calls ``RuleSet.complete``
once the names seen within the window satisfy ``when``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from engine.expressions import ExpressionError, evaluate
from engine.patterns import RuleMatcher
from schemas import CloudEvent, StartExecution
from schemas.definitions import Rule, Workflow
from schemas.ids import derive_id

log = logging.getLogger(__name__)

#: Prefix of the workflows synthesized for rules that target a single action.
ACTION_WORKFLOW_PREFIX = "squall.rule."
#: The extension attribute a replay uses to restrict which rules its events reach.
REPLAY_RULES_ATTRIBUTE = "replayrules"

Outcome = Literal[
    "fired", "condition_false", "condition_error", "input_error", "correlating", "key_error"
]
#: The outcome of a correlating rule's match until the gate completes it.
CORRELATING: Outcome = "correlating"


@dataclass(frozen=True)
class Firing:
    """A rule that fired for an event, and the execution it starts."""

    rule: str
    command: StartExecution


@dataclass(frozen=True)
class Evaluation:
    """One rule whose pattern matched one event, and what came of it."""

    project: str
    rule: str
    spec: Rule
    event: CloudEvent
    outcome: Outcome
    #: What expressions see: the event's fields at top level and as ``event``.
    context: dict[str, Any] = field(repr=False)
    firing: Firing | None = None
    reason: str | None = None
    #: For a correlating rule: the names of its patterns that this event matched.
    matched: tuple[str, ...] = ()
    #: For a completed correlation: pattern name → id of the event it counted.
    correlated: dict[str, str] | None = None


@dataclass(frozen=True)
class CancelMatch:
    """A rule whose ``cancel-on`` pattern matched an event."""

    project: str
    rule: str
    spec: Rule
    event: CloudEvent
    context: dict[str, Any] = field(repr=False)


def rule_key(project: str, name: str) -> str:
    """The id a rule has in the matchers: ``project/name``."""
    return f"{project}/{name}"


def action_workflow(rule: Rule) -> Workflow:
    """The one-task workflow that runs ``rule.action`` with the rule's input.

    Its input parameters are the keys of the rule's ``input``; its output is the
    action's result under ``result``.
    """
    names = sorted(rule.input)
    return Workflow.model_validate(
        {
            "name": f"{ACTION_WORKFLOW_PREFIX}{rule.name}",
            "description": f"runs action {rule.action} for rule {rule.name}",
            "input": names,
            "output": {"result": "<% task(run).result %>"},
            "tasks": {
                "run": {"action": rule.action, "input": {n: f"<% $.{n} %>" for n in names}},
            },
        }
    )


def execution_id_for(event: CloudEvent, project: str, name: str) -> str:
    """The execution id a rule's firing for ``event`` gets (stable under redelivery)."""
    return derive_id(event.id, rule_key(project, name))


class RuleSet:
    """All enabled rules, compiled into one matcher (and one for ``cancel-on``)."""

    def __init__(self, rules: Mapping[tuple[str, str], Rule]) -> None:
        self._rules = {rule_key(project, name): rule for (project, name), rule in rules.items()}
        self._matcher = RuleMatcher()
        self._cancel_matcher = RuleMatcher()
        self._workflows: dict[tuple[str, str], Workflow] = {}
        #: Matcher key of each correlated pattern → (rule key, pattern name).
        self._parts: dict[str, tuple[str, str]] = {}
        self._has_concurrency = False
        self._count = 0
        for (project, name), rule in rules.items():
            if not rule.enabled:
                continue
            self._count += 1
            key = rule_key(project, name)
            if rule.correlate is None:
                self._matcher.add(key, rule.pattern or {})
            for part, pattern in rule.correlate.patterns.items() if rule.correlate else ():
                # Pattern names are single words and rule names single lines, so this
                # key is never a rule's own.
                self._parts[f"{key}\n{part}"] = (key, part)
                self._matcher.add(f"{key}\n{part}", pattern)
            self._has_concurrency |= rule.policy.concurrency is not None
            if rule.policy.cancel_on is not None:
                self._cancel_matcher.add(key, rule.policy.cancel_on)
            if rule.action is not None:
                workflow = action_workflow(rule)
                self._workflows[(project, workflow.name)] = workflow

    def __len__(self) -> int:
        return self._count

    @property
    def has_concurrency(self) -> bool:
        """Whether any rule limits its running executions per key."""
        return self._has_concurrency

    @property
    def has_correlation(self) -> bool:
        """Whether any rule correlates several patterns."""
        return bool(self._parts)

    @property
    def has_cancel_on(self) -> bool:
        """Whether any rule has a ``cancel-on`` pattern."""
        return len(self._cancel_matcher) > 0

    def rule(self, project: str, name: str) -> Rule | None:
        """A rule by project and name."""
        return self._rules.get(rule_key(project, name))

    def names(self, project: str) -> list[str]:
        """The names of a project's rules, sorted."""
        prefix = f"{project}/"
        return sorted(k[len(prefix) :] for k in self._rules if k.startswith(prefix))

    def workflow(self, project: str, name: str) -> Workflow | None:
        """The synthesized workflow of an action rule, by its name (``squall.rule.<rule>``)."""
        return self._workflows.get((project, name))

    def fire(self, event: CloudEvent) -> list[Firing]:
        """The executions ``event`` starts: one per matching rule whose condition holds.

        Correlating rules are left out: only the gate, with their windows, decides them.
        """
        return [e.firing for e in self.evaluate(event) if e.firing is not None]

    def evaluate(self, event: CloudEvent) -> list[Evaluation]:
        """Every rule of the event's project whose pattern matched, with its outcome."""
        data = event.matchable()
        allowed = _replay_rules(event)
        evaluations = []
        parts: dict[str, list[str]] = {}
        for key in self._matcher.match(data):
            part = self._parts.get(key) if self._parts else None
            if part is not None:
                key = part[0]
            project, name = key.split("/", 1)
            if project != event.project or (allowed is not None and name not in allowed):
                continue
            if part is None:
                context = {**data, "event": data}
                evaluations.append(self._evaluate(project, name, self._rules[key], event, context))
            else:
                parts.setdefault(key, []).append(part[1])
        for key, names in parts.items():
            project, name = key.split("/", 1)
            context = {**data, "event": data}
            evaluations.append(
                Evaluation(
                    project,
                    name,
                    self._rules[key],
                    event,
                    CORRELATING,
                    context,
                    reason=f"matched {quoted(sorted(names))}; the window state decides",
                    matched=tuple(sorted(names)),
                )
            )
        return evaluations

    def complete(self, pending: Evaluation, events: dict[str, Any]) -> Evaluation:
        """A correlating evaluation whose ``when`` holds, decided like a plain match.

        ``events`` maps each pattern name seen within the window to the matchable data
        of its latest event; the condition and the input see it as ``events``.
        """
        context = {**pending.context, "events": events}
        done = self._evaluate(pending.project, pending.rule, pending.spec, pending.event, context)
        ids = {name: str(data.get("id")) for name, data in events.items()}
        return replace(done, matched=pending.matched, correlated=ids)

    def cancellations(self, event: CloudEvent) -> list[CancelMatch]:
        """The rules of the event's project whose ``cancel-on`` pattern it matched."""
        if not self.has_cancel_on:
            return []
        data = event.matchable()
        found = []
        for key in self._cancel_matcher.match(data):
            project, name = key.split("/", 1)
            if project == event.project:
                found.append(
                    CancelMatch(project, name, self._rules[key], event, {**data, "event": data})
                )
        return found

    def _evaluate(
        self, project: str, name: str, rule: Rule, event: CloudEvent, context: dict[str, Any]
    ) -> Evaluation:
        def outcome(kind: Outcome, reason: str | None = None) -> Evaluation:
            return Evaluation(project, name, rule, event, kind, context, reason=reason)

        try:
            if rule.condition is not None and not evaluate(rule.condition, context):
                return outcome("condition_false", f"condition {rule.condition!r} is false")
        except ExpressionError as exc:
            log.warning(
                "rule %s/%s: condition failed on event %s: %s", project, name, event.id, exc
            )
            return outcome("condition_error", str(exc))
        try:
            workflow_input = evaluate(rule.input, context)
        except ExpressionError as exc:
            log.warning("rule %s/%s: input failed on event %s: %s", project, name, event.id, exc)
            return outcome("input_error", str(exc))
        workflow_name = rule.workflow or f"{ACTION_WORKFLOW_PREFIX}{name}"
        command = StartExecution(
            command_id=derive_id(event.id, rule_key(project, name), "start"),
            execution_id=execution_id_for(event, project, name),
            project=project,
            workflow_name=workflow_name,
            input=dict(workflow_input or {}),
            params=dict(rule.params),
            description=f"rule {name}, event {event.id}",
            event_id=event.id,
            rule=name,
        )
        return Evaluation(
            project, name, rule, event, "fired", context, firing=Firing(name, command)
        )


def quoted(names: Sequence[str]) -> str:
    """Names in quotes joined with "and", for reasons: ``'a' and 'b'``."""
    return " and ".join(f"'{n}'" for n in names)


def _replay_rules(event: CloudEvent) -> set[str] | None:
    """The rules a replayed event may reach, when its replay named some."""
    if event.replayid is None or not event.model_extra:
        return None
    named = event.model_extra.get(REPLAY_RULES_ATTRIBUTE)
    return set(str(named).split(",")) if named else None
