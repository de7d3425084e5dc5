"""The processor with the new workflow keywords, against a real MongoDB-protocol server:
with-items results stored apart and collected, delays persisted, repeats idempotent,
large results stored apart and still read as values."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from engine.processor import LARGE_RESULT_BYTES, EngineProcessor
from engine.rules import RuleSet
from engine.store import EngineStore
from engine.workflow import INLINE_RESULTS_MAX
from engine.workflow.lookups import RESULT_REF
from schemas import ActionRequest, ActionResult, StartExecution
from schemas.bus import Outbound, Topics
from schemas.commands import decode_command
from schemas.definitions import AdHocAction, Workflow, load_definitions

TEXT = """
version: '2.0'
name: proc
workflows:
  items:
    input: [n]
    tasks:
      each:
        with-items: i in <% range(0, $.n) %>
        action: std.echo output=<% $.i %>
        publish: {all: <% task().result %>}
  delayed:
    tasks:
      t:
        action: std.noop
        wait-before: 60
  leaf:
    tasks:
      inner:
        action: std.echo output=leaf
  parent:
    tasks:
      first:
        action: std.echo output=first
        on-success: [child]
      child:
        workflow: leaf
        on-success: [report]
      report:
        action: std.echo output=report
        publish:
          deep: <% tasks(execution().id, true).name %>
          flat: <% tasks(execution().id, true, flat => true).name %>
          mine: <% tasks(execution().id).name %>
          project: <% tasks(state => SUCCESS).select([$.name, $.workflow_execution_id]) %>
  peek:
    input: [other]
    tasks:
      look:
        action: std.echo output=look
        publish:
          theirs: <% tasks($.other).select([$.name, $.state, $.type]) %>
          nested: <% tasks($.other, true, SUCCESS).name %>
          missing: <% tasks(nowhere) %>
          succeeded: <% executions(state => SUCCESS).id %>
          subs: '{{ executions(root_execution_id=_.other) | map(attribute="name") | list }}'
          itself: <% executions(id => execution().id).select($.state) %>
          later: <% executions(fromTime => '2999-01-01 00:00:00') %>
  big:
    tasks:
      fetch:
        action: std.echo
        input:
          output:
            items: <% range(0, 40).select('item-' + str($)) %>
        on-success: [middle]
      middle:
        action: std.echo output=middle
        on-success: [use, each]
      use:
        action: std.echo
        input:
          output: <% task(fetch).result.items.len() %>
        publish:
          count: <% task().result %>
          last: <% task(fetch).result.items.last() %>
      each:
        with-items: x in <% task(fetch).result.items.take(3) %>
        concurrency: 1
        action: std.echo output=<% $.x %>
    output:
      count: <% $.count %>
      last: <% $.last %>
      whole: <% task(fetch).result %>
      each: <% task(each).result %>
  many:
    input: [n]
    tasks:
      each:
        with-items: x in <% range($.n) %>
        action: std.echo output=<% $.x * 2 %>
        on-success: [middle]
      middle:
        action: std.noop
        on-success: [after]
      after:
        action: std.noop
        publish:
          count: <% task(each).result.len() %>
    output:
      count: <% $.count %>
      last: <% task(each).result.last() %>
  wide:
    tasks:
      each:
        with-items: i in <% range(0, 3) %>
        action: std.echo
        input:
          output:
            item: <% $.i %>
            rows: <% range(0, 60) %>
        on-success: [later]
      later:
        action: std.noop
        publish:
          sizes: <% task(each).result.select($.rows.len()) %>
    output:
      sizes: <% $.sizes %>
      last: <% task(each).result.last().item %>
  look_back:
    input: [other]
    tasks:
      look:
        action: std.noop
        publish:
          fetched: <% tasks($.other).where($.name = fetch).single().result.items.len() %>
