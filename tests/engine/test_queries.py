"""The API's read of results stored apart from the execution document."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from engine.queries import resolve_results
from engine.store import EngineStore
from engine.workflow.lookups import RESULT_REF


async def test_results_stored_apart_are_shown_as_their_values_items_in_place(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    store = EngineStore(db)
    await store.write_results({"aeid": {"big": "aeid"}})
    await store.write_item_results([("b", 0, "SUCCESS", "x"), ("b", 2, "ERROR", "boom")])
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
    shown = await resolve_results(doc, store)
    results = {name: task["result"] for name, task in shown["tasks"].items()}
    # An item with no stored result keeps its place.
    assert results == {"a": {"big": "aeid"}, "b": ["x", None, "boom"], "c": "inline"}
