"""The workflow state machine over one execution document.

A ``WorkflowRun`` wraps the stored document of one execution and applies commands to
it in memory; the caller persists the fields it marks dirty and publishes the effects.
Data flow follows Mistral: a task sees, in order of priority, itself
(``__task_execution``), its inbound context (what upstream tasks published), the
environment (``__env``), the workflow context (vars, globals, ``__execution``) and the
workflow input.

Each concept lives in its own module (tasks, policies, with-items, control,
completion, reverse workflows); this one assembles them and routes commands.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.expressions import ExpressionError, evaluate
from engine.workflow.base import Doc, Effects
from engine.workflow.completion import CompletionMixin
from engine.workflow.control import ControlMixin
from engine.workflow.policies import PoliciesMixin
from engine.workflow.reverse import ReverseMixin
from engine.workflow.tasks import TaskMixin, action_execution_id
from engine.workflow.with_items import WithItemsMixin
from schemas import ActionResult, ControlExecution, RerunTask, StartExecution, TaskState
from schemas.base import as_utc
from schemas.commands import ChildFinished, Command, DelayFired
from schemas.definitions import AdHocAction, Task, Workflow
from schemas.states import ExecutionState

__all__ = ["Effects", "WorkflowRun"]

_OUTCOME = {"SUCCESS": TaskState.SUCCESS, "ERROR": TaskState.ERROR}


class WorkflowRun(
    ControlMixin,
    CompletionMixin,
    ReverseMixin,
    WithItemsMixin,
    PoliciesMixin,
    TaskMixin,
):
    """One execution's state machine (direct and reverse workflows)."""

    @classmethod
    def new(
        cls,
        cmd: StartExecution,
        spec: Workflow,
        spec_hash: str,
        now: datetime,
        actions: dict[str, AdHocAction] | None = None,
    ) -> WorkflowRun:
        """A fresh IDLE execution for ``cmd``; call ``start`` next."""
        doc: Doc = {
            "_id": cmd.execution_id,
            "project": cmd.project,
            "workflow_name": cmd.workflow_name,
            "spec_hash": spec_hash,
            "state": ExecutionState.IDLE.value,
            "state_info": None,
            "input": dict(cmd.input),
            "params": dict(cmd.params),
            "output": None,
            "description": cmd.description,
            "event_id": cmd.event_id,
            "rule": cmd.rule,
            "parent_execution_id": cmd.parent_execution_id,
            "parent_task_id": cmd.parent_task_id,
            "item_index": cmd.item_index,
            "root_execution_id": cmd.root_execution_id,
            "adhoc": {
                n: a.model_dump(mode="json", by_alias=True) for n, a in (actions or {}).items()
            },
            "context": {},
            "tasks": {},
            "task_counts": {},
            "joins": {},
            "history": [],
            "version": 0,
            "created_at": now,
            "updated_at": now,
            "outbox": [],
        }
        return cls(doc, spec, now, actions or {})

    @classmethod
    def rejected(cls, cmd: StartExecution, reason: str, now: datetime) -> WorkflowRun:
        """An execution that failed before it could start (e.g. no such workflow)."""
        spec = Workflow.model_construct(name=cmd.workflow_name, tasks={}, input=[])
        run = cls.new(cmd, spec, "", now)
        run.effects.started = True
        run._finish(ExecutionState.ERROR, reason)
        run.doc["output"] = {}
        return run

    # -- commands --------------------------------------------------------------------

    def start(self) -> None:
        """Validate input, evaluate vars, and run the start tasks."""
        missing = [
            p.name for p in self.spec.input if not p.has_default and p.name not in self.input
        ]
        declared = {p.name for p in self.spec.input}
        unexpected = sorted(k for k in self.input if k not in declared)
        if missing or unexpected:
            self._finish(
                ExecutionState.ERROR,
                f"Invalid input [name={self.spec.name}, missing={missing}, "
                f"unexpected={unexpected}]",
            )
            return
        for param in self.spec.input:
            if param.name not in self.input:
                self.input[param.name] = param.default
        self.doc["context"] = {"__execution": {"id": self.doc["_id"]}}
        try:
            variables = evaluate(self.spec.vars or {}, self._view({}), self._runtime())
            self.doc["context"].update(variables)
        except ExpressionError as exc:
            self._finish(ExecutionState.ERROR, str(exc))
            return
        self._set_state(ExecutionState.RUNNING, None)
        self.effects.started = True
        if self.spec.type == "reverse":
            error = self._start_reverse()
            if error is not None:
                self._finish(ExecutionState.ERROR, error)
                return
        else:
            for task in self._start_tasks():
                self._run_task(task, {}, [])
        self._check_completion()

    def apply(self, command: Command) -> bool:
        """Apply one command; False when it changes nothing (a repeat, or not applicable)."""
        if isinstance(command, ActionResult):
            return self.apply_result(command)
        if isinstance(command, ChildFinished):
            return self._outcome(
                command.task_id,
                command.child_execution_id,
                command.item_index,
                TaskState(command.state),
                command.output,
                command.error,
            )
        if isinstance(command, DelayFired):
            return self.apply_delay(command)
        if isinstance(command, ControlExecution):
            return self.control(command)
        if isinstance(command, RerunTask):
            return self.rerun(command)
        return False

    def apply_result(self, result: ActionResult) -> bool:
        """Complete the action the result belongs to; False when it is stale (a repeat)."""
        return self._outcome(
            result.task_id,
            result.action_execution_id,
            result.item_index,
            _OUTCOME[result.state],
            result.output,
            result.error,
        )

    def _outcome(
        self,
        task_id: str,
        aeid: str,
        index: int | None,
        state: TaskState,
        output: Any,
        error: str | None,
    ) -> bool:
        task = self.doc["tasks"].get(task_id)
        if task is None or task["state"] != TaskState.RUNNING:
            return False
        items = task.get("items")
        if items is not None:
            if (
                index is None
                or not 0 <= index < items["count"]
                or items["status"][index] != "R"
                or action_execution_id(task, index, self._attempt(task, index)) != aeid
            ):
                return False
        elif task.get("action_execution_id") != aeid:
            return False
        if state is TaskState.ERROR and self._past_timeout(task):
            # The executor stops an action at its task's timeout, so its error may
            # arrive before the engine's own timer: it is the same timeout.
            task.pop("timeout_id")
            self._time_out(task)
        elif items is not None and index is not None:
            self._item_done(task, index, state, output, error)
        else:
            self._action_done(task, state, output, error)
        self._check_completion()
        return True

    def _past_timeout(self, task: Doc) -> bool:
        timeout_at = task.get("timeout_at")
        return "timeout_id" in task and timeout_at is not None and self.now >= as_utc(timeout_at)

    # -- tasks -----------------------------------------------------------------------

    def _start_tasks(self) -> list[Task]:
        targets = {
            t.target
            for task in self.tasks.values()
            for clause in (task.on_success, task.on_error, task.on_complete)
            if clause is not None
            for t in clause.next
            if t.kind == "task"
        }
        return [t for name, t in self.tasks.items() if name not in targets]
