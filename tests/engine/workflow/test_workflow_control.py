"""Pause, resume, cancel, fail, succeed and task rerun, as Mistral allows them."""

from __future__ import annotations

import pytest

from tests.engine.workflow.wfdriver import Driver

CHAIN = """
chain:
  tasks:
    a:
      action: std.echo output=1
      on-success: [b]
    b:
      action: std.echo output=2
      publish: {b: <% task().result %>}
    side:
      action: std.echo output=3
"""


def test_results_for_a_paused_execution_are_applied_but_nothing_new_starts() -> None:
    d = Driver(CHAIN)
    d.start("chain")
    assert d.control("pause")
    assert d.doc["state"] == "PAUSED"
    assert d.succeed("a", 1)
    assert d.states()["a"] == "SUCCESS"
    assert "b" not in d.states()
    assert d.succeed("side", 3)
    assert d.doc["state"] == "PAUSED"

    assert d.control("resume")
    assert d.states()["b"] == "RUNNING"
    d.succeed("b", 2)
    assert d.doc["state"] == "SUCCESS"
    assert d.doc["output"] == {"b": 2}
    states = [h["state"] for h in d.doc["history"] if h["task"] is None]
    assert states == ["RUNNING", "PAUSED", "RUNNING", "SUCCESS"]


def test_pause_and_resume_are_refused_when_the_state_does_not_allow_them() -> None:
    d = Driver(CHAIN)
    d.start("chain")
    assert not d.control("resume")
    assert d.control("pause")
    assert not d.control("pause")
    d.control("resume")
    d.run_all()
    assert d.doc["state"] == "SUCCESS"
    for action in ("pause", "resume", "cancel", "fail", "succeed"):
        assert not d.control(action)


def test_cancel_marks_running_tasks_cancelled_and_ignores_late_results() -> None:
    d = Driver(CHAIN)
    d.start("chain")
    late = d.pending("a")[0]
    assert d.control("cancel", message="operator said so")
    assert d.doc["state"] == "CANCELLED"
    assert d.doc["state_info"] == "operator said so"
    assert d.doc["output"] == {"result": "operator said so"}
    assert d.states() == {"a": "CANCELLED", "side": "CANCELLED"}
    assert not d.finish(late, "SUCCESS", 1)
    assert d.states()["a"] == "CANCELLED"


def test_fail_and_succeed_end_the_execution_with_the_message() -> None:
    d = Driver(CHAIN)
    d.start("chain")
    d.control("fail", message="stop")
    assert (d.doc["state"], d.doc["state_info"]) == ("ERROR", "stop")
    assert d.doc["output"] == {"result": "stop"}

    d = Driver(CHAIN)
    d.start("chain")
    d.control("succeed")
    assert d.doc["state"] == "SUCCESS"


ENGINE_COMMAND_MESSAGES = """
check:
  input: [limit]
  tasks:
    measure:
      action: std.echo output=7
      publish: {seen: <% task().result %>}
      on-success:
        - fail msg=<% 'saw ' + str($.seen) + ' over ' + str($.limit) %>: <% $.seen > $.limit %>
        - succeed msg="<% $.seen %> within limit"
broken:
  tasks:
    only:
      action: std.echo output=1
      on-success:
        - fail msg=<% $.missing.deeper %>
"""


@pytest.mark.parametrize(
    ("limit", "state", "info"),
    [(5, "ERROR", "saw 7 over 5"), (9, "SUCCESS", "7 within limit")],
)
def test_engine_command_messages_are_evaluated_in_the_task_context(
    limit: int, state: str, info: str
) -> None:
    d = Driver(ENGINE_COMMAND_MESSAGES)
    d.start("check", {"limit": limit})
    d.run_all()
    assert (d.doc["state"], d.doc["state_info"]) == (state, info)


def test_an_engine_command_message_that_cannot_be_evaluated_fails_with_the_reason() -> None:
    d = Driver(ENGINE_COMMAND_MESSAGES)
    d.start("broken")
    d.run_all()
    assert d.doc["state"] == "ERROR"
    assert "missing" in d.doc["state_info"]


def test_a_pause_engine_command_then_resume_runs_the_rest() -> None:
    d = Driver(
        """
paused:
  tasks:
    t1:
      action: std.echo output=one
      publish: {v: <% task().result %>}
      on-success: [pause, t2]
    t2:
      action: std.echo output=two
      publish: {v2: <% task().result %>}
"""
    )
    d.start("paused")
    d.succeed("t1", "one")
    assert d.doc["state"] == "PAUSED"
    assert "t2" not in d.states()
    d.control("resume")
    d.succeed("t2", "two")
    assert d.doc["state"] == "SUCCESS"
    assert d.doc["output"]["v2"] == "two"


