"""with-items: zipped arrays, concurrency, item order, failures, reruns of failed items."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.workflow.wfdriver import Driver

ITEMS = """
items:
  input: [xs, ys, c]
  tasks:
    each:
      with-items: [x in <% $.xs %>, y in <% $.ys %>]
      concurrency: <% $.c %>
      action: std.echo
      input: {output: "<% $.x %>-<% $.y %>"}
      publish: {all: <% task().result %>}
      publish-on-error: {partial: <% task().result %>}
"""


def test_several_arrays_are_zipped_and_results_keep_item_order() -> None:
    d = Driver(ITEMS)
    d.start("items", {"xs": [1, 2, 3], "ys": ["a", "b", "c"], "c": 0})
    requests = d.pending("each")
    assert [r.input for r in requests] == [
        {"output": f"{x}-{y}"} for x, y in zip([1, 2, 3], "abc", strict=True)
    ]
    assert [r.item_index for r in requests] == [0, 1, 2]
    assert len({r.action_execution_id for r in requests}) == 3
    for request in reversed(requests):
        d.finish(request, "SUCCESS", request.input["output"])
    assert d.doc["state"] == "SUCCESS"
    assert d.task("each")["result"] == ["1-a", "2-b", "3-c"]
    assert d.doc["output"] == {"all": ["1-a", "2-b", "3-c"]}


def test_arrays_of_different_lengths_fail_the_task() -> None:
    d = Driver(ITEMS)
    d.start("items", {"xs": [1, 2], "ys": ["a"], "c": 0})
    assert d.doc["state"] == "ERROR"
    assert "same length" in d.task("each")["state_info"]


def test_an_empty_array_succeeds_at_once_with_an_empty_result() -> None:
    d = Driver(ITEMS)
    d.start("items", {"xs": [], "ys": [], "c": 0})
    assert d.doc["state"] == "SUCCESS"
    assert d.task("each")["result"] == []


def test_concurrency_limits_how_many_items_run_at_once() -> None:
    d = Driver(ITEMS)
    d.start("items", {"xs": list(range(5)), "ys": list(range(5)), "c": 2})
    assert len(d.pending()) == 2
    d.run_all()
    assert max_in_flight(d) <= 2
    assert d.task("each")["result"] == [f"{i}-{i}" for i in range(5)]


def max_in_flight(d: Driver) -> int:
    return max(len(d.sent[i : i + 2]) for i in range(len(d.sent)))


def test_a_failed_item_fails_the_task_after_all_items_ran() -> None:
    d = Driver(ITEMS)
    d.start("items", {"xs": [1, 2, 3], "ys": [1, 2, 3], "c": 1})

    def outcome(request):  # type: ignore[no-untyped-def]
        if request.item_index == 1:
            return "ERROR", "item 1 broke"
        return "SUCCESS", request.input["output"]

    d.run_all(outcome)
    task = d.task("each")
    assert (task["state"], task["state_info"]) == ("ERROR", "One or more actions had failed.")
    assert task["published"] == {"partial": ["1-1", "item 1 broke", "3-3"]}
    assert len(d.sent) == 3
    info = d.doc["state_info"]
    assert info.startswith("Failure caused by error in tasks: each\n\n  each [task_ex_id=")
    assert "-> One or more actions had failed.\n    [action_ex_id=" in info
    assert ", idx=1]: item 1 broke\n" in info


def test_rerun_without_reset_runs_only_the_failed_items() -> None:
    d = Driver(ITEMS)
    d.start("items", {"xs": [1, 2, 3], "ys": [1, 2, 3], "c": 0})
    d.run_all(lambda r: ("ERROR", "x") if r.item_index == 2 else ("SUCCESS", r.input["output"]))
    assert d.doc["state"] == "ERROR"
    assert d.rerun("each", reset=False)
    assert [r.item_index for r in d.pending()] == [2]
    d.run_all()
    assert d.doc["state"] == "SUCCESS"
    assert d.task("each")["result"] == ["1-1", "2-2", "3-3"]


def test_rerun_with_reset_runs_every_item_again_with_new_ids() -> None:
    d = Driver(ITEMS)
    d.start("items", {"xs": [1, 2], "ys": [1, 2], "c": 0})
    first = {r.action_execution_id for r in d.pending()}
    d.run_all(lambda r: ("ERROR", "x"))
    d.rerun("each", reset=True)
    again = {r.action_execution_id for r in d.pending()}
    assert len(again) == 2 and not again & first
    d.run_all()
    assert d.doc["state"] == "SUCCESS"


def test_a_repeated_item_result_changes_nothing() -> None:
    d = Driver(ITEMS)
    d.start("items", {"xs": [1, 2], "ys": [1, 2], "c": 0})
    request = d.pending()[0]
    assert d.finish(request, "SUCCESS", "1-1")
    assert not d.finish(request, "SUCCESS", "other")


@settings(max_examples=40, deadline=None)
@given(
    xs=st.lists(st.integers(), max_size=30),
    concurrency=st.integers(min_value=0, max_value=6),
    seed=st.integers(),
)
def test_any_array_and_concurrency_runs_each_item_once_in_item_order(
    xs: list[int], concurrency: int, seed: int
) -> None:
    d = Driver(ITEMS)
    d.start("items", {"xs": xs, "ys": xs, "c": concurrency})
    shuffle = random.Random(seed)
    while d.requests:
        in_flight = list(d.requests.values())
        assert concurrency == 0 or len(in_flight) <= concurrency
        request = shuffle.choice(in_flight)
        d.finish(request, "SUCCESS", request.input["output"])
    assert d.doc["state"] == "SUCCESS"
    assert sorted(r.item_index for r in d.sent) == list(range(len(xs)))  # type: ignore[type-var]
    assert d.task("each")["result"] == [f"{x}-{x}" for x in xs]


def test_ten_thousand_items_keep_the_document_small() -> None:
    d = Driver(
        """
many:
  input: [n]
  tasks:
    each:
      with-items: i in <% range(0, $.n) %>
      action: std.noop
"""
    )
    d.start("many", {"n": 10_000})
    d.run_all(lambda r: ("SUCCESS", r.item_index))
    task = d.task("each")
    assert task["state"] == "SUCCESS"
    assert task["result"] is None and task["result_ref"] == "items"
    assert len(task["items"]["status"]) == 10_000
    assert d.items[(task["id"], 9_999)] == ("SUCCESS", 9_999)
