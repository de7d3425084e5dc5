"""What the engine puts in action requests and keeps of them: timeouts and masked input."""

from __future__ import annotations

from tests.engine.workflow.wfdriver import Driver

WORKFLOWS = """
bounded:
  input: [limit]
  tasks:
    t1:
      action: std.sleep seconds=100
      timeout: <% $.limit %>
unbounded:
  tasks:
    t1:
      action: std.sleep seconds=100
items:
  tasks:
    t1:
      with-items: x in [1, 2, 3]
      action: std.echo output=<% $.x %>
      timeout: 7
secret:
  input: [password]
  tasks:
    login:
      action: std.http
      input:
        url: https://example.com/login
        auth: [admin, <% $.password %>]
        headers: {X-Api-Token: tok-<% $.password %>}
        body: {user: admin, password: <% $.password %>}
      retry: {count: 1, delay: 0}
"""


def test_the_task_timeout_bounds_its_action() -> None:
    d = Driver(WORKFLOWS)
    d.start("bounded", {"limit": 4})
    (request,) = d.pending("t1")
    assert request.timeout_s == 4


def test_a_task_without_timeout_leaves_the_bound_to_the_executor() -> None:
    d = Driver(WORKFLOWS)
    d.start("unbounded")
    (request,) = d.pending("t1")
    assert request.timeout_s is None


def test_every_item_of_a_with_items_task_gets_the_task_timeout() -> None:
    d = Driver(WORKFLOWS)
    d.start("items")
    assert [(r.item_index, r.timeout_s) for r in d.pending("t1")] == [(0, 7), (1, 7), (2, 7)]


def test_secrets_are_masked_in_the_stored_task_input_but_sent_to_the_action() -> None:
    d = Driver(WORKFLOWS)
    d.start("secret", {"password": "hunter2"})
    (request,) = d.pending("login")
    assert request.input["body"]["password"] == "hunter2"
    assert request.input["headers"]["X-Api-Token"] == "tok-hunter2"
    stored = d.task("login")["input"]
    assert "hunter2" not in repr(stored)
    assert stored["url"] == "https://example.com/login"
    assert stored["body"]["user"] == "admin"


def test_a_retry_sends_the_secret_again_from_the_spec() -> None:
    d = Driver(WORKFLOWS)
    d.start("secret", {"password": "hunter2"})
    d.fail("login")
    retried = d.pending("login")[0]
    assert retried.attempt == 1
    assert retried.input["body"]["password"] == "hunter2"
    assert "hunter2" not in repr(d.task("login")["input"])