def test_rerun_runs_the_failed_task_again_and_the_execution_continues() -> None:
    d = Driver(CHAIN)
    d.start("chain")
    d.succeed("side", 3)
    first = d.pending("a")[0]
    d.fail("a", "flaky")
    assert d.doc["state"] == "ERROR"
    assert d.rerun("a")
    assert d.doc["state"] == "RUNNING"
    second = d.pending("a")[0]
    assert second.action_execution_id != first.action_execution_id
    assert not d.finish(first, "SUCCESS", 1)  # the old attempt stays ignored
    d.run_all()
    assert d.doc["state"] == "SUCCESS"
    assert d.states() == {"a": "SUCCESS", "b": "SUCCESS", "side": "SUCCESS"}


def test_rerun_is_refused_for_a_task_that_did_not_fail() -> None:
    d = Driver(CHAIN)
    d.start("chain")
    d.run_all()
    assert not d.rerun("a")


def test_pause_before_pauses_the_execution_until_resumed() -> None:
    d = Driver(
        """
gated:
  tasks:
    first:
      action: std.noop
      on-success: [second]
    second:
      action: std.noop
      pause-before: true
"""
    )
    d.start("gated")
    d.succeed("first")
    assert d.doc["state"] == "PAUSED"
    task = d.task("second")
    assert (task["state"], task["state_info"]) == ("IDLE", "Set by 'pause-before' policy")
    assert not d.pending("second")
    d.control("resume")
    d.succeed("second")
    assert d.doc["state"] == "SUCCESS"


def _in_state(state: str) -> Driver:
    d = Driver(CHAIN)
    d.start("chain")
    if state == "PAUSED":
        d.control("pause")
    elif state != "RUNNING":
        d.control({"SUCCESS": "succeed", "ERROR": "fail", "CANCELLED": "cancel"}[state])
    assert d.doc["state"] == state
    return d


# Mistral's workflow transitions (mistral/workflow/states.py): what each operator command
# does from each state an execution can be seen in; None: refused, nothing changes.
TRANSITIONS = {
    ("RUNNING", "pause"): "PAUSED",
    ("RUNNING", "resume"): None,
    ("RUNNING", "cancel"): "CANCELLED",
    ("RUNNING", "fail"): "ERROR",
    ("RUNNING", "succeed"): "SUCCESS",
    ("PAUSED", "pause"): None,
    ("PAUSED", "resume"): "RUNNING",
    ("PAUSED", "cancel"): "CANCELLED",
    ("PAUSED", "fail"): "ERROR",
    ("PAUSED", "succeed"): None,
    **{
        (final, action): None
        for final in ("SUCCESS", "ERROR", "CANCELLED")
        for action in ("pause", "resume", "cancel", "fail", "succeed")
    },
}


@pytest.mark.parametrize(("state", "action"), sorted(TRANSITIONS))
def test_control_commands_follow_mistrals_transitions(state: str, action: str) -> None:
    d = _in_state(state)
    before = d.doc["version"], len(d.doc["history"])
    expected = TRANSITIONS[(state, action)]
    assert d.control(action, message="operator") is (expected is not None)
    assert d.doc["state"] == (expected or state)
    if expected is None:
        assert (d.doc["version"], len(d.doc["history"])) == before


def test_a_task_ending_while_paused_publishes_then_the_next_task_sees_it_on_resume() -> None:
    d = Driver(
        """
flow:
  vars: {v: start}
  tasks:
    a:
      action: std.echo output=from-a
      publish: {v: <% task().result %>, seen_by_a: <% $.v %>}
      on-success:
        - b: <% $.v = 'from-a' %>
    b:
      action: std.echo output=<% $.v %>
      publish: {b_saw: <% $.v %>, g: <% global(g) %>}
    side:
      action: std.noop
      on-success:
        publish:
          branch: {side_v: from-side}
          global: {g: side}
"""
    )
    d.start("flow")
    d.control("pause")
    d.succeed("a", "from-a")
    d.succeed("side")
    # Mistral publishes at completion, paused or not; only what comes next waits.
    assert d.task("a")["published"] == {"v": "from-a", "seen_by_a": "start"}
    assert d.doc["context"]["g"] == "side"
    assert "b" not in d.states()
    d.control("resume")
    assert d.pending("b")[0].input == {"output": "from-a"}
    d.succeed("b", "from-a")
    assert d.task("b")["published"] == {"b_saw": "from-a", "g": "side"}
    assert d.doc["state"] == "SUCCESS"
    assert d.doc["output"] == {
        "v": "from-a",
        "seen_by_a": "start",
        "b_saw": "from-a",
        "g": "side",
        "side_v": "from-side",
    }
