"""Large action outputs travel by reference and still reach the workflow intact."""

from __future__ import annotations

from typing import Any

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
"""


async def test_a_large_output_is_stored_apart_and_used_by_the_workflow(
    settings: Settings, db: Any
) -> None:
    configured = settings.model_copy(update={"large_result_bytes": 1024})
    async with running(configured, {"api", "engine", "executor"}) as api:
        await api.apply(WORKBOOK)
        status, body = await api.request(
            "POST", "/v1/executions", json={"workflow_name": "big_output", "input": {"size": 5000}}
        )
        assert status == 201, body
        execution = await api.finished(body["id"])
    assert execution["state"] == "SUCCESS", execution.get("state_info")
    assert execution["output"] == {"count": 5000, "last": "item-4999"}
    (stored,) = [doc async for doc in db["results"].find({})]
    assert len(stored["value"]) == 5000
    run = await db["action_runs"].find_one({"_id": stored["_id"]})
    assert run["output"] is None and run["output_ref"] == stored["_id"]
