"""Reverse workflows: run what the target task (``params.task_name``) requires, then it.

Only the target and the tasks it transitively ``requires`` run; a task starts once
every task it requires succeeded, with their published variables as its context.
"""

from __future__ import annotations

from engine.workflow.base import Doc, RunBase
from schemas import TaskState
from schemas.definitions import Task


def required_closure(tasks: dict[str, Task], target: str) -> list[str]:
    """``target`` and every task it requires, directly or not, in a stable order."""
    seen: list[str] = []
    stack = [target]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.append(name)
        stack.extend(reversed(tasks[name].requires or []))
    return seen


class ReverseMixin(RunBase):
    """Starting reverse-workflow tasks as their requirements complete."""

    def _start_reverse(self) -> str | None:
        """Start the tasks with nothing to wait for; the error when there is no target."""
        target = self.doc["params"].get("task_name")
        if not isinstance(target, str) or target not in self.tasks:
            return (
                f"Invalid task name [name={target}]: a reverse workflow needs "
                f"params.task_name naming one of {sorted(self.tasks)}"
            )
        self.doc["reverse"] = required_closure(self.tasks, target)
        self._after_reverse_success()
        return None

    def _after_reverse_success(self) -> None:
        done: dict[str, Doc] = {}
        started = set()
        for task in self.doc["tasks"].values():
            started.add(task["name"])
            if task["state"] == TaskState.SUCCESS:
                done[task["name"]] = task
        for name in reversed(self.doc["reverse"]):
            requires = self.tasks[name].requires or []
            if name in started or any(r not in done for r in requires):
                continue
            context: Doc = {}
            for required in requires:
                context.update(done[required]["in_context"])
                context.update(done[required]["published"])
            trigger = [{"task_id": done[r]["id"], "event": "on-success"} for r in requires]
            self._run_task(self.tasks[name], context, trigger)
            started.add(name)
