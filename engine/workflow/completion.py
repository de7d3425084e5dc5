"""When an execution ends, and with which output: Mistral's completion rules.

An execution completes once no task is active. Unreached ``join`` tasks fail ("Failed
by tasks: [...]"); a cancelled task cancels the execution; an unhandled error fails it
with Mistral's "Failure caused by error in tasks" message, which lists every failed
action attempt. A sub-workflow reports its end to the parent with ``ChildFinished``.
"""

from __future__ import annotations

from engine.expressions import ExpressionError, evaluate
from engine.workflow.base import ACTIVE, Doc, RunBase
from schemas import TaskState
from schemas.commands import ChildFinished
from schemas.ids import derive_id
from schemas.states import ExecutionState


class CompletionMixin(RunBase):
    """Detecting the end of an execution and producing its output."""

    def _check_completion(self) -> None:
        if self.state is not ExecutionState.RUNNING or self.doc.get("on_resume"):
            return
        tasks = list(self.doc["tasks"].values())
        if any(TaskState(t["state"]) in ACTIVE for t in tasks):
            return
        for task in tasks:
            if task["state"] == TaskState.WAITING:
                join = self.doc["joins"].get(task["name"])
                arrived = join["arrived"] if join else []
                blocked = [n for n in self._inbound(task["name"]) if n not in arrived]
                self._set_task_state(task, TaskState.ERROR, f"Failed by tasks: {blocked}")
        cancelled = [t["name"] for t in tasks if t["state"] == TaskState.CANCELLED]
        failed = [t for t in tasks if t["state"] == TaskState.ERROR and not t.get("error_handled")]
        if cancelled:
            self._finish(ExecutionState.CANCELLED, "Cancelled tasks: " + ", ".join(cancelled))
        elif failed:
            self._finish(ExecutionState.ERROR, failure_message(failed))
        else:
            self._finish(ExecutionState.SUCCESS, None)

    def _final_context(self) -> Doc:
        context: Doc = {}
        for task in self.doc["tasks"].values():
            if task["state"] == TaskState.SUCCESS and not task["next"]:
                context.update(task["in_context"])
                context.update(task["published"])
        return context

    def _finish(self, state: ExecutionState, info: str | None) -> None:
        if state is ExecutionState.CANCELLED:
            output: object = {"result": info}
        else:
            final = self._final_context()
            clause = (
                self.spec.output if state is ExecutionState.SUCCESS else self.spec.output_on_error
            )
            try:
                output = (
                    evaluate(clause, self._view({}, final), self._runtime()) if clause else None
                )
            except ExpressionError as exc:
                state, info, output = ExecutionState.ERROR, str(exc), None
            # Mistral's quirks: with no output clause the output is the final context, and
            # a failed execution's output also carries its state_info as "result".
            if state is ExecutionState.SUCCESS:
                output = output or final
            elif output is None:
                output = {**final, "result": info}
        self.doc["output"] = output if output is not None else {}
        self.effects.dirty.add("output")
        self._set_state(state, info)
        self.effects.finished = True
        self._notify_parent()

    def _notify_parent(self) -> None:
        parent = self.doc.get("parent_execution_id")
        if not parent:
            return
        state = self.doc["state"]
        error = None
        if state == ExecutionState.ERROR:
            error = self.doc["state_info"] or f"Failed subworkflow [execution_id={self.doc['_id']}]"
        elif state == ExecutionState.CANCELLED:
            error = (
                self.doc["state_info"] or f"Cancelled subworkflow [execution_id={self.doc['_id']}]"
            )
        self.effects.commands.append(
            ChildFinished(
                command_id=derive_id(self.doc["_id"], "finished", self.doc.get("reruns", 0)),
                execution_id=parent,
                task_id=self.doc["parent_task_id"],
                child_execution_id=self.doc["_id"],
                item_index=self.doc.get("item_index"),
                state=state,
                output=self.doc["output"] if state == ExecutionState.SUCCESS else None,
                error=error,
            )
        )


def failure_message(failed: list[Doc]) -> str:
    """Mistral's execution state_info for failed tasks, with every failed action."""
    lines = ["Failure caused by error in tasks: " + ", ".join(t["name"] for t in failed), ""]
    for task in failed:
        lines.append(f"  {task['name']} [task_ex_id={task['id']}] -> {task['state_info']}")
        lines += [
            f"    [action_ex_id={e['action_execution_id']}, idx={e['idx']}]: {e['error']}"
            for e in task.get("errors", [])
        ]
    return "\n".join(lines) + "\n"
