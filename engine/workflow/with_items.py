"""with-items: one action (or sub-workflow) per item, ``concurrency`` at a time.

Several ``var in <list>`` clauses are zipped (all lists must have the same length, as
Mistral requires). The task keeps one character per item — ``.`` not started, ``R``
running, ``S``/``E``/``C`` ended — plus the attempt of each item run more than once, so
the execution document stays small even for 10,000 items. Item results are kept apart
(``Effects.item_results``, stored by the engine under their own keys); when the last
item ends the task's result is assembled in item order.
"""

from __future__ import annotations

from typing import Any

from engine.expressions import ExpressionError, evaluate
from engine.workflow.base import Doc, RunBase
from engine.workflow.errors import WorkflowError
from engine.workflow.lookups import RESULTS_APART, assemble_items
from engine.workflow.tasks import action_execution_id
from schemas import TaskState
from schemas.ids import derive_id

#: Above this many items the assembled result is not copied into the execution document.
INLINE_RESULTS_MAX = 1000

_STATE_CODE = {TaskState.SUCCESS: "S", TaskState.ERROR: "E", TaskState.CANCELLED: "C"}


def item_result_id(task_id: str, index: int) -> str:
    """The key under which the result of item ``index`` of a task is stored."""
    return derive_id(task_id, "item", index)