"""


class Defs:
    def __init__(self) -> None:
        self.workflows = load_definitions(TEXT).workflows
        self.rules = RuleSet({})

    def workflow(self, project: str, name: str) -> Workflow | None:
        return self.workflows.get(name)

    def action(self, project: str, name: str) -> AdHocAction | None:
        return None


class Sent:
    def __init__(self) -> None:
        self.messages: list[Outbound] = []

    async def publish(self, messages: Sequence[Outbound]) -> None:
        self.messages += messages


def processor(
    db: AsyncDatabase[dict[str, Any]], large_result_bytes: int = LARGE_RESULT_BYTES
) -> tuple[EngineProcessor, Sent]:
    sent = Sent()
    engine = EngineProcessor(
        EngineStore(db),
        Defs(),
        sent,
        Topics("p."),
        retention=timedelta(days=1),
        run_delays=False,
        large_result_bytes=large_result_bytes,
    )
    return engine, sent


def requests_in(out: list[Outbound]) -> list[ActionRequest]:
    return [ActionRequest.model_validate_json(m.value) for m in out if m.topic == "p.actions"]


async def settle(engine: EngineProcessor, out: list[Outbound], large_over: int = 0) -> None:
    """Play the executor and the commands topic until nothing is left to do, one batch
    per round; with ``large_over``, results of more bytes are stored apart."""
    for _ in range(50):
        follow = [decode_command(m.value) for m in out if m.topic == "p.commands"]
        results = [result(r) for r in requests_in(out)]
        large = {
            r.action_execution_id
            for r in results
            if large_over and len(json.dumps(r.output)) > large_over
        }
        follow += results
        if not follow:
            return
        out = await engine.apply(follow, large)
    raise AssertionError("the executions did not settle")


async def stored(db: AsyncDatabase[dict[str, Any]], execution_id: str) -> dict[str, Any]:
    doc = await db["executions"].find_one({"_id": execution_id})
    assert doc is not None
    return doc


def start(name: str, **input: Any) -> StartExecution:
    return StartExecution(
        command_id="s", execution_id=f"ex-{name}", workflow_name=name, input=input
    )


def result(request: ActionRequest) -> ActionResult:
    return ActionResult(
        command_id=f"r:{request.action_execution_id}",
        execution_id=request.execution_id,
        task_id=request.task_id,
        action_execution_id=request.action_execution_id,
        item_index=request.item_index,
        state="SUCCESS",
        output=request.input.get("output"),
    )


async def test_item_results_are_stored_apart_and_assembled_in_order(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    engine, _ = processor(db)
    out = await engine.apply([start("items", n=5)])
    requests = [ActionRequest.model_validate_json(m.value) for m in out if m.topic == "p.actions"]
    assert len(requests) == 5
    for request in reversed(requests):  # one batch per result, out of order
        await engine.apply([result(request)])
    assert await db["item_results"].count_documents({}) == 5
    doc = await db["executions"].find_one({"_id": "ex-items"})
    assert doc is not None
    assert doc["state"] == "SUCCESS"
    assert doc["output"] == {"all": [0, 1, 2, 3, 4]}


async def test_a_repeated_result_republishes_the_outbox_and_changes_nothing(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    engine, _ = processor(db)
    out = await engine.apply([start("items", n=2)])
    first = ActionRequest.model_validate_json(next(m for m in out if m.topic == "p.actions").value)
    await engine.apply([result(first)])
    before = await db["executions"].find_one({"_id": "ex-items"})
    again = await engine.apply([result(first)])
    after = await db["executions"].find_one({"_id": "ex-items"})
    assert before is not None and after is not None
    assert after["version"] == before["version"]
    assert [m.value.decode() for m in again] == [m["value"] for m in before["outbox"]]


async def test_a_wait_before_is_persisted_with_its_due_time(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    engine, _ = processor(db)
    await engine.apply([start("delayed")])
    (delay,) = [d async for d in db["delays"].find({})]
    assert delay["kind"] == "wait_before" and delay["execution_id"] == "ex-delayed"
    await engine.apply([start("delayed")])  # a redelivery stores nothing new
    assert await db["delays"].count_documents({}) == 1


async def test_tasks_recurses_into_sub_workflows_and_flat_drops_their_tasks(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    engine, _ = processor(db)
    await settle(engine, await engine.apply([start("parent")]))
    doc = await stored(db, "ex-parent")
    assert doc["state"] == "SUCCESS", doc["state_info"]
    published = doc["output"]
    # Mistral: the execution's own tasks first, then those of each sub-workflow.
    assert published["deep"] == ["first", "child", "report", "inner"]
    assert published["flat"] == ["first", "report", "inner"]
    assert published["mine"] == ["first", "child", "report"]
    child = next(t for t in doc["tasks"].values() if t["name"] == "child")
    assert ["inner", child["action_execution_id"]] in published["project"]
    assert ["first", "ex-parent"] in published["project"]


async def test_tasks_and_executions_read_other_stored_executions(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    engine, _ = processor(db)
    await settle(engine, await engine.apply([start("parent")]))
    await settle(engine, await engine.apply([start("peek", other="ex-parent")]))
    doc = await stored(db, "ex-peek")
    assert doc["state"] == "SUCCESS", doc["state_info"]
    out = doc["output"]
    assert out["theirs"] == [
        ["first", "SUCCESS", "ACTION"],
        ["child", "SUCCESS", "WORKFLOW"],
        ["report", "SUCCESS", "ACTION"],
    ]
    assert out["nested"] == ["first", "child", "report", "inner"]
    assert out["missing"] == []
    child_id = (await stored(db, "ex-parent"))["tasks"]
    assert set(out["succeeded"]) >= {
        "ex-parent",
        *(t.get("action_execution_id") for t in child_id.values() if t["name"] == "child"),
    }
    assert "ex-peek" not in out["succeeded"]  # itself: still running when it asked
    assert out["subs"] == ["leaf"]
    assert out["itself"] == ["RUNNING"]
    assert out["later"] == []


async def test_a_bad_time_given_to_executions_fails_the_task(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    text = (
        TEXT
        + """  badtime:
    tasks:
      t:
        action: std.noop
        publish: {x: <% executions(toTime => 'yesterday') %>}
