"""Task lifecycle: create, launch (action, sub-workflow or items), complete, publish, move on.

A task goes IDLE → (RUNNING_DELAYED for wait-before) → RUNNING → (RUNNING_DELAYED for
wait-after or a retry) → SUCCESS / ERROR / CANCELLED. The policies deciding the
delays live in ``policies``; this module follows the data: the action input, the
result, what the task publishes and which transitions it takes.
"""

from __future__ import annotations

from typing import Any

from engine.expressions import ExpressionError, evaluate
from engine.workflow.adhoc import expand, shape_output
from engine.workflow.base import Doc, RunBase
from engine.workflow.errors import WorkflowError
from schemas import ActionRequest, StartExecution, TaskState
from schemas.actions import CallerCredentials
from schemas.definitions import OnClause, Task, Transition
from schemas.ids import derive_id
from schemas.masking import mask_secrets
from schemas.states import ExecutionState


def action_execution_id(task: Doc, index: int | None, attempt: int) -> str:
    """The id of one attempt of the task's action (or of one with-items item)."""
    if index is None:
        return derive_id(task["id"], "action", attempt)
    return derive_id(task["id"], index, attempt)


class TaskMixin(RunBase):
    """Creating, launching and completing tasks."""

    def _new_task(self, spec: Task, in_context: Doc, state: TaskState) -> Doc:
        count = self.doc["task_counts"].get(spec.name, 0)
        self.doc["task_counts"][spec.name] = count + 1
        self.effects.dirty.add("task_counts")
        task: Doc = {
            "id": derive_id(self.doc["_id"], spec.name, count),
            "name": spec.name,
            "type": "WORKFLOW" if spec.workflow is not None else "ACTION",
            "state": state.value,
            "state_info": None,
            "action": spec.workflow or spec.action,
            "input": {},
            "in_context": in_context,
            "published": {},
            "result": None,
            "action_execution_id": None,
            "attempt": 0,
            "errors": [],
            "runtime_context": {},
            "next": [],
            "created_at": self.now,
            "updated_at": self.now,
        }
        self.doc["tasks"][task["id"]] = task
        self._touch_task(task)
        return task

    def _run_task(self, spec: Task, in_context: Doc, triggered_by: list[Doc]) -> None:
        task = self._new_task(spec, in_context, TaskState.IDLE)
        if triggered_by:
            task["runtime_context"]["triggered_by"] = triggered_by
        self._record(task["name"], TaskState.IDLE.value, None)
        self._before_start(task)

    def _launch(self, task: Doc) -> None:
        """Run the task's action, its sub-workflow, or its items."""
        spec = self.tasks[task["name"]]
        self._set_task_state(task, TaskState.RUNNING, None)
        if spec.with_items:
            self._start_items(task)
            return
        try:
            action_input = evaluate(spec.input, self._view(task), self._runtime(task))
        except ExpressionError as exc:
            self._action_done(task, TaskState.ERROR, None, str(exc))
            return
        error = self._send_action(task, action_input, None)
        if error is not None:
            self._action_done(task, TaskState.ERROR, None, error)

    def _send_action(self, task: Doc, action_input: Doc, index: int | None) -> str | None:
        """Ask for the action (or sub-workflow) to run; the error when it cannot."""
        spec = self.tasks[task["name"]]
        attempt = self._attempt(task, index)
        aeid = action_execution_id(task, index, attempt)
        if index is None:
            # Stored for display only (an attempt re-evaluates the input from the spec),
            # so secrets never reach the execution document.
            task["input"] = mask_secrets(action_input)
            task["action_execution_id"] = aeid
        if spec.workflow is not None:
            self._start_child(task, spec, action_input, index, attempt)
            return None
        try:
            name, final_input = expand(spec.action or "std.noop", action_input, self.actions)
            safe = bool(evaluate(spec.safe_rerun, self._view(task), self._runtime(task)))
        except (ExpressionError, WorkflowError) as exc:
            return str(exc)
        self.effects.requests.append(
            ActionRequest(
                action_execution_id=aeid,
                execution_id=self.doc["_id"],
                task_id=task["id"],
                task_name=spec.name,
                workflow_name=self.doc["workflow_name"],
                project=self.doc["project"],
                action=name,
                input=final_input,
                item_index=index,
                attempt=attempt,
                safe_rerun=safe,
                # The executor stops the action at the task's timeout, freeing its slot.
                timeout_s=task.get("timeout"),
                security=caller_credentials(self.doc["params"]),
                created_at=self.now,
            )
        )
        return None

    def _start_child(
        self, task: Doc, spec: Task, child_input: Doc, index: int | None, attempt: int
    ) -> None:
        child_id = action_execution_id(task, index, attempt)
        params: Doc = {"env": self.doc["params"].get("env") or {}}
        # A sub-workflow acts for the same caller, on the same cloud, as Mistral's do.
        if "openstack" in self.doc["params"]:
            params["openstack"] = self.doc["params"]["openstack"]
        self.effects.commands.append(
            StartExecution(
                command_id=f"start:{child_id}",
                execution_id=child_id,
                project=self.doc["project"],
                workflow_name=spec.workflow or "",
                input=child_input,
                params=params,
                parent_execution_id=self.doc["_id"],
                parent_task_id=task["id"],
                item_index=index,
                root_execution_id=self.doc.get("root_execution_id") or self.doc["_id"],
            )
        )

    def _action_done(self, task: Doc, state: TaskState, result: Any, error: str | None) -> None:
        """One action (or sub-workflow) of a plain task ended with ``result``."""
        if state is TaskState.SUCCESS:
            try:
                result = shape_output(self.tasks[task["name"]].action, result, self.actions)
            except (ExpressionError, WorkflowError) as exc:
                state, error = TaskState.ERROR, str(exc)
        if state is not TaskState.SUCCESS:
            task["errors"].append(
                {"action_execution_id": task["action_execution_id"], "idx": task["attempt"]}
                | {"error": error}
            )
            result = error if result is None else result
        task["result"] = result
        self._after_action(task, state, error)

    def _complete_task(self, task: Doc, state: TaskState, info: str | None) -> None:
        spec = self.tasks[task["name"]]
        task["state"] = state.value
        task["state_info"] = info
        clause = spec.on_success if state is TaskState.SUCCESS else spec.on_error
        chosen: list[Transition] = []
        try:
            self._publish(task, spec, clause, state)
            if self.spec.type == "direct":
                chosen = self._transitions(task, spec, state)
        except ExpressionError as exc:
            task["state"] = TaskState.ERROR.value
            task["state_info"] = (
                f"Failed to handle action completion [error={exc}, wf={self.spec.name}, "
                f"task={spec.name}, action={task['action']}]"
            )
            task["error_handled"] = False
            chosen = []
        if not _keeps_result(self, task, spec):
            task["result"] = None
        self._touch_task(task)
        self._record(task["name"], task["state"], task["state_info"])
        for position, transition in enumerate(chosen):
            if self.state is ExecutionState.PAUSED:
                # Nothing new starts while paused: the rest waits for the resume.
                task["chosen"] = [t.model_dump() for t in chosen[position:]]
                self.doc.setdefault("on_resume", []).append({"op": "follow", "task": task["id"]})
                self.effects.dirty.add("on_resume")
                return
            self._follow(task, transition)
        if self.spec.type == "reverse" and task["state"] == TaskState.SUCCESS:
            self._after_reverse_success()

    def _publish(self, task: Doc, spec: Task, clause: OnClause | None, state: TaskState) -> None:
        branch = dict((spec.publish if state is TaskState.SUCCESS else spec.publish_on_error) or {})
        global_vars: Doc = {}
        if clause is not None:
            branch.update(clause.publish or {})
            global_vars = dict(clause.publish_global or {})
        view, runtime = self._view(task), self._runtime(task)
        task["published"] = evaluate(branch, view, runtime) if branch else {}
        if global_vars:
            self.doc["context"].update(evaluate(global_vars, view, runtime))
            self.effects.dirty.add("context")

    def _transitions(self, task: Doc, spec: Task, state: TaskState) -> list[Transition]:
        clauses = [spec.on_complete]
        if state is TaskState.SUCCESS:
            clauses.append(spec.on_success)
        elif state is TaskState.ERROR:
            clauses.append(spec.on_error)
        view = self._view(task, outbound=True)
        runtime = self._runtime(task)
        chosen: list[Transition] = []
        for clause in clauses:
            if clause is None:
                continue
            for transition in clause.next:
                if transition.condition is True or evaluate(transition.condition, view, runtime):
                    chosen.append(transition)
        task["next"] = [t.target for t in chosen if t.kind == "task"]
        if state is TaskState.ERROR:
            on_error = spec.on_error.next if spec.on_error is not None else []
            task["error_handled"] = any(t in chosen for t in on_error)
        return chosen

    def _follow(self, source: Doc, transition: Transition) -> None:
        if self.state.is_final:
            return
        message = None
        if transition.params:
            # Mistral evaluates an engine command's parameters in the task's outbound
            # context, so ``fail msg=<% $.why %>`` reports the value, not the text.
            try:
                params = evaluate(
                    transition.params, self._view(source, outbound=True), self._runtime(source)
                )
            except ExpressionError as exc:
                self._finish(ExecutionState.ERROR, str(exc))
                return
            given = params.get("msg")
            message = None if given is None else str(given)
        if transition.kind == "fail":
            self._finish(ExecutionState.ERROR, message)
        elif transition.kind == "succeed":
            self._finish(ExecutionState.SUCCESS, message)
        elif transition.kind == "pause":
            self._set_state(ExecutionState.PAUSED, message)
        elif transition.kind == "task":
            target = self.tasks[transition.target]
            outbound = {**source["in_context"], **source["published"]}
            event = "on-success" if source["state"] == TaskState.SUCCESS else "on-error"
            trigger = {"task_id": source["id"], "event": event}
            if target.join is None:
                self._run_task(target, outbound, [trigger])
            else:
                self._arrive_at_join(target, source["name"], outbound)

    # -- joins -----------------------------------------------------------------------

    def _inbound(self, name: str) -> list[str]:
        return [
            t.name
            for t in self.tasks.values()
            for clause in (t.on_success, t.on_error, t.on_complete)
            if clause is not None and any(tr.target == name for tr in clause.next)
        ]

    def _arrive_at_join(self, spec: Task, source: str, outbound: Doc) -> None:
        join = self.doc["joins"].setdefault(spec.name, {"arrived": [], "context": {}, "task": None})
        self.effects.dirty.add("joins")
        if join["task"] is None:
            waiting = self._new_task(spec, {}, TaskState.WAITING)
            waiting["state_info"] = "Task is waiting."
            join["task"] = waiting["id"]
        if source not in join["arrived"]:
            join["arrived"].append(source)
            join["context"].update(outbound)
        if spec.join == "all":
            needed = len(self._inbound(spec.name))
        else:
            needed = 1 if spec.join == "one" else int(spec.join or 0)
        task = self.doc["tasks"][join["task"]]
        if len(join["arrived"]) >= needed and task["state"] == TaskState.WAITING:
            del self.doc["tasks"][task["id"]]
            self.doc["task_counts"][spec.name] -= 1
            self.doc["joins"].pop(spec.name)
            self._run_task(spec, join["context"], [])


def _keeps_result(run: RunBase, task: Doc, spec: Task) -> bool:
    if spec.keep_result is True:
        return True
    try:
        return bool(evaluate(spec.keep_result, run._view(task), run._runtime(task)))
    except ExpressionError:
        return True


def caller_credentials(params: dict[str, Any]) -> CallerCredentials | None:
    """The OpenStack cloud and token an execution chose for its actions, if any.

    The cloud is ``params.openstack.cloud``, else the environment's ``openstack_cloud``
    (so a shared environment can name it, and sub-workflows, which inherit only the
    environment, keep it); the token is ``params.openstack.auth_token``.
    """
    given = params.get("openstack")
    given = given if isinstance(given, dict) else {}
    env = params.get("env")
    env = env if isinstance(env, dict) else {}
    cloud = given.get("cloud") or env.get("openstack_cloud")
    token = given.get("auth_token")
    if not token and not cloud:
        return None
    project_id = given.get("project_id") if token else None
    return CallerCredentials(
        auth_token=str(token) if token else None,
        project_id=str(project_id) if project_id is not None else None,
        cloud=str(cloud) if cloud else None,
    )
