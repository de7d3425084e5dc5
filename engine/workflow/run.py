"""The direct-workflow state machine over one execution document.

A ``WorkflowRun`` wraps the stored document of one execution and applies commands to
it in memory; the caller persists the fields it marks dirty and publishes the effects.
Data flow follows Mistral: a task sees, in order of priority, itself
(``__task_execution``), its inbound context (what upstream tasks published), the
environment (``__env``), the workflow context (vars, globals, ``__execution``) and the
workflow input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.expressions import ExpressionError, evaluate
from engine.workflow.runtime import WorkflowRuntime
from schemas import ActionRequest, ActionResult, ControlExecution, RerunTask, StartExecution
from schemas.definitions import OnClause, Task, Transition, Workflow
from schemas.ids import derive_id
from schemas.states import ExecutionState, TaskState

_ACTIVE = frozenset({TaskState.IDLE, TaskState.RUNNING, TaskState.RUNNING_DELAYED})


@dataclass
class Effects:
    """What applying commands produced: fields to persist and messages to publish."""

    requests: list[ActionRequest] = field(default_factory=list)
    dirty: set[str] = field(default_factory=set)
    history: list[dict[str, Any]] = field(default_factory=list)
    finished: bool = False
    started: bool = False


class WorkflowRun:
    """One execution's state machine (direct workflows)."""

    def __init__(self, doc: dict[str, Any], spec: Workflow, now: datetime) -> None:
        self.doc = doc
        self.spec = spec
        self.tasks = spec.effective_tasks
        self.now = now
        self.effects = Effects()

    @classmethod
    def new(cls, cmd: StartExecution, spec: Workflow, spec_hash: str, now: datetime) -> WorkflowRun:
        """A fresh IDLE execution for ``cmd``; call ``start`` next."""
        doc: dict[str, Any] = {
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
        return cls(doc, spec, now)

    @classmethod
    def rejected(cls, cmd: StartExecution, reason: str, now: datetime) -> WorkflowRun:
        """An execution that failed before it could start (e.g. no such workflow)."""
        spec = Workflow.model_construct(name=cmd.workflow_name, tasks={}, input=[])
        run = cls.new(cmd, spec, "", now)
        run.effects.started = True
        run._set_state(ExecutionState.ERROR, reason)
        run.doc["output"] = {}
        run.effects.finished = True
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
        for task in self._start_tasks():
            self._run_task(task, {})
        self._check_completion()

    def apply(self, command: ActionResult | ControlExecution | RerunTask) -> bool:
        """Apply one command; False when it changes nothing (a repeat, or not applicable)."""
        if isinstance(command, ActionResult):
            return self.apply_result(command)
        return False

    def apply_result(self, result: ActionResult) -> bool:
        """Complete the task the result belongs to; False when it is stale (a repeat)."""
        task = self.doc["tasks"].get(result.task_id)
        if (
            task is None
            or task["state"] != TaskState.RUNNING
            or task.get("action_execution_id") != result.action_execution_id
        ):
            return False
        task["result"] = result.output
        if result.state == "SUCCESS":
            self._complete_task(task, TaskState.SUCCESS, None)
        else:
            self._complete_task(task, TaskState.ERROR, result.error)
        if not ExecutionState(self.doc["state"]).is_final:
            self._check_completion()
        return True

    # -- tasks -----------------------------------------------------------------------

    @property
    def input(self) -> dict[str, Any]:
        """The execution's input (with defaults once started)."""
        value: dict[str, Any] = self.doc["input"]
        return value

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

    def _new_task(self, spec: Task, in_context: dict[str, Any], state: TaskState) -> dict[str, Any]:
        count = self.doc["task_counts"].get(spec.name, 0)
        self.doc["task_counts"][spec.name] = count + 1
        self.effects.dirty.add("task_counts")
        task_id = derive_id(self.doc["_id"], spec.name, count)
        task: dict[str, Any] = {
            "id": task_id,
            "name": spec.name,
            "state": state.value,
            "state_info": None,
            "action": spec.action,
            "input": {},
            "in_context": in_context,
            "published": {},
            "result": None,
            "action_execution_id": None,
            "next": [],
            "created_at": self.now,
            "updated_at": self.now,
        }
        self.doc["tasks"][task_id] = task
        self._touch_task(task)
        return task

    def _run_task(self, spec: Task, in_context: dict[str, Any]) -> None:
        task = self._new_task(spec, in_context, TaskState.RUNNING)
        self._record(task["name"], TaskState.RUNNING.value, None)
        if spec.workflow is not None or spec.action is None:
            self._complete_task(
                task, TaskState.ERROR, f"task '{spec.name}': sub-workflows are not supported yet"
            )
            return
        try:
            action_input = evaluate(spec.input, self._view(task), self._runtime(task))
        except ExpressionError as exc:
            self._complete_task(task, TaskState.ERROR, str(exc))
            return
        task["input"] = action_input
        aeid = derive_id(task["id"], "action", 0)
        task["action_execution_id"] = aeid
        self.effects.requests.append(
            ActionRequest(
                action_execution_id=aeid,
                execution_id=self.doc["_id"],
                task_id=task["id"],
                task_name=spec.name,
                workflow_name=self.doc["workflow_name"],
                project=self.doc["project"],
                action=spec.action,
                input=action_input,
                safe_rerun=bool(spec.safe_rerun),
                created_at=self.now,
            )
        )

    def _complete_task(self, task: dict[str, Any], state: TaskState, error: str | None) -> None:
        spec = self.tasks[task["name"]]
        task["state"] = state.value
        task["state_info"] = error
        clause = spec.on_success if state is TaskState.SUCCESS else spec.on_error
        try:
            self._publish(task, spec, clause, state)
            next_tasks = self._transitions(task, spec, state)
        except ExpressionError as exc:
            task["state"] = TaskState.ERROR.value
            task["state_info"] = str(exc)
            next_tasks = []
        self._touch_task(task)
        self._record(task["name"], task["state"], task["state_info"])
        for transition in next_tasks:
            self._follow(task, transition)

    def _publish(
        self, task: dict[str, Any], spec: Task, clause: OnClause | None, state: TaskState
    ) -> None:
        branch = dict((spec.publish if state is TaskState.SUCCESS else spec.publish_on_error) or {})
        global_vars: dict[str, Any] = {}
        if clause is not None:
            branch.update(clause.publish or {})
            global_vars = dict(clause.publish_global or {})
        view, runtime = self._view(task), self._runtime(task)
        task["published"] = evaluate(branch, view, runtime) if branch else {}
        if global_vars:
            self.doc["context"].update(evaluate(global_vars, view, runtime))
            self.effects.dirty.add("context")

    def _transitions(self, task: dict[str, Any], spec: Task, state: TaskState) -> list[Transition]:
        clauses = [spec.on_complete]
        clauses.append(spec.on_success if state is TaskState.SUCCESS else spec.on_error)
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

    def _follow(self, source: dict[str, Any], transition: Transition) -> None:
        if ExecutionState(self.doc["state"]).is_final:
            return
        message = transition.params.get("msg") if transition.params else None
        if transition.kind == "fail":
            self._finish(ExecutionState.ERROR, message)
        elif transition.kind == "succeed":
            self._finish(ExecutionState.SUCCESS, message)
        elif transition.kind == "pause":
            self._set_state(ExecutionState.PAUSED, message)
        elif transition.kind == "task":
            target = self.tasks[transition.target]
            outbound = {**source["in_context"], **source["published"]}
            if target.join is None:
                self._run_task(target, outbound)
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

    def _arrive_at_join(self, spec: Task, source: str, outbound: dict[str, Any]) -> None:
        join = self.doc["joins"].setdefault(spec.name, {"arrived": [], "context": {}, "task": None})
        self.effects.dirty.add("joins")
        if join["task"] is None:
            waiting = self._new_task(spec, {}, TaskState.WAITING)
            waiting["state_info"] = "Task is waiting."
            join["task"] = waiting["id"]
        if source not in join["arrived"]:
            join["arrived"].append(source)
            join["context"].update(outbound)
        needed = (
            len(self._inbound(spec.name))
            if spec.join == "all"
            else (
                1 if spec.join == "one" else int(spec.join)  # type: ignore[arg-type]
            )
        )
        task = self.doc["tasks"][join["task"]]
        if len(join["arrived"]) >= needed and task["state"] == TaskState.WAITING:
            del self.doc["tasks"][task["id"]]
            self.doc["task_counts"][spec.name] -= 1
            self.doc["joins"].pop(spec.name)
            self._run_task(spec, join["context"])

    # -- completion ------------------------------------------------------------------

    def _check_completion(self) -> None:
        if ExecutionState(self.doc["state"]).is_final:
            return
        tasks = self.doc["tasks"].values()
        if any(TaskState(t["state"]) in _ACTIVE for t in tasks):
            return
        for task in tasks:
            if task["state"] == TaskState.WAITING:
                blocked = [n for n in self._inbound(task["name"]) if n not in self._arrived(task)]
                task["state"] = TaskState.ERROR.value
                task["state_info"] = f"Failed by tasks: {blocked}"
                self._touch_task(task)
        failed = [t for t in tasks if t["state"] == TaskState.ERROR and not t.get("error_handled")]
        if failed:
            details = "".join(
                f"  {t['name']} [task_ex_id={t['id']}] -> {t['state_info']}\n" for t in failed
            )
            info = "Failure caused by error in tasks: " + ", ".join(t["name"] for t in failed)
            self._finish(ExecutionState.ERROR, f"{info}\n\n{details}")
        else:
            self._finish(ExecutionState.SUCCESS, None)

    def _arrived(self, task: dict[str, Any]) -> list[str]:
        join = self.doc["joins"].get(task["name"])
        return list(join["arrived"]) if join else []

    def _final_context(self) -> dict[str, Any]:
        context: dict[str, Any] = {}
        for task in self.doc["tasks"].values():
            if task["state"] == TaskState.SUCCESS and not task["next"]:
                context.update(task["in_context"])
                context.update(task["published"])
        return context

    def _finish(self, state: ExecutionState, info: str | None) -> None:
        final = self._final_context()
        clause = self.spec.output if state is ExecutionState.SUCCESS else self.spec.output_on_error
        try:
            output = evaluate(clause, self._view({}, final), self._runtime()) if clause else None
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

    # -- helpers ---------------------------------------------------------------------

    def _set_state(self, state: ExecutionState, info: str | None) -> None:
        self.doc["state"] = state.value
        self.doc["state_info"] = info
        self.effects.dirty.update(("state", "state_info"))
        self._record(None, state.value, info)

    def _record(self, task: str | None, state: str, reason: str | None) -> None:
        entry = {"at": self.now, "state": state, "task": task, "reason": reason}
        self.doc["history"].append(entry)
        self.effects.history.append(entry)

    def _touch_task(self, task: dict[str, Any]) -> None:
        task["updated_at"] = self.now
        self.effects.dirty.add(f"tasks.{task['id']}")

    def _view(
        self, task: dict[str, Any], extra: dict[str, Any] | None = None, *, outbound: bool = False
    ) -> dict[str, Any]:
        """The data context an expression sees, highest priority last."""
        view: dict[str, Any] = {**self.input, **self.doc["context"]}
        env = self.doc["params"].get("env")
        view["__env"] = env if isinstance(env, dict) else {}
        if task:
            view.update(task["in_context"])
            if outbound:
                view.update(task["published"])
            view["__task_execution"] = {"id": task["id"], "name": task["name"]}
        if extra:
            view.update(extra)
        return view

    def _runtime(self, task: dict[str, Any] | None = None) -> WorkflowRuntime:
        return WorkflowRuntime(self.doc, self.spec, task)
