"""tasks() and executions() over other executions: what a run asks the engine to load."""

from __future__ import annotations

import pytest

from engine.expressions import ExpressionError
from engine.workflow.lookups import Lookups, NeedsLoading, mentions_lookups, query_of
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