class WithItemsMixin(RunBase):
    """Scheduling items and assembling their results."""

    def _item_values(self, task: Doc) -> dict[str, list[Any]]:
        spec = self.tasks[task["name"]]
        values: dict[str, list[Any]] = {}
        for clause in spec.with_items or []:
            value = evaluate(clause.source, self._view(task), self._runtime(task))
            if isinstance(value, dict | str) or not hasattr(value, "__iter__"):
                raise WorkflowError(
                    f"Wrong input format for: {clause.var}. Iterable type is expected "
                    f"for each value, got {type(value).__name__}."
                )
            values[clause.var] = list(value)
        if len({len(v) for v in values.values()}) > 1:
            lengths = {k: len(v) for k, v in values.items()}
            raise WorkflowError(
                f"Wrong input format for: {lengths}. All arrays must have the same length."
            )
        return values

    def _start_items(self, task: Doc) -> None:
        spec = self.tasks[task["name"]]
        try:
            values = self._item_values(task)
            concurrency = int(evaluate(spec.concurrency, self._view(task)) or 0)
        except (ExpressionError, TypeError, ValueError) as exc:
            self._after_action(task, TaskState.ERROR, str(exc))
            return
        count = len(next(iter(values.values()), []))
        # A rerun keeps the attempt base its reset raised, so its items get new ids.
        previous = task.get("items") or {}
        task["items"] = {
            "count": count,
            "concurrency": concurrency,
            "status": "." * count,
            "attempts": {},
            "base": previous.get("base", 0),
            "running": 0,
        }
        task["runtime_context"]["with_items"] = {"count": count, "concurrency": concurrency}
        if count == 0:
            task["result"] = []
            self._after_action(task, TaskState.SUCCESS, None)
            return
        self._schedule_items(task, values)

    def _schedule_items(self, task: Doc, values: dict[str, list[Any]] | None = None) -> None:
        """Start as many waiting items as the concurrency allows."""
        items = task["items"]
        free = items["count"] if not items["concurrency"] else items["concurrency"]
        free -= items["running"]
        status = items["status"]
        waiting: list[int] = []
        start = status.find(".")
        while start != -1 and len(waiting) < free:
            waiting.append(start)
            start = status.find(".", start + 1)
        if not waiting:
            return
        spec = self.tasks[task["name"]]
        try:
            values = values if values is not None else self._item_values(task)
        except (ExpressionError, WorkflowError) as exc:
            self._after_action(task, TaskState.ERROR, str(exc))
            return
        chars = list(status)
        failed = False
        for index in waiting:
            item = {var: vals[index] for var, vals in values.items()}
            try:
                action_input = evaluate(spec.input, self._view(task, item), self._runtime(task))
            except ExpressionError as exc:
                chars[index] = "E"
                self._store_item(task, index, TaskState.ERROR, None, str(exc))
                failed = True
                continue
            error = self._send_action(task, action_input, index)
            if error is not None:
                chars[index] = "E"
                self._store_item(task, index, TaskState.ERROR, None, error)
                failed = True
                continue
            chars[index] = "R"
            items["running"] += 1
        items["status"] = "".join(chars)
        self._touch_task(task)
        if failed and items["running"] == 0:
            self._items_progress(task)

    def _attempt(self, task: Doc, index: int | None) -> int:
        if index is None:
            return int(task["attempt"])
        items = task["items"]
        return int(items["attempts"].get(str(index), items["base"]))

    def _item_done(
        self, task: Doc, index: int, state: TaskState, result: Any, error: str | None
    ) -> None:
        """Item ``index`` ended: store its result, then start more items or finish."""
        items = task["items"]
        items["status"] = (
            items["status"][:index] + _STATE_CODE[state] + items["status"][index + 1 :]
        )
        items["running"] -= 1
        self._store_item(task, index, state, result, error)
        self._items_progress(task)

    def _store_item(
        self, task: Doc, index: int, state: TaskState, result: Any, error: str | None
    ) -> None:
        value = result if state is TaskState.SUCCESS else (error if result is None else result)
        if state is not TaskState.SUCCESS:
            aeid = action_execution_id(task, index, self._attempt(task, index))
            task["errors"].append({"action_execution_id": aeid, "idx": index, "error": error})
        self.item_results.setdefault(task["id"], {})[index] = (state.value, value)
        self.effects.item_results.append((task["id"], index, state.value, value))
        self._touch_task(task)

    def _items_progress(self, task: Doc) -> None:
        status = task["items"]["status"]
        if "." in status:
            self._schedule_items(task)
            return
        if "R" in status:
            return
        if len(self.item_results.get(task["id"], {})) < task["items"]["count"]:
            self.effects.collect.add(task["id"])
            return
        self._items_finished(task)

    def collect(self, task_id: str, stored: dict[int, tuple[str, Any]]) -> None:
        """Complete a with-items task with item results loaded from storage."""
        task = self.doc["tasks"].get(task_id)
        if task is None or task["state"] != TaskState.RUNNING:
            return
        known = self.item_results.setdefault(task_id, {})
        for index, value in stored.items():
            known.setdefault(index, value)
        self._items_finished(task)

    def _items_finished(self, task: Doc) -> None:
        items = task["items"]
        known = self.item_results[task["id"]]
        task["result"] = assemble_items(known, items["count"])
        if items["count"] > INLINE_RESULTS_MAX:
            task["result_ref"] = "items"
            self.doc[RESULTS_APART] = True
            self.effects.dirty.add(RESULTS_APART)
        if "C" in items["status"]:
            self._after_action(task, TaskState.CANCELLED, "One or more actions was cancelled.")
        elif "E" in items["status"]:
            self._after_action(task, TaskState.ERROR, "One or more actions had failed.")
        else:
            self._after_action(task, TaskState.SUCCESS, None)
        if task.get("result_ref") and TaskState(task["state"]).is_final:
            task["result"] = None

    def _prepare_attempt(self, task: Doc, *, reset: bool) -> None:
        """Ready the task for another run: every item again, or only those that failed."""
        items = task.get("items")
        task["attempt"] += 1
        task["result"] = None
        if items is None:
            return
        if reset:
            items["base"] = max([items["base"], *map(int, items["attempts"].values())]) + 1
            items["attempts"] = {}
            items["status"] = "." * items["count"]
            self.item_results.pop(task["id"], None)
        else:
            chars = list(items["status"])
            for index, char in enumerate(chars):
                if char in "EC":
                    items["attempts"][str(index)] = self._attempt(task, index) + 1
                    chars[index] = "."
            items["status"] = "".join(chars)
        items["running"] = 0
