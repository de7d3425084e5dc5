"""Task policies with Mistral's semantics: pause-before, wait-before, timeout, wait-after,
fail-on and retry (count, delay, break-on, continue-on).

Every delay is persisted (``Effects.delays``) and comes back as a ``DelayFired``
command naming it; the task remembers the one delay it waits for, so a delay that
fires late, twice, or after the task moved on changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.expressions import ExpressionError, evaluate
from engine.workflow.base import Doc, RunBase
from schemas import TaskState
from schemas.commands import DelayFired
from schemas.states import ExecutionState


class PoliciesMixin(RunBase):
    """The policies around a task's start and completion."""

    def _policy(self, task: Doc, value: Any) -> Any:
        return evaluate(value, self._view(task), self._runtime(task))

    def _before_start(self, task: Doc) -> None:
        """Pause-before, then timeout and wait-before, then launch."""
        spec = self.tasks[task["name"]]
        try:
            pause = spec.pause_before and self._policy(task, spec.pause_before)
        except ExpressionError as exc:
            self._complete_task(task, TaskState.ERROR, str(exc))
            return
        if pause and not task["runtime_context"].get("pause_before_done"):
            task["runtime_context"]["pause_before_done"] = True
            self._set_task_state(task, TaskState.IDLE, "Set by 'pause-before' policy")
            self._resume_later({"op": "start", "task": task["id"]})
            if self.state is ExecutionState.RUNNING:
                self._set_state(ExecutionState.PAUSED, None)
                self._cascade("pause", None)
            return
        self._start_now(task)

    def _start_now(self, task: Doc) -> None:
        spec = self.tasks[task["name"]]
        try:
            timeout = int(self._policy(task, spec.timeout) or 0)
            wait = int(self._policy(task, spec.wait_before) or 0)
        except (ExpressionError, TypeError, ValueError) as exc:
            self._complete_task(task, TaskState.ERROR, str(exc))
            return
        if timeout > 0:
            task["timeout"] = timeout
            task["timeout_at"] = self.now + timedelta(seconds=timeout)
            task["timeout_id"] = self._delay(task, "timeout", timeout, task["attempt"])
        if wait > 0:
            task["delay_id"] = self._delay(task, "wait_before", wait, task["attempt"])
            info = f"Delayed by 'wait-before' policy [delay={wait}]"
            self._set_task_state(task, TaskState.RUNNING_DELAYED, info)
            return
        self._launch(task)

    def _resume_later(self, op: Doc) -> None:
        self.doc.setdefault("on_resume", []).append(op)
        self.effects.dirty.add("on_resume")

    def _after_action(self, task: Doc, state: TaskState, info: str | None) -> None:
        """Wait-after, fail-on and retry, in Mistral's order; then complete the task."""
        spec = self.tasks[task["name"]]
        context = task["runtime_context"]
        try:
            wait = int(self._policy(task, spec.wait_after) or 0)
            if wait > 0 and not context.get("wait_after_done"):
                context["wait_after_done"] = True
                task["pending_end"] = {"state": state.value, "info": info}
                task["delay_id"] = self._delay(task, "wait_after", wait, task["attempt"])
                text = f"Delayed by 'wait-after' policy [delay={wait}]"
                self._set_task_state(task, TaskState.RUNNING_DELAYED, text)
                return
            failing = state is TaskState.SUCCESS and spec.fail_on is not None
            if failing and self._policy(task, spec.fail_on):
                state, info = TaskState.ERROR, "Failed by 'fail-on' policy"
            if spec.retry is not None and self._retries(task, state):
                return
        except (ExpressionError, TypeError, ValueError) as exc:
            state, info = TaskState.ERROR, str(exc)
        self._complete_task(task, state, info)
        self._check_completion()

    def _retries(self, task: Doc, state: TaskState) -> bool:
        """Schedule the next attempt if the retry policy asks for one."""
        retry = self.tasks[task["name"]].retry
        assert retry is not None
        count = int(self._policy(task, retry.count) or 0)
        delay = int(self._policy(task, retry.delay) or 0)
        policy = task["runtime_context"].setdefault("retry_task_policy", {})
        if count == 0 or state is TaskState.CANCELLED:
            return False
        retry_no = int(policy.get("retry_no", 0))
        if retry_no >= count:
            return False
        # Mistral: a success repeats only under continue-on; break-on stops on errors.
        if state is TaskState.SUCCESS and retry.continue_on is None:
            return False
        if retry.continue_on is not None and not self._policy(task, retry.continue_on):
            return False
        if state is TaskState.ERROR and retry.break_on and self._policy(task, retry.break_on):
            return False
        policy["retry_no"] = retry_no + 1
        self._prepare_attempt(task, reset=False)
        info = f"Delayed by 'retry' policy [delay={delay}]"
        self._set_task_state(task, TaskState.RUNNING_DELAYED, info)
        if delay > 0:
            task["delay_id"] = self._delay(task, "retry", delay, task["attempt"])
        else:
            self._continue(task)
        return True

    def _continue(self, task: Doc) -> None:
        """Run the task's next attempt (after a retry delay, a rerun or a resume)."""
        if self.state is not ExecutionState.RUNNING:
            self._resume_later({"op": "continue", "task": task["id"]})
            return
        if "items" in task:
            self._set_task_state(task, TaskState.RUNNING, None)
            self._schedule_items(task)
        else:
            self._launch(task)

    def apply_delay(self, command: DelayFired) -> bool:
        """A persisted delay came due; False when it is stale."""
        task = self.doc["tasks"].get(command.task_id)
        if task is None or TaskState(task["state"]).is_final:
            return False
        if command.delay_kind == "timeout":
            if task.get("timeout_id") != command.delay_id:
                return False
            task.pop("timeout_id")
            self._time_out(task)
            return True
        if task.get("delay_id") != command.delay_id:
            return False
        task.pop("delay_id")
        if command.delay_kind == "wait_after":
            end = task.pop("pending_end")
            self._after_action(task, TaskState(end["state"]), end["info"])
        elif self.state is not ExecutionState.RUNNING:
            self._resume_later({"op": "continue", "task": task["id"]})
            self._touch_task(task)
        else:
            self._continue(task)
        self._check_completion()
        return True

    def _time_out(self, task: Doc) -> None:
        """Mistral's timeout: the task fails; whatever its action returns later is ignored.

        Its sub-workflows are cancelled: Mistral leaves them running, orphaned, doing
        work nobody waits for any more.
        """
        message = f"Task timed out [timeout(s)={task['timeout']}]."
        self._cascade("cancel", message, task)
        task["action_execution_id"] = None
        task.pop("delay_id", None)
        items = task.get("items")
        if items is not None:
            items["status"] = items["status"].replace("R", "C")
            items["running"] = 0
        self._after_action(task, TaskState.ERROR, message)
