"""Rules: which events start which workflows, with what input."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from engine.expressions import ExpressionError, evaluate
from engine.patterns import RuleMatcher
from schemas import CloudEvent, StartExecution
from schemas.definitions import Rule
from schemas.ids import derive_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Firing:
    """A rule that fired for an event, and the execution it starts."""

    rule: str
    command: StartExecution


class RuleSet:
    """All enabled rules, compiled into one matcher."""

    def __init__(self, rules: Mapping[tuple[str, str], Rule]) -> None:
        self._rules = {f"{project}/{name}": rule for (project, name), rule in rules.items()}
        self._matcher = RuleMatcher()
        for key, rule in self._rules.items():
            if rule.enabled:
                self._matcher.add(key, rule.pattern)

    def __len__(self) -> int:
        return len(self._matcher)

    def fire(self, event: CloudEvent) -> list[Firing]:
        """The executions ``event`` starts: one per matching rule whose condition holds."""
        data = event.matchable()
        firings = []
        for key in self._matcher.match(data):
            project, name = key.split("/", 1)
            if project != event.project:
                continue
            rule = self._rules[key]
            context = {**data, "event": data}
            try:
                if rule.condition is not None and not evaluate(rule.condition, context):
                    continue
                workflow_input = evaluate(rule.input, context)
            except ExpressionError as exc:
                # A broken rule must not block the stream: record why and move on.
                log.warning("rule %s skipped event %s: %s", key, event.id, exc)
                continue
            if rule.workflow is None:
                continue
            firings.append(
                Firing(
                    rule=name,
                    command=StartExecution(
                        command_id=derive_id(event.id, key, "start"),
                        execution_id=derive_id(event.id, key),
                        project=project,
                        workflow_name=rule.workflow,
                        input=dict(workflow_input or {}),
                        params=dict(rule.params),
                        description=f"rule {name}, event {event.id}",
                        event_id=event.id,
                        rule=name,
                    ),
                )
            )
        return firings
