"""Mistral v2 workflows, workbooks and ad-hoc actions parse into the models Squall runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from schemas.definitions import (
    InputParam,
    Transition,
    WithItem,
    load_actions,
    load_definitions,
    load_workbook,
    load_workflows,
    parse_action_call,
)

EXAMPLES = Path(__file__).parents[3] / "examples" / "definitions"


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def test_mistral_workbook_example_loads_with_every_section() -> None:
    wb = load_definitions((EXAMPLES / "mistral_workbook.yaml").read_text(), "wb.yaml")
    assert wb.name == "vm_ops"
    create = wb.workflows["create_vm"]
    assert create.input == [
        InputParam(name="vm_name"),
        InputParam(name="image_ref"),
        InputParam(name="flavor_ref", default="m1.small", has_default=True),
    ]
    server = create.tasks["create_server"]
    assert server.action == "nova.servers_create"
    assert server.input == {
        "name": "<% $.vm_name %>",
        "image": "<% $.image_ref %>",
        "flavor": "<% $.flavor_ref %>",
    }
    wait = create.tasks["wait_for_instance"]
    assert wait.input == {"id": "<% $.vm_id %>", "status": "ACTIVE"}
    assert wait.retry is not None and (wait.retry.count, wait.retry.delay) == (15, 5)
    assert wait.on_success is not None
    assert wait.on_success.next == [Transition(target="succeed", kind="succeed")]
    backup = wb.workflows["backup_all"].tasks["backup"]
    assert backup.requires == ["list_volumes"]
    assert backup.with_items == [WithItem(var="volume", source="<% $.volumes %>")]
    assert wb.actions["greet"].base == "std.echo"
    assert load_workbook((EXAMPLES / "mistral_workbook.yaml").read_text()).name == "vm_ops"


def test_every_task_keyword_reaches_the_model() -> None:
    wb = load_definitions(
        dedent(
            """
            version: 2.0
            name: wb
            workflows:
              wf:
                description: all keywords
                tags: [a, b]
                input: [x]
                output: {r: <% $.r %>}
                output-on-error: {e: <% $.e %>}
                vars: {v: 1}
                tasks:
                  t:
                    description: a task
                    tags: [t]
                    action: std.http
                    input: {url: "http://x"}
                    publish: {r: <% task().result %>}
                    publish-on-error: {e: <% task().result %>}
                    with-items: [x in <% $.xs %>, y in <% $.ys %>]
                    concurrency: <% $.n %>
                    retry: {count: 3, delay: 1, break-on: <% $.stop %>, continue-on: "{{ _.go }}"}
                    wait-before: 1
                    wait-after: 2
                    timeout: <% $.t %>
                    pause-before: true
                    keep-result: false
                    safe-rerun: true
                    fail-on: <% $.bad %>
                    target: host1
                    on-success: [u]
                  u:
                    workflow: sub
                    join: 1
            """
        )
    )
    wf = wb.workflows["wf"]
    assert wb.version == "2.0"
    assert (wf.tags, wf.vars, wf.output_on_error) == (["a", "b"], {"v": 1}, {"e": "<% $.e %>"})
    t = wf.tasks["t"]
    assert t.with_items == [
        WithItem(var="x", source="<% $.xs %>"),
        WithItem(var="y", source="<% $.ys %>"),
    ]
    assert (t.concurrency, t.wait_before, t.wait_after, t.timeout) == (
        "<% $.n %>",
        1,
        2,
        "<% $.t %>",
    )
    assert (t.pause_before, t.keep_result, t.safe_rerun, t.fail_on) == (
        True,
        False,
        True,
        "<% $.bad %>",
    )
    assert (
        t.retry is not None
        and t.retry.break_on == "<% $.stop %>"
        and t.retry.continue_on == "{{ _.go }}"
    )
    assert (t.target, t.publish_on_error, t.tags) == ("host1", {"e": "<% task().result %>"}, ["t"])
    assert wf.tasks["u"].is_workflow and wf.tasks["u"].join == 1


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("next_task", [Transition(target="next_task")]),
        ("[a, b]", [Transition(target="a"), Transition(target="b")]),
        ("{a: <% $.ok %>}", [Transition(target="a", condition="<% $.ok %>")]),
        (
            "[{a: <% $.ok %>}, noop]",
            [
                Transition(target="a", condition="<% $.ok %>"),
                Transition(target="noop", kind="noop"),
            ],
        ),
        ("fail msg='boom'", [Transition(target="fail", kind="fail", params={"msg": "boom"})]),
        ('[fail(msg="boom")]', [Transition(target="fail", kind="fail", params={"msg": "boom"})]),
        (
            "['pause msg=<% $.why %>']",
            [Transition(target="pause", kind="pause", params={"msg": "<% $.why %>"})],
        ),
        ("{next: a}", [Transition(target="a")]),
        (
            "{next: [{a: '{{ _.ok }}'}, succeed]}",
            [
                Transition(target="a", condition="{{ _.ok }}"),
                Transition(target="succeed", kind="succeed"),
            ],
        ),
    ],
)
def test_transition_forms_normalise_to_one_model(clause: str, expected: list[Transition]) -> None:
    text = "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n"
    text += f"      on-complete: {clause}\n"
    text += (
        "    a: {action: std.noop}\n    b: {action: std.noop}\n    next_task: {action: std.noop}\n"
    )
    on_complete = load_workflows(text)["wf"].tasks["t"].on_complete
    assert on_complete is not None and on_complete.next == expected


def test_advanced_publish_scopes() -> None:
    text = dedent(
        """
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              on-success:
                publish:
                  branch: {a: 1}
                  global: {g: <% $.x %>}
                  atomic: {c: 3}
                next: [u]
            u: {action: std.noop}
        """
    )
    clause = load_workflows(text)["wf"].tasks["t"].on_success
    assert clause is not None
    assert (clause.publish, clause.publish_global, clause.publish_atomic) == (
        {"a": 1},
        {"g": "<% $.x %>"},
        {"c": 3},
    )


def test_task_defaults_merge_like_mistral() -> None:
    text = dedent(
        """
        version: '2.0'
        wf:
          task-defaults:
            retry: {count: 2, delay: 1}
            timeout: 30
            on-error: [handle]
          tasks:
            t:
              action: std.noop
              timeout: 5
            handle:
              action: std.noop
        """
    )
    wf = load_workflows(text)["wf"]
    t, handle = wf.effective_tasks["t"], wf.effective_tasks["handle"]
    assert t.timeout == 5 and t.retry is not None and t.retry.count == 2
    assert t.on_error is not None and [x.target for x in t.on_error.next] == ["handle"]
    # A default transition to the task itself is dropped, as Mistral does.
    assert handle.on_error is None
    assert wf.tasks["t"].retry is None  # the written task is kept as written


def test_reverse_requires_merge_with_defaults() -> None:
    text = "version: '2.0'\nwf:\n  type: reverse\n  task-defaults: {requires: a}\n"
    text += (
        "  tasks:\n    a: {action: std.noop}\n    b: {requires: [c]}\n    c: {action: std.noop}\n"
    )
    wf = load_workflows(text)["wf"]
    assert wf.effective_tasks["b"].requires == ["c", "a"]
    assert wf.effective_tasks["a"].requires is None


def test_task_without_action_runs_noop_and_inline_params_override_input() -> None:
    text = "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.echo output=inline\n"
    text += "      input: {output: given, other: 1}\n    n: {publish: {x: 1}}\n"
    wf = load_workflows(text)["wf"]
    assert wf.tasks["t"].input == {"output": "inline", "other": 1}
    assert wf.tasks["n"].action == "std.noop"


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("std.echo", ("std.echo", {})),
        ("std.echo output='x' n=1", ("std.echo", {"output": "x", "n": 1})),
        (
            'std.http url="http://a b" verify=false body=null',
            ("std.http", {"url": "http://a b", "verify": False, "body": None}),
        ),
        (
            "std.echo xs=[1, 2, 3] e=<% $.a + 1 %>",
            ("std.echo", {"xs": [1, 2, 3], "e": "<% $.a + 1 %>"}),
        ),
        ("wf j={{ _.x }}", ("wf", {"j": "{{ _.x }}"})),
        ("<% $.act %> a=1", ("<% $.act %>", {"a": 1})),
        ("fail(msg='x', code=2)", ("fail", {"msg": "x", "code": 2})),
    ],
)
def test_parse_action_call(call: str, expected: tuple[str, dict[str, object]]) -> None:
    assert parse_action_call(call) == expected


@pytest.mark.parametrize(
    "call", ["", "x=1", "std.echo output", "std.echo a='open", "std.echo a=[1"]
)
def test_parse_action_call_rejects_garbage(call: str) -> None:
    with pytest.raises(ValueError):
        parse_action_call(call)


def test_standalone_actions_file_merges_inline_base_params() -> None:
    actions = load_actions(
        "version: '2.0'\nsay:\n  base: std.echo output=<% $.msg %>\n"
        "  input: [msg]\n  output: <% $ %>\n"
    )
    say = actions["say"]
    assert say.input is not None
    assert (say.base, say.base_input, say.input[0].name) == (
        "std.echo",
        {"output": "<% $.msg %>"},
        "msg",
    )


def test_dumped_models_validate_back_to_equal_models() -> None:
    wb = load_definitions((EXAMPLES / "mistral_workbook.yaml").read_text())
    assert type(wb).model_validate(wb.model_dump(by_alias=True)) == wb
