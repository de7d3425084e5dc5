"""tasks() and executions() over other executions, and task results stored apart: what
a run asks the engine to load."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.expressions import ExpressionError
from engine.workflow.lookups import (
    RESULT_REF,
    Lookups,
    NeedsLoading,
    mentions_lookups,
    query_of,
    stored_apart,
)
from engine.workflow.runtime import WorkflowRuntime
from tests.engine.workflow.wfdriver import Driver

PEEK = """
peek:
  input: [other]
  tasks:
    look:
      action: std.noop
      publish: {theirs: <% tasks($.other).name %>}
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<% tasks(execution().id) %>", True),
        ("{{ executions(state='ERROR') | length }}", True),
        ("<% tasks () %>", True),
        ("<% task(a).result %>", False),
        ("subtasks: <% $.subtasks %>", False),
    ],
)
def test_only_workflows_calling_the_functions_need_lookups(text: str, expected: bool) -> None:
    assert mentions_lookups(text) is expected


def test_a_run_without_lookups_fails_the_expression_instead_of_reading_the_store() -> None:
    d = Driver(PEEK)
    d.start("peek", {"other": "elsewhere"})
    d.succeed("look")
    assert d.doc["state"] == "ERROR"
    assert "stored executions are not available here" in d.task("look")["state_info"]


def test_lookups_ask_for_what_is_missing_then_answer_from_what_was_loaded() -> None:
    lookups = Lookups()
    key = ("execution", "default", "ex-1")
    with pytest.raises(NeedsLoading) as missing:
        lookups.get(key)
    assert missing.value.key == key
    lookups.put(key, [{"_id": "ex-1", "spec_hash": "h"}], {"h": {"name": "wf"}})
    assert lookups.get(key) == [{"_id": "ex-1", "spec_hash": "h"}]
    assert lookups.specs == {"h": {"name": "wf"}}
    lookups.final = True
    with pytest.raises(ExpressionError):
        lookups.get(("project", "default"))


def test_executions_filters_become_one_project_scoped_query() -> None:
    query, projection = query_of(
        ("executions", "p1", None, "root-1", "SUCCESS", "2026-01-01", "2026-01-02 10:00:00")
    )
    assert query["project"] == "p1"
    assert (query["root_execution_id"], query["state"]) == ("root-1", "SUCCESS")
    assert "_id" not in query
    since, until = query["created_at"]["$gte"], query["created_at"]["$lt"]
    assert since.isoformat() == "2026-01-01T00:00:00+00:00"
    assert until.isoformat() == "2026-01-02T10:00:00+00:00"
    assert projection["tasks"] == 0
    tree, _ = query_of(("tree", "p1", "root-1"))
    assert tree == {"project": "p1", "$or": [{"_id": "root-1"}, {"root_execution_id": "root-1"}]}


TRIO = """
trio:
  tasks:
    a:
      action: std.echo output=a
      on-success: [b]
    b:
      with-items: i in <% [1, 2] %>
      action: std.echo output=<% $.i %>
      on-success: [c]
    c:
      action: std.echo output=c
"""


def stored_apart_trio() -> Driver:
    """A finished ``trio`` whose results of ``a`` and ``b`` are kept out of its document,
    as the engine leaves them."""
    d = Driver(TRIO)
    d.start("trio")
    d.run_all()
    d.task("a")["result"] = {RESULT_REF: "aeid-a"}
    d.task("b").update(result=None, result_ref="items")
    return d


def test_tasks_asks_for_every_result_stored_apart_at_once_and_reads_the_values() -> None:
    d = stored_apart_trio()
    lookups = Lookups()
    runtime = WorkflowRuntime(d.doc, d.workflows["trio"], None, lookups)
    with pytest.raises(NeedsLoading) as missing:
        runtime.tasks(d.root)
    b = d.task("b")["id"]
    assert set(missing.value.keys) == {("result", "aeid-a"), ("items", b, "2")}
    lookups.put_result(("result", "aeid-a"), {"big": "a"})
    lookups.put_result(("items", b, "2"), [1, 2])
    assert [t["result"] for t in runtime.tasks(d.root)] == [{"big": "a"}, [1, 2], "c"]
    assert runtime.task("a")["result"] == {"big": "a"}  # type: ignore[index]
    # The document keeps the references.
    assert d.task("a")["result"] == {RESULT_REF: "aeid-a"}
    assert d.task("b")["result"] is None


def test_items_the_run_holds_in_memory_are_read_without_loading() -> None:
    d = stored_apart_trio()
    b = d.task("b")["id"]
    held = {b: {0: ("SUCCESS", "x"), 1: ("SUCCESS", "y")}}
    runtime = WorkflowRuntime(d.doc, d.workflows["trio"], None, None, item_results=held)
    assert runtime.task("b")["result"] == ["x", "y"]  # type: ignore[index]
    with pytest.raises(ExpressionError, match="results stored apart are not available"):
        runtime.task("a")


@given(
    result=st.recursive(
        st.none() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=8,
    )
)
def test_only_the_placeholder_reads_as_stored_apart(result: object) -> None:
    task = {"id": "t", "state": "SUCCESS", "result": result}
    assert stored_apart(task) is None
    assert stored_apart({**task, "result": {RESULT_REF: "x"}}) == ("result", "x")
    assert stored_apart({**task, "result": {RESULT_REF: "x", "other": result}}) is None
