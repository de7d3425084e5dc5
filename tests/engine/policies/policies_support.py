"""Shared helpers for the policy tests: rules from YAML-like dicts, events, lifecycle ends."""

from __future__ import annotations

from typing import Any

from engine.lifecycle import SOURCE
from engine.rules import RuleSet
from schemas import CloudEvent, StartExecution
from schemas.commands import ControlExecution
from schemas.definitions import Rule

WORKFLOW = "remediate"


def ruleset(**rules: dict[str, Any]) -> RuleSet:
    """A RuleSet of project ``default`` from rule bodies (YAML spelling)."""
    return RuleSet(
        {
            ("default", name): Rule.model_validate({"name": name, **body})
            for name, body in rules.items()
        }
    )


def alert_rule(policy: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A rule on ``alert.firing`` events with ``policy``."""
    return {
        "pattern": {"type": ["alert.firing"]},
        "workflow": WORKFLOW,
        "input": {"host": "<% $.data.host %>"},
        "policy": policy or {},
        **extra,
    }


def alert(host: str = "web-1", type_: str = "alert.firing", **extra: Any) -> CloudEvent:
    """An alert event about ``host``."""
    fields: dict[str, Any] = {"source": "alertmanager", **extra}
    return CloudEvent(type=type_, data={"host": host}, **fields)


def ended(execution_id: str, state: str = "success") -> CloudEvent:
    """The lifecycle event that says ``execution_id`` ended."""
    return CloudEvent(
        id=f"end-{execution_id}-{state}",
        source=SOURCE,
        type=f"squall.execution.{state}",
        subject=execution_id,
        data={"execution_id": execution_id, "rule": "r", "event_id": "e", "workflow_name": "w"},
    )


def starts(commands: list[Any]) -> list[StartExecution]:
    """The StartExecution commands among ``commands``."""
    return [c for c in commands if isinstance(c, StartExecution)]


def cancels(commands: list[Any]) -> list[str]:
    """The executions the cancel commands among ``commands`` address."""
    return [c.execution_id for c in commands if isinstance(c, ControlExecution)]
