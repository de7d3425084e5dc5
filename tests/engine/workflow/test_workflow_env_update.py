"""Env updates (Mistral's execution update with ``params.env``): merged, state unchanged."""

from __future__ import annotations

from tests.engine.workflow.wfdriver import Driver

USES_ENV = """
uses_env:
  tasks:
    first:
      action: std.echo output=1
      on-success: [second]
    second:
      action: std.echo output=<% env().region %>
      publish: {region: <% task().result %>}
"""


def test_an_env_update_on_a_paused_execution_is_merged_and_seen_after_resume() -> None:
    d = Driver(USES_ENV)
    d.start("uses_env", env={"region": "eu", "tier": "gold"})
    assert d.control("pause")
    assert d.control("update_env", env={"region": "us"})
    assert d.doc["state"] == "PAUSED"
    assert d.doc["params"]["env"] == {"region": "us", "tier": "gold"}
    d.succeed("first", 1)
    assert d.control("resume")
    assert d.pending("second")[0].input == {"output": "us"}


def test_an_env_update_is_refused_while_running_or_after_success() -> None:
    d = Driver(USES_ENV)
    d.start("uses_env", env={"region": "eu"})
    assert not d.control("update_env", env={"region": "us"})
    d.run_all()
    assert d.doc["state"] == "SUCCESS"
    assert not d.control("update_env", env={"region": "us"})
    assert d.doc["params"]["env"] == {"region": "eu"}


def test_an_errored_execution_takes_an_env_update_and_a_repeat_changes_nothing() -> None:
    d = Driver(USES_ENV)
    d.start("uses_env", env={"region": "eu"})
    d.fail("first")
    assert d.doc["state"] == "ERROR"
    assert d.control("update_env", env={"region": "us"})
    assert d.doc["state"] == "ERROR"
    # A redelivered update finds the values in place: a repeat, so nothing is written.
    assert not d.control("update_env", env={"region": "us"})
    assert d.doc["params"]["env"] == {"region": "us"}
