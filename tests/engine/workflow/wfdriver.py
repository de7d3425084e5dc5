"""Drive ``WorkflowRun`` as the engine would, with no servers: one run per command.

The driver keeps the execution documents, the with-items results stored apart and the
delays, plays the executor's part through ``succeed``/``fail``, and the poller's
through ``fire``. Sub-workflows started by a run are started here too.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.workflow import Delay, WorkflowRun
from schemas import ActionRequest, ActionResult, ControlExecution, RerunTask, StartExecution
from schemas.commands import ChildFinished, Command, DelayFired
from schemas.definitions import AdHocAction, Workflow, load_definitions

Doc = dict[str, Any]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Driver:
    """Executions of the workflows in one definitions text."""

    def __init__(self, workflows: str, actions: str = "") -> None:
        text = "version: '2.0'\nname: tests\nworkflows:\n" + textwrap.indent(workflows, "  ")
        if actions:
            text += "actions:\n" + textwrap.indent(actions, "  ")
        definitions = load_definitions(text)
        self.workflows: dict[str, Workflow] = dict(definitions.workflows)
        self.actions: dict[str, AdHocAction] = dict(definitions.actions)
        self.docs: dict[str, Doc] = {}
        self.items: dict[tuple[str, int], tuple[str, Any]] = {}
        self.requests: dict[str, ActionRequest] = {}
        self.delays: dict[str, Delay] = {}
        self.sent: list[ActionRequest] = []
        self.now = T0
        self.root = ""

    # -- engine ----------------------------------------------------------------------

    def start(self, name: str, input: Doc | None = None, **params: Any) -> Doc:
        """Start the workflow ``name``; returns the root execution document."""
        self.root = f"ex-{name}"
        self._apply(
            StartExecution(
                command_id="c",
                execution_id=self.root,
                workflow_name=name,
                input=input or {},
                params=params,
            )
        )
        return self.doc

    @property
    def doc(self) -> Doc:
        """The root execution."""
        return self.docs[self.root]

    def _apply(self, command: Command) -> bool:
        spec_name = (
            command.workflow_name
            if isinstance(command, StartExecution)
            else self.docs[command.execution_id]["workflow_name"]
        )
        spec = self.workflows[spec_name]
        if isinstance(command, StartExecution):
            if command.execution_id in self.docs:
                return False
            run = WorkflowRun.new(command, spec, "hash", self.now, self.actions)
            run.start()
            changed = True
        else:
            run = WorkflowRun(self.docs[command.execution_id], spec, self.now)
            changed = run.apply(command)
        for _ in range(3):
            pending = list(run.effects.collect)
            run.effects.collect.clear()
            for task_id in pending:
                count = run.doc["tasks"][task_id]["items"]["count"]
                stored = {
                    i: self.items[(task_id, i)] for i in range(count) if (task_id, i) in self.items
                }
                run.collect(task_id, stored)
        self.docs[run.doc["_id"]] = run.doc
        for task_id, index, state, value in run.effects.item_results:
            self.items[(task_id, index)] = (state, value)
        for request in run.effects.requests:
            self.requests[request.action_execution_id] = request
            self.sent.append(request)
        for delay in run.effects.delays:
            self.delays[delay.id] = delay
        for follow in run.effects.commands:
            self._apply(follow)
        return changed

    # -- executor and poller -----------------------------------------------------------

    def pending(self, task: str | None = None) -> list[ActionRequest]:
        """Outstanding action requests (of ``task``), in the order they were sent."""
        return [r for r in self.requests.values() if task is None or r.task_name == task]

    def finish(
        self, request: ActionRequest, state: str, output: Any = None, error: str | None = None
    ) -> bool:
        """Report the outcome of ``request``."""
        self.requests.pop(request.action_execution_id, None)
        return self._apply(
            ActionResult(
                command_id=f"result:{request.action_execution_id}",
                execution_id=request.execution_id,
                task_id=request.task_id,
                action_execution_id=request.action_execution_id,
                item_index=request.item_index,
                attempt=request.attempt,
                state=state,
                output=output,
                error=error,
            )
        )

    def succeed(self, task: str, output: Any = None) -> bool:
        """The oldest outstanding request of ``task`` succeeds with ``output``."""
        return self.finish(self.pending(task)[0], "SUCCESS", output)

    def fail(self, task: str, error: str = "boom") -> bool:
        """The oldest outstanding request of ``task`` fails."""
        return self.finish(self.pending(task)[0], "ERROR", None, error)

    def run_all(self, outcome: Any = None, limit: int = 100_000) -> None:
        """Settle every request (echo ``input.output`` unless ``outcome`` says)."""
        for _ in range(limit):
            if not self.requests:
                return
            request = next(iter(self.requests.values()))
            if outcome is not None:
                state, output = outcome(request)
            else:
                state, output = "SUCCESS", request.input.get("output")
            self.finish(request, state, output, None if state == "SUCCESS" else str(output))
        raise AssertionError("the workflow did not settle")

    def fire(self, kind: str | None = None) -> bool:
        """Advance the clock to the earliest delay (of ``kind``) and fire it."""
        candidates = sorted(
            (d for d in self.delays.values() if kind is None or d.kind == kind), key=lambda d: d.due
        )
        delay = candidates[0]
        del self.delays[delay.id]
        self.now = max(self.now, delay.due)
        return self._apply(
            DelayFired(
                command_id=f"fired:{delay.id}",
                execution_id=delay.execution_id,
                task_id=delay.task_id,
                delay_id=delay.id,
                delay_kind=delay.kind,
            )
        )

    def control(self, action: str, execution_id: str | None = None, **extra: Any) -> bool:
        """Pause, resume, cancel, fail or succeed an execution (the root by default)."""
        return self._apply(
            ControlExecution(
                command_id=f"control:{action}",
                execution_id=execution_id or self.root,
                action=action,
                **extra,
            )
        )

    def rerun(self, task: str, reset: bool = True) -> bool:
        """Re-run the latest execution of ``task``."""
        return self._apply(
            RerunTask(
                command_id="rerun",
                execution_id=self.root,
                task_id=self.task(task)["id"],
                reset=reset,
            )
        )

    # -- reading -----------------------------------------------------------------------

    def task(self, name: str, execution_id: str | None = None) -> Doc:
        """The latest execution of task ``name``."""
        doc = self.docs[execution_id or self.root]
        found = [t for t in doc["tasks"].values() if t["name"] == name]
        assert found, f"no task {name!r}"
        task: Doc = found[-1]
        return task

    def states(self, execution_id: str | None = None) -> dict[str, str]:
        """Task name → state (latest execution of each)."""
        doc = self.docs[execution_id or self.root]
        return {t["name"]: t["state"] for t in doc["tasks"].values()}

    def children(self) -> list[Doc]:
        """Every execution but the root."""
        return [d for k, d in self.docs.items() if k != self.root]


def later(seconds: float) -> datetime:
    """``T0`` plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


__all__ = ["ChildFinished", "Driver", "later"]
