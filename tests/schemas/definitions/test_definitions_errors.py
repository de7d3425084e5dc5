"""Each kind of mistake is reported with its file, line, column, path and expectation."""

from __future__ import annotations

import textwrap

import pytest

from schemas.definitions import DefinitionError, Issue, Workflow, load_definitions, load_workflows


def issues_of(text: str) -> list[tuple[int, int, str, str]]:
    with pytest.raises(DefinitionError) as caught:
        load_definitions(textwrap.dedent(text).lstrip("\n"), "defs.yaml")
    assert all(i.file == "defs.yaml" for i in caught.value.issues)
    return [(i.line, i.column, i.path, i.message) for i in caught.value.issues]


HEAD = "version: '2.0'\nname: wb\nworkflows:\n  wf:\n    tasks:\n"


def task_issues(body: str) -> list[tuple[int, int, str, str]]:
    """Issues for tasks written (6-space indented) under workflows.wf.tasks, from line 6."""
    return issues_of(HEAD + textwrap.indent(textwrap.dedent(body).lstrip("\n"), "      "))


def test_wrong_number_is_located_at_the_value() -> None:
    found = task_issues(
        """
        create_vm:
          action: nova.servers_create
          retry:
            count: three
            delay: 1
        """
    )
    path = "workflows.wf.tasks.create_vm.retry.count"
    assert found == [(9, 18, path, "expected an integer ≥ 0 or an expression, got 'three'")]


def test_unknown_keyword_is_located_at_the_key_with_a_suggestion() -> None:
    found = task_issues("t:\n  action: std.noop\n  on_success: [t]\n")
    path = "workflows.wf.tasks.t.on_success"
    assert found == [(8, 9, path, "unknown keyword 'on_success' (did you mean 'on-success'?)")]


def test_action_and_workflow_together() -> None:
    found = task_issues("t:\n  action: a\n  workflow: b\n")
    assert found == [
        (7, 9, "workflows.wf.tasks.t", "a task has either 'action' or 'workflow', not both")
    ]


@pytest.mark.parametrize("join", ["two", "-1", "true"])
def test_bad_join(join: str) -> None:
    found = task_issues(f"a: {{action: x, on-success: t}}\nt: {{action: x, join: {join}}}\n")
    assert [f[:3] for f in found] == [(7, 28, "workflows.wf.tasks.t.join")]
    assert found[0][3].startswith("expected 'all', 'one' or an integer ≥ 0, got")


def test_join_needs_enough_inbound_tasks() -> None:
    found = task_issues("a: {action: x, on-success: t}\nt: {action: x, join: 2}\n")
    assert found == [
        (7, 28, "workflows.wf.tasks.t.join", "'join: 2' needs at least 2 inbound task(s), found 1")
    ]


def test_transition_to_unknown_task_points_at_the_list_item() -> None:
    found = task_issues("a:\n  action: x\n  on-success:\n    - b\n    - c\nb: {action: x}\n")
    assert found == [
        (10, 13, "workflows.wf.tasks.a.on-success[1]", "transition to unknown task 'c'")
    ]


def test_transition_condition_must_be_an_expression() -> None:
    found = task_issues("a:\n  action: x\n  on-error:\n    - b: yes please\nb: {action: x}\n")
    assert found == [
        (
            9,
            13,
            "workflows.wf.tasks.a.on-error[0]",
            "expected an expression as the condition of the transition to 'b', got 'yes please'",
        )
    ]


def test_reserved_task_name() -> None:
    found = task_issues("fail: {action: x}\n")
    assert found == [
        (6, 7, "workflows.wf.tasks.fail", "'fail' is an engine command and cannot name a task")
    ]


def test_no_start_task() -> None:
    found = task_issues("a: {action: x, on-success: b}\nb: {action: x, on-success: a}\n")
    assert found == [
        (5, 5, "workflows.wf.tasks", "no start task: every task has an inbound transition")
    ]


def test_reverse_workflow_checks_requires_and_direct_keywords() -> None:
    found = issues_of(
        """
        version: '2.0'
        name: wb
        workflows:
          wf:
            type: reverse
            tasks:
              a: {action: x, requires: [ghost]}
              b: {action: x, on-success: a}
        """
    )
    assert found == [
        (7, 33, "workflows.wf.tasks.a.requires[0]", "requires unknown task 'ghost'"),
        (
            8,
            22,
            "workflows.wf.tasks.b.on-success",
            "'on-success' is only allowed in direct workflows",
        ),
    ]


def test_duplicate_key_and_other_errors_are_all_reported() -> None:
    found = issues_of(
        """
        version: '1.0'
        name: wb
        workflows:
          wf:
            tasks:
              a: {action: x}
              a: {action: y}
        rules:
          r: {pattern: {source: [x]}}
        """
    )
    assert found == [
        (1, 10, "version", "expected version '2.0', got '1.0'"),
        (7, 7, "workflows.wf.tasks.a", "duplicate key 'a'"),
        (9, 6, "rules.r", "expected exactly one of 'workflow' or 'action', got none"),
    ]


def test_missing_required_keyword_points_at_the_parent() -> None:
    found = issues_of("version: '2.0'\nname: wb\nworkflows:\n  wf:\n    input: [a]\n")
    assert found == [(4, 3, "workflows.wf.tasks", "missing required keyword 'tasks'")]


def test_yaml_syntax_error_has_a_position() -> None:
    with pytest.raises(DefinitionError) as caught:
        load_definitions("version: '2.0'\nname: [unclosed\n", "bad.yaml")
    (issue,) = caught.value.issues
    assert issue.file == "bad.yaml" and issue.line >= 2 and "expected" in issue.message


def test_error_report_is_readable() -> None:
    error = DefinitionError([Issue("f.yaml", 3, 5, "workflows.wf", "boom")])
    assert str(error) == "1 problem in the definitions:\n  f.yaml:3:5: workflows.wf: boom"


def test_workflows_file_needs_version() -> None:
    with pytest.raises(DefinitionError) as caught:
        load_workflows("wf:\n  tasks:\n    a: {action: x}\n")
    assert [i.message for i in caught.value.issues] == ["missing required keyword 'version'"]


def test_model_used_directly_still_checks_the_graph() -> None:
    with pytest.raises(ValueError, match="transition to unknown task 'nope'"):
        Workflow.model_validate({"name": "wf", "tasks": {"a": {"name": "a", "on-success": "nope"}}})
