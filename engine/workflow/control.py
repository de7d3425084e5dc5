"""Operator control: pause, resume, cancel, fail, succeed, env updates and task rerun.

Allowed transitions follow Mistral (``mistral/workflow/states.py``): RUNNING ⇄ PAUSED;
RUNNING or PAUSED → CANCELLED or ERROR; only RUNNING → SUCCESS; ERROR or CANCELLED →
RUNNING only by a task rerun. Mistral's own ``fail`` silently ignores a PAUSED execution
although its transition table allows PAUSED → ERROR; here the table wins, so an
operator can fail a paused execution. An env update (Mistral's
``update_workflow_execution_env``) only merges variables into ``params.env`` and
changes no state; it applies only while nothing runs: IDLE, PAUSED or ERROR.

While PAUSED, results are still applied but nothing new starts: what would have
started is queued in ``on_resume`` and run, in order, on resume. Pause, resume and
cancel cascade to running sub-workflows.
"""

from __future__ import annotations

from typing import Any, Literal

from engine.workflow.base import ACTIVE, Doc, RunBase
from schemas import ControlExecution, RerunTask, TaskState
from schemas.definitions import Transition
from schemas.ids import derive_id
from schemas.states import ExecutionState

CascadeAction = Literal["pause", "resume", "cancel"]

_ALLOWED = {
    "pause": {ExecutionState.RUNNING},
    "resume": {ExecutionState.PAUSED},
    "cancel": {ExecutionState.IDLE, ExecutionState.RUNNING, ExecutionState.PAUSED},
    "fail": {ExecutionState.IDLE, ExecutionState.RUNNING, ExecutionState.PAUSED},
    "succeed": {ExecutionState.RUNNING},
    "update_env": {ExecutionState.IDLE, ExecutionState.PAUSED, ExecutionState.ERROR},
}


def allows(action: str, state: ExecutionState) -> bool:
    """Whether the control command ``action`` may change an execution in ``state``."""
    return state in _ALLOWED.get(action, set())


class ControlMixin(RunBase):
    """Commands from operators (or from a parent execution)."""

    def control(self, command: ControlExecution) -> bool:
        """Apply a control command; False when the execution's state does not allow it
        (or, for an env update, when the env holds those values already: a repeat)."""
        if not allows(command.action, self.state):
            return False
        if command.action == "update_env":
            return self._merge_env(command.env)
        if command.action == "pause":
            self._set_state(ExecutionState.PAUSED, command.message)
            self._cascade("pause", command.message)
        elif command.action == "resume":
            self._merge_env(command.env)
            self._resume()
        elif command.action == "cancel":
            self._cancel(command.message)
        elif command.action == "fail":
            self._finish(ExecutionState.ERROR, command.message)
        else:
            self._finish(ExecutionState.SUCCESS, command.message)
        return True

    def _merge_env(self, env: dict[str, Any] | None) -> bool:
        """Merge ``env`` into the execution's env; whether that changed it."""
        params = self.doc["params"]
        current = params.get("env") or {}
        merged = {**current, **(env or {})}
        if merged == current:
            return False
        params["env"] = merged
        self.effects.dirty.add("params")
        return True

    def _resume(self) -> None:
        self._set_state(ExecutionState.RUNNING, None)
        self._cascade("resume", None)
        pending = self.doc.pop("on_resume", [])
        self.effects.dirty.add("on_resume")
        self.doc["on_resume"] = []
        for op in pending:
            if self.state is not ExecutionState.RUNNING:
                self.doc["on_resume"].append(op)
                continue
            task = self.doc["tasks"][op["task"]]
            if op["op"] == "follow":
                for dump in task.pop("chosen", []):
                    self._follow(task, Transition.model_validate(dump))
            elif op["op"] == "start":
                self._start_now(task)
            else:
                self._continue(task)
        for task in list(self.doc["tasks"].values()):
            if "items" in task and task["state"] == TaskState.RUNNING:
                self._schedule_items(task)
        self._check_completion()

    def _cancel(self, message: str | None) -> None:
        self._cascade("cancel", message)
        for task in self.doc["tasks"].values():
            if TaskState(task["state"]) in ACTIVE or task["state"] == TaskState.WAITING:
                items = task.get("items")
                if items is not None:
                    items["status"] = items["status"].replace("R", "C").replace(".", "C")
                    items["running"] = 0
                task.pop("delay_id", None)
                task.pop("timeout_id", None)
                self._set_task_state(task, TaskState.CANCELLED, message)
        self.doc["on_resume"] = []
        self.effects.dirty.add("on_resume")
        self._finish(ExecutionState.CANCELLED, message)

    def _cascade(self, action: CascadeAction, message: str | None, task: Doc | None = None) -> None:
        """Send ``action`` to every sub-workflow still running under this execution (or
        under ``task`` only)."""
        for child in self._running_children(task):
            self.effects.commands.append(
                ControlExecution(
                    command_id=derive_id(self.doc["_id"], child, action, len(self.doc["history"])),
                    execution_id=child,
                    action=action,
                    message=message,
                )
            )

    def _running_children(self, only: Doc | None = None) -> list[str]:
        from engine.workflow.tasks import action_execution_id

        children = []
        for task in [only] if only is not None else self.doc["tasks"].values():
            if task.get("type") != "WORKFLOW" or TaskState(task["state"]).is_final:
                continue
            items = task.get("items")
            if items is None:
                if task.get("action_execution_id"):
                    children.append(task["action_execution_id"])
                continue
            for index, char in enumerate(items["status"]):
                if char in "RC":
                    children.append(action_execution_id(task, index, self._attempt(task, index)))
        return children

    def rerun(self, command: RerunTask) -> bool:
        """Mistral's task rerun: the task runs again and the execution is RUNNING again."""
        task = self.doc["tasks"].get(command.task_id)
        if task is None or task["state"] not in (TaskState.ERROR, TaskState.CANCELLED):
            return False
        if self.state is ExecutionState.PAUSED or self.state is ExecutionState.SUCCESS:
            return False
        self._merge_env(command.env)
        self.doc["reruns"] = self.doc.get("reruns", 0) + 1
        self.effects.dirty.add("reruns")
        self._prepare_attempt(task, reset=command.reset)
        stale = ("error_handled", "chosen", "delay_id", "timeout_id", "timeout_at", "pending_end")
        for key in stale:
            task.pop(key, None)
        task["errors"] = []
        task["next"] = []
        task["published"] = {}
        task["runtime_context"].pop("retry_task_policy", None)
        task["runtime_context"].pop("wait_after_done", None)
        self.doc["output"] = None
        self.effects.dirty.add("output")
        self._set_state(ExecutionState.RUNNING, None)
        self._set_task_state(task, TaskState.RUNNING, None)
        if "items" not in task or command.reset:
            self._launch(task)
        else:
            self._schedule_items(task)
        self._check_completion()
        return True
