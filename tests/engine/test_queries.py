"""The API's read of results stored apart from the execution document."""

from __future__ import annotations

from typing import Any

from engine.queries import resolve_results
from engine.workflow.lookups import RESULT_REF


class Source:
    async def load_result(self, action_execution_id: str) -> Any:
        return {"big": action_execution_id}

    async def load_item_results(self, task_id: str, count: int) -> dict[int, tuple[str, Any]]:
        return {0: ("SUCCESS", "x"), 2: ("ERROR", "boom")}


async def test_results_stored_apart_are_shown_as_their_values_items_in_place() -> None:
    doc = {
        "tasks": {
            "a": {"id": "a", "state": "SUCCESS", "result": {RESULT_REF: "aeid"}},
            "b": {
                "id": "b",
                "state": "ERROR",
                "result": None,
                "result_ref": "items",
                "items": {"count": 3},
            },
            "c": {"id": "c", "state": "SUCCESS", "result": "inline"},
        }
    }
    shown = await resolve_results(doc, Source())
    results = {name: task["result"] for name, task in shown["tasks"].items()}
    # An item with no stored result keeps its place.
    assert results == {"a": {"big": "aeid"}, "b": ["x", None, "boom"], "c": "inline"}
