"""Large action outputs travel by reference and still reach the workflow intact."""

from __future__ import annotations

import json
from typing import Any

from engine.workflow.lookups import RESULT_REF
from squall.settings import Settings
from tests.harness import running

WORKBOOK = """
version: '2.0'
name: large_results
workflows:
  big_output:
    input: [size]
    tasks:
      make:
        action: std.echo
        input:
          output: <% range($.size).select('item-' + str($)) %>
        publish:
          count: <% task().result.len() %>
          last: <% task().result.last() %>
    output:
      count: <% $.count %>
      last: <% $.last %>
  read_later:
    input: [size]
    tasks:
      make:
        action: std.echo output=<% range($.size).select('item-' + str($)) %>
        on-success: [between]
      between:
        action: std.noop
        on-success: [use]
      use:
        action: std.echo
        input:
          output: <% task(make).result.len() %>
        publish:
          last: <% task(make).result.last() %>
    output:
      count: <% task(use).result %>
      last: <% $.last %>
      first: <% task(make).result.take(2) %>
  items_later:
    input: [size]
    tasks:
      each:
        with-items: part in <% range(0, 3) %>
        action: std.echo
        input:
          output:
            part: <% $.part %>
            rows: <% range(0, $.size) %>
        on-success: [between]
      between:
        action: std.noop
        on-success: [count]
      count:
        action: std.noop
        publish:
          rows: <% task(each).result.select($.rows.len()).sum() %>
    output:
      rows: <% $.rows %>
      parts: <% task(each).result.part %>
"""


async def run_with_small_threshold(settings: Settings, workflow: str, size: int) -> dict[str, Any]:
    """Run ``workflow`` to its end with results over 1 KiB stored apart; its API view,
    with each task's result as Mistral's ``/v2/tasks/{id}`` shows it under ``v2``."""
    configured = settings.model_copy(update={"large_result_bytes": 1024})
    async with running(configured, {"api", "engine", "executor"}) as api:
        await api.apply(WORKBOOK)
        status, body = await api.request(
            "POST", "/v1/executions", json={"workflow_name": workflow, "input": {"size": size}}
        )
        assert status == 201, body
        execution: dict[str, Any] = await api.finished(body["id"])
        execution["v2"] = {}
        for task in execution["tasks"]:
            _, shown = await api.request("GET", f"/v2/tasks/{task['id']}")
            execution["v2"][task["name"]] = json.loads(shown["result"])
    assert execution["state"] == "SUCCESS", execution.get("state_info")
    return execution


async def test_a_large_output_is_stored_apart_and_used_by_the_workflow(
    settings: Settings, db: Any
) -> None:
    execution = await run_with_small_threshold(settings, "big_output", 5000)
    assert execution["output"] == {"count": 5000, "last": "item-4999"}
    (stored,) = [doc async for doc in db["results"].find({})]
    assert len(stored["value"]) == 5000
    run = await db["action_runs"].find_one({"_id": stored["_id"]})
    assert run["output"] is None and run["output_ref"] == stored["_id"]


async def test_a_result_stored_apart_reads_as_its_value_steps_later(
    settings: Settings, db: Any
) -> None:
    execution = await run_with_small_threshold(settings, "read_later", 3000)
    assert execution["output"] == {
        "count": 3000,
        "last": "item-2999",
        "first": ["item-0", "item-1"],
    }
    (stored,) = [doc async for doc in db["results"].find({})]
    # The execution keeps only the reference; the API shows the value.
    doc = await db["executions"].find_one({"_id": execution["id"]})
    (make,) = [t for t in doc["tasks"].values() if t["name"] == "make"]
    assert make["result"] == {RESULT_REF: stored["_id"]}
    shown = next(t for t in execution["tasks"] if t["name"] == "make")
    assert shown["result"] == stored["value"] == execution["v2"]["make"]


async def test_large_item_outputs_read_as_their_values_steps_later(
    settings: Settings, db: Any
) -> None:
    # Each item travels by reference; together they pass the engine's own threshold.
    execution = await run_with_small_threshold(settings, "items_later", 20_000)
    assert execution["output"] == {"rows": 60_000, "parts": [0, 1, 2]}
    doc = await db["executions"].find_one({"_id": execution["id"]})
    (each,) = [t for t in doc["tasks"].values() if t["name"] == "each"]
    assert each["result"] is None
    shown = next(t for t in execution["tasks"] if t["name"] == "each")
    assert [item["part"] for item in shown["result"]] == [0, 1, 2]
    assert execution["v2"]["each"] == shown["result"]
