"""The ids a task's attempts used, derived from its document as the engine derives them.

An attempt of a plain task, or of one with-items item, has one id: its action run's
or, for a sub-workflow task, its child execution's. Readers find them by these ids
instead of searching.
"""

from __future__ import annotations

from typing import Any

from engine.workflow.tasks import action_execution_id

Doc = dict[str, Any]


def _item_attempt(items: Doc, index: int) -> int:
    return int(items["attempts"].get(str(index), items["base"]))


def current_attempt_ids(task: Doc) -> set[str]:
    """The ids of the attempts whose results the task (or each of its items) holds now."""
    items = task.get("items")
    if items is None:
        return {action_execution_id(task, None, int(task.get("attempt", 0)))}
    return {action_execution_id(task, i, _item_attempt(items, i)) for i in range(items["count"])}


def attempt_ids(task: Doc) -> list[str]:
    """The ids of every attempt of the task, per item, in order."""
    items = task.get("items")
    if items is None:
        return [action_execution_id(task, None, a) for a in range(int(task.get("attempt", 0)) + 1)]
    return [
        action_execution_id(task, i, a)
        for i in range(items["count"])
        for a in range(_item_attempt(items, i) + 1)
    ]
