"""Rules that run a single action start a synthesized one-task workflow."""

from __future__ import annotations

from engine.rules import ACTION_WORKFLOW_PREFIX, RuleSet
from schemas import CloudEvent
from schemas.definitions import Rule


def rules() -> RuleSet:
    rule = Rule.model_validate(
        {
            "name": "notify",
            "pattern": {"type": ["server.created"]},
            "action": "std.echo output=hello",
            "input": {"server": "<% $.data.id %>"},
        }
    )
    return RuleSet({("default", "notify"): rule})


def test_an_action_rule_fires_its_synthesized_workflow_with_the_input() -> None:
    ruleset = rules()
    event = CloudEvent(source="nova", type="server.created", data={"id": "s-1"})
    (firing,) = ruleset.fire(event)
    assert firing.command.workflow_name == f"{ACTION_WORKFLOW_PREFIX}notify"
    assert firing.command.input == {"server": "s-1", "output": "hello"}
    workflow = ruleset.workflow("default", firing.command.workflow_name)
    assert workflow is not None
    assert [p.name for p in workflow.input] == ["output", "server"]
    (task,) = workflow.tasks.values()
    assert task.action == "std.echo"
    assert task.input == {"output": "<% $.output %>", "server": "<% $.server %>"}


def test_the_synthesized_workflow_belongs_to_the_rules_project_only() -> None:
    assert rules().workflow("other", f"{ACTION_WORKFLOW_PREFIX}notify") is None


def test_an_event_of_another_project_does_not_fire() -> None:
    event = CloudEvent(source="nova", type="server.created", data={"id": "s"}, project="p2")
    assert rules().fire(event) == []