"""
    )
    engine, _ = processor(db)
    engine._definitions.workflows = load_definitions(text).workflows  # type: ignore[attr-defined]
    await settle(engine, await engine.apply([start("badtime")]))
    doc = await stored(db, "ex-badtime")
    assert doc["state"] == "ERROR"
    assert "invalid time 'yesterday'" in doc["state_info"]


async def test_a_result_stored_apart_reads_as_its_value_in_later_batches(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    engine, _ = processor(db)
    await settle(engine, await engine.apply([start("big")]), large_over=200)
    doc = await stored(db, "ex-big")
    assert doc["state"] == "SUCCESS", doc["state_info"]
    items = [f"item-{i}" for i in range(40)]
    assert doc["output"] == {
        "count": 40,
        "last": "item-39",
        "whole": {"items": items},
        "each": items[:3],
    }
    fetch = next(t for t in doc["tasks"].values() if t["name"] == "fetch")
    aeid = fetch["action_execution_id"]
    # The execution keeps only the reference; the value is stored once, apart.
    assert fetch["result"] == {RESULT_REF: aeid}
    kept = await db["results"].find_one({"_id": aeid})
    assert kept is not None and kept["value"] == {"items": items}


async def test_tasks_of_another_execution_read_its_results_stored_apart(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    engine, _ = processor(db)
    await settle(engine, await engine.apply([start("big")]), large_over=200)
    await settle(engine, await engine.apply([start("look_back", other="ex-big")]))
    doc = await stored(db, "ex-look_back")
    assert doc["state"] == "SUCCESS", doc["state_info"]
    assert doc["output"] == {"fetched": 40}


async def test_more_items_than_the_document_holds_read_as_their_results_later(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    engine, _ = processor(db)
    n = INLINE_RESULTS_MAX + 1
    await settle(engine, await engine.apply([start("many", n=n)]))
    doc = await stored(db, "ex-many")
    assert doc["state"] == "SUCCESS", doc["state_info"]
    assert doc["output"] == {"count": n, "last": 2 * (n - 1)}
    each = next(t for t in doc["tasks"].values() if t["name"] == "each")
    assert each["result"] is None and each["result_ref"] == "items"


async def test_an_expression_may_read_more_results_stored_apart_than_lookup_rounds(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    fan = [f"t{i}" for i in range(12)]
    text = TEXT + "  fan:\n    tasks:\n"
    for name in fan:
        text += (
            f"      {name}:\n"
            f"        action: std.echo output=<% range(0, 60).select('{name}-' + str($)) %>\n"
            "        on-success: [done]\n"
        )
    text += (
        "      done: {join: all, action: std.noop}\n"
        "    output:\n"
        f"      lasts: <% {fan}.select(task($).result.last()) %>\n"
    )
    engine, _ = processor(db)
    engine._definitions.workflows = load_definitions(text).workflows  # type: ignore[attr-defined]
    await settle(engine, await engine.apply([start("fan")]), large_over=200)
    doc = await stored(db, "ex-fan")
    assert doc["state"] == "SUCCESS", doc["state_info"]
    assert doc["output"] == {"lasts": [f"{name}-59" for name in fan]}
    assert await db["results"].count_documents({}) == len(fan)


async def test_large_item_results_stay_apart_and_read_as_values_later(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    engine, _ = processor(db, large_result_bytes=500)
    await settle(engine, await engine.apply([start("wide")]))
    doc = await stored(db, "ex-wide")
    assert doc["state"] == "SUCCESS", doc["state_info"]
    assert doc["output"] == {"sizes": [60, 60, 60], "last": 2}
    # The items are stored once, under their own keys: the execution keeps none.
    each = next(t for t in doc["tasks"].values() if t["name"] == "each")
    assert each["result"] is None and each["result_ref"] == "items"
