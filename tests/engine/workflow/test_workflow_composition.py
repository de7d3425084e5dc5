"""Sub-workflows, reverse workflows, ad-hoc actions and env()."""

from __future__ import annotations

from tests.engine.workflow.wfdriver import Driver

PARENT = """
parent:
  tasks:
    call:
      workflow: child
      input: {x: 2}
      publish: {got: <% task().result %>}
child:
  input: [x]
  output: {doubled: <% $.x * 2 %>}
  tasks:
    work:
      action: std.echo output=<% $.x %>
"""


def test_a_sub_workflow_gets_its_input_and_its_output_is_the_task_result() -> None:
    d = Driver(PARENT)
    d.start("parent")
    (child,) = d.children()
    assert child["input"] == {"x": 2}
    assert child["parent_execution_id"] == d.root
    assert child["root_execution_id"] == d.root
    assert child["parent_task_id"] == d.task("call")["id"]
    assert d.task("call")["type"] == "WORKFLOW"
    d.succeed("work", 2)
    assert child["state"] == "SUCCESS"
    assert d.doc["state"] == "SUCCESS"
    assert d.doc["output"] == {"got": {"doubled": 4}}


def test_a_sub_workflow_acts_with_the_callers_openstack_credentials_and_env() -> None:
    d = Driver(PARENT)
    caller = {"auth_token": "tok-123", "project_id": "p1", "cloud": "gra"}
    d.start("parent", env={"openstack_cloud": "gra"}, openstack=caller)
    (child,) = d.children()
    assert child["params"]["env"] == {"openstack_cloud": "gra"}
    (request,) = d.pending("work")
    assert request.security is not None
    assert (request.security.auth_token, request.security.cloud) == ("tok-123", "gra")


def test_a_failed_sub_workflow_fails_the_parent_task() -> None:
    d = Driver(PARENT)
    d.start("parent")
    d.fail("work", "child broke")
    assert d.task("call")["state"] == "ERROR"
    assert d.task("call")["state_info"].startswith("Failure caused by error in tasks: work")
    assert d.doc["state"] == "ERROR"


def test_pause_resume_and_cancel_cascade_to_sub_workflows() -> None:
    d = Driver(PARENT)
    d.start("parent")
    (child,) = d.children()
    d.control("pause")
    assert child["state"] == "PAUSED"
    d.control("resume")
    assert child["state"] == "RUNNING"
    d.control("cancel", message="stop all")
    assert child["state"] == "CANCELLED"
    assert d.doc["state"] == "CANCELLED"
    assert d.task("call")["state"] == "CANCELLED"


def test_cancelling_the_child_cancels_the_parent() -> None:
    d = Driver(PARENT)
    d.start("parent")
    (child,) = d.children()
    d.control("cancel", execution_id=child["_id"])
    assert d.task("call")["state"] == "CANCELLED"
    assert d.doc["state"] == "CANCELLED"
    assert d.doc["state_info"] == "Cancelled tasks: call"


def test_with_items_over_a_sub_workflow_starts_one_child_per_item() -> None:
    d = Driver(
        PARENT
        + """
fan:
  tasks:
    each:
      with-items: x in [1, 2, 3]
      workflow: child
      input: {x: <% $.x %>}
"""
    )
    d.start("fan")
    assert sorted(c["input"]["x"] for c in d.children()) == [1, 2, 3]
    d.run_all()
    assert d.task("each")["result"] == [{"doubled": 2}, {"doubled": 4}, {"doubled": 6}]


REVERSE = """
build:
  type: reverse
  tasks:
    fetch:
      action: std.echo output=src
      publish: {src: <% task().result %>}
    compile:
      action: std.echo output=bin
      requires: [fetch]
      publish: {bin: "<% $.src %>-built"}
    test:
      action: std.noop
      requires: compile
    docs:
      action: std.noop
"""


def test_a_reverse_workflow_runs_the_target_and_what_it_requires_only() -> None:
    d = Driver(REVERSE)
    d.start("build", task_name="compile")
    assert [r.task_name for r in d.pending()] == ["fetch"]
    d.succeed("fetch", "src")
    assert [r.task_name for r in d.pending()] == ["compile"]
    d.succeed("compile", "bin")
    assert d.doc["state"] == "SUCCESS"
    assert set(d.states()) == {"fetch", "compile"}
    assert d.doc["output"]["bin"] == "src-built"


def test_a_reverse_workflow_without_a_known_target_fails() -> None:
    d = Driver(REVERSE)
    d.start("build", task_name="nope")
    assert d.doc["state"] == "ERROR"
    assert "task_name" in d.doc["state_info"]


def test_an_ad_hoc_action_is_expanded_to_its_base_with_its_output() -> None:
    d = Driver(
        """
greet:
  tasks:
    hi:
      action: greeting name=World
      publish: {said: <% task().result %>}
""",
        actions="""
greeting:
  base: std.echo
  base-input: {output: "Hello, <% $.name %>!"}
  input: [name, {punct: "!"}]
  output: <% $.toUpper() %>
""",
    )
    d.start("greet")
    (request,) = d.pending()
    assert (request.action, request.input) == ("std.echo", {"output": "Hello, World!"})
    d.finish(request, "SUCCESS", "Hello, World!")
    assert d.doc["output"] == {"said": "HELLO, WORLD!"}


def test_env_is_visible_through_env_and_the_execution_params() -> None:
    d = Driver(
        """
envy:
  tasks:
    t:
      action: std.echo output=<% env().region %>
"""
    )
    d.start("envy", env={"region": "eu-1"})
    assert d.pending()[0].input == {"output": "eu-1"}


def test_a_timed_out_task_cancels_its_sub_workflow() -> None:
    d = Driver(
        PARENT.replace("      workflow: child\n", "      workflow: child\n      timeout: 5\n")
    )
    d.start("parent")
    (child,) = d.children()
    late = d.pending("work")[0]
    d.fire("timeout")
    call = d.task("call")
    assert (call["state"], call["state_info"]) == ("ERROR", "Task timed out [timeout(s)=5].")
    assert child["state"] == "CANCELLED"
    assert child["state_info"] == "Task timed out [timeout(s)=5]."
    assert d.task("work", child["_id"])["state"] == "CANCELLED"
    assert d.doc["state"] == "ERROR"
    assert not d.finish(late, "SUCCESS")  # the child's action ending later changes nothing
    assert d.doc["state"] == "ERROR"


def test_a_timed_out_with_items_task_cancels_every_running_child() -> None:
    d = Driver(
        """
parent:
  tasks:
    call:
      with-items: x in [1, 2, 3]
      concurrency: 2
      workflow: child
      input: {x: <% $.x %>}
      timeout: 5
child:
  input: [x]
  tasks:
    work:
      action: std.echo output=<% $.x %>
"""
    )
    d.start("parent")
    d.succeed("work", 1)
    d.fire("timeout")
    states = sorted(c["state"] for c in d.children())
    assert states == ["CANCELLED", "CANCELLED", "SUCCESS"]
    assert d.task("call")["state"] == "ERROR"
    assert d.doc["state"] == "ERROR"
