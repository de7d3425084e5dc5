"""retry, wait-before, wait-after, timeout, fail-on, keep-result, safe-rerun."""

from __future__ import annotations

import pytest

from tests.engine.workflow.wfdriver import Driver, later


def test_retry_runs_count_more_attempts_with_the_delay_between() -> None:
    d = Driver(
        """
flaky:
  tasks:
    t1:
      action: std.fail
      retry: {count: 2, delay: 5}
"""
    )
    d.start("flaky")
    d.fail("t1", "attempt failed")
    task = d.task("t1")
    assert task["state"] == "RUNNING_DELAYED"
    assert task["state_info"] == "Delayed by 'retry' policy [delay=5]"
    assert not d.pending()
    d.fire("retry")
    assert d.now == later(5)
    d.fail("t1", "attempt failed")
    d.fire("retry")
    d.fail("t1", "last")
    task = d.task("t1")
    assert (task["state"], task["state_info"]) == ("ERROR", "last")
    assert task["runtime_context"]["retry_task_policy"] == {"retry_no": 2}
    assert [r.attempt for r in d.sent] == [0, 1, 2]
    assert len({r.action_execution_id for r in d.sent}) == 3
    info = d.doc["state_info"]
    assert [line.split(", idx=")[1][0] for line in info.splitlines() if "idx=" in line] == [
        "0",
        "1",
        "2",
    ]


def test_retry_then_on_error_handler_succeeds() -> None:
    d = Driver(
        """
handled:
  tasks:
    t1:
      action: std.fail
      retry: {count: 1, delay: 1}
      on-error: [h]
    h:
      action: std.noop
"""
    )
    d.start("handled")
    d.fail("t1")
    d.fire()
    d.fail("t1")
    d.succeed("h")
    assert d.doc["state"] == "SUCCESS"
    assert len(d.pending()) == 0 and len(d.sent) == 3


def test_continue_on_repeats_a_successful_task_while_true() -> None:
    d = Driver(
        """
poll:
  tasks:
    t1:
      action: std.echo output=1
      retry: {count: 5, delay: 1, continue-on: "<% task().result = 1 %>"}
"""
    )
    d.start("poll")
    for _ in range(5):
        d.succeed("t1", 1)
        d.fire()
    d.succeed("t1", 1)
    assert d.doc["state"] == "SUCCESS"
    assert len(d.sent) == 6
    assert d.task("t1")["runtime_context"]["retry_task_policy"] == {"retry_no": 5}


def test_continue_on_stops_when_false() -> None:
    d = Driver(
        """
poll:
  tasks:
    t1:
      action: std.echo
      retry: {count: 5, delay: 1, continue-on: "<% task().result != 'done' %>"}
"""
    )
    d.start("poll")
    d.succeed("t1", "busy")
    d.fire()
    d.succeed("t1", "done")
    assert d.doc["state"] == "SUCCESS"
    assert len(d.sent) == 2


def test_break_on_stops_retrying() -> None:
    d = Driver(
        """
brk:
  tasks:
    t1:
      action: std.fail
      retry: {count: 5, delay: 1, break-on: <% true %>}
"""
    )
    d.start("brk")
    d.fail("t1")
    assert d.doc["state"] == "ERROR"
    assert len(d.sent) == 1
    assert d.task("t1")["runtime_context"]["retry_task_policy"] == {}


def test_wait_before_delays_the_action() -> None:
    d = Driver(
        """
later:
  tasks:
    t1:
      action: std.noop
      wait-before: 30
"""
    )
    d.start("later")
    task = d.task("t1")
    assert (task["state"], task["state_info"]) == (
        "RUNNING_DELAYED",
        "Delayed by 'wait-before' policy [delay=30]",
    )
    assert not d.pending()
    assert d.fire("wait_before")
    assert d.now == later(30)
    assert d.task("t1")["state"] == "RUNNING"
    d.succeed("t1")
    assert d.doc["state"] == "SUCCESS"


def test_wait_after_delays_the_completion() -> None:
    d = Driver(
        """
after:
  tasks:
    t1:
      action: std.echo output=1
      wait-after: 10
      publish: {v: <% task().result %>}
      on-success: [t2]
    t2:
      action: std.noop
"""
    )
    d.start("after")
    d.succeed("t1", 1)
    task = d.task("t1")
    assert (task["state"], task["state_info"]) == (
        "RUNNING_DELAYED",
        "Delayed by 'wait-after' policy [delay=10]",
    )
    assert "t2" not in d.states()
    d.fire("wait_after")
    assert d.task("t1")["state"] == "SUCCESS"
    assert d.task("t1")["published"] == {"v": 1}
    d.succeed("t2")
    assert d.doc["state"] == "SUCCESS"


SLOW = """
slow:
  tasks:
    t1:
      action: std.sleep seconds=100
      timeout: 3
"""
TIMED_OUT = "Task timed out [timeout(s)=3]."


def test_timeout_fails_the_task_and_ignores_the_late_result() -> None:
    d = Driver(SLOW)
    d.start("slow")
    late = d.pending("t1")[0]
    d.fire("timeout")
    task = d.task("t1")
    assert (task["state"], task["state_info"]) == ("ERROR", TIMED_OUT)
    assert d.doc["state"] == "ERROR"
    assert not d.finish(late, "SUCCESS")


@pytest.mark.parametrize(("after", "info"), [(3, TIMED_OUT), (2.5, "stopped")])
def test_an_action_error_at_the_tasks_timeout_is_that_timeout(after: float, info: str) -> None:
    d = Driver(SLOW)
    d.start("slow")
    # The executor stops the action at the task's timeout; its error may come first.
    d.now = later(after)
    d.fail("t1", "stopped")
    task = d.task("t1")
    assert (task["state"], task["state_info"]) == ("ERROR", info)
    assert not d.fire("timeout")


def test_a_timeout_after_completion_is_stale() -> None:
    d = Driver(
        """
quick:
  tasks:
    t1:
      action: std.noop
      timeout: 3
"""
    )
    d.start("quick")
    d.succeed("t1")
    assert not d.fire("timeout")
    assert d.doc["state"] == "SUCCESS"


def test_fail_on_fails_a_successful_task() -> None:
    d = Driver(
        """
check:
  tasks:
    t1:
      action: std.echo output=bad
      fail-on: <% task().result = 'bad' %>
"""
    )
    d.start("check")
    d.succeed("t1", "bad")
    task = d.task("t1")
    assert (task["state"], task["state_info"]) == ("ERROR", "Failed by 'fail-on' policy")
    assert d.doc["state"] == "ERROR"


def test_keep_result_false_publishes_but_does_not_store_the_result() -> None:
    d = Driver(
        """
drop:
  tasks:
    t1:
      action: std.echo output=big
      keep-result: false
      publish: {v: <% task().result %>}
"""
    )
    d.start("drop")
    d.succeed("t1", "big")
    assert d.task("t1")["result"] is None
    assert d.doc["output"] == {"v": "big"}


def test_safe_rerun_is_passed_to_the_executor() -> None:
    d = Driver(
        """
safe:
  tasks:
    t1:
      action: std.noop
      safe-rerun: true
    t2:
      action: std.noop
"""
    )
    d.start("safe")
    assert d.pending("t1")[0].safe_rerun and not d.pending("t2")[0].safe_rerun


def test_task_defaults_apply_policies() -> None:
    d = Driver(
        """
defaults:
  task-defaults:
    retry: {count: 1, delay: 2}
  tasks:
    t1:
      action: std.fail
"""
    )
    d.start("defaults")
    d.fail("t1")
    assert d.task("t1")["state"] == "RUNNING_DELAYED"
