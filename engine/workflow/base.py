"""What every part of the workflow state machine shares: the document, effects, helpers.

``WorkflowRun`` is assembled from one mixin per concept (tasks, with-items, policies,
control, sub-workflows, completion); each derives from ``RunBase``, which holds the
execution document and declares the steps the concepts call on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from engine.workflow.lookups import Lookups
from engine.workflow.runtime import WorkflowRuntime
from schemas import ActionRequest, TaskState
from schemas.commands import Command
from schemas.definitions import AdHocAction, Task, Transition, Workflow
from schemas.ids import derive_id
from schemas.states import ExecutionState

Doc = dict[str, Any]

#: Task states in which a task still holds its execution open.
ACTIVE = frozenset({TaskState.IDLE, TaskState.RUNNING, TaskState.RUNNING_DELAYED})


@dataclass(frozen=True)
class Delay:
    """A persisted timer: at ``due`` the poller sends ``DelayFired`` for it."""

    id: str
    execution_id: str
    task_id: str
    kind: str
    due: datetime


@dataclass
class Effects:
    """What applying commands produced: fields to persist and messages to publish."""

    requests: list[ActionRequest] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    delays: list[Delay] = field(default_factory=list)
    #: (task id, item index, state, result) of with-items results to store apart.
    item_results: list[tuple[str, int, str, Any]] = field(default_factory=list)
    #: With-items tasks whose items all ended: the caller loads their results and
    #: calls ``WorkflowRun.collect``.
    collect: set[str] = field(default_factory=set)
    dirty: set[str] = field(default_factory=set)
    history: list[dict[str, Any]] = field(default_factory=list)
    finished: bool = False
    started: bool = False


class RunBase:
    """The execution document and the helpers all concepts use."""

    def __init__(
        self,
        doc: Doc,
        spec: Workflow,
        now: datetime,
        actions: dict[str, AdHocAction] | None = None,
    ) -> None:
        self.doc = doc
        self.spec = spec
        self.tasks = spec.effective_tasks
        self.now = now
        self.effects = Effects()
        #: Ad-hoc actions by name (a snapshot stored with the execution).
        self.actions = actions if actions is not None else _stored_actions(doc)
        #: With-items results known in memory, by task id and item index.
        self.item_results: dict[str, dict[int, tuple[str, Any]]] = {}
        #: Other executions for ``tasks()`` and ``executions()``; the engine sets it for
        #: workflows that call them (see ``engine.workflow.lookups``).
        self.lookups: Lookups | None = None
        self._task_specs: dict[str, Doc] = {}

    # -- steps the concepts provide to each other -------------------------------------

    def _run_task(self, spec: Task, in_context: Doc, triggered_by: list[Doc]) -> None:
        raise NotImplementedError

    def _launch(self, task: Doc) -> None:
        raise NotImplementedError

    def _send_action(self, task: Doc, action_input: Doc, index: int | None) -> str | None:
        raise NotImplementedError

    def _action_done(self, task: Doc, state: TaskState, result: Any, error: str | None) -> None:
        raise NotImplementedError

    def _complete_task(self, task: Doc, state: TaskState, info: str | None) -> None:
        raise NotImplementedError

    def _follow(self, source: Doc, transition: Transition) -> None:
        raise NotImplementedError

    def _check_completion(self) -> None:
        raise NotImplementedError

    def _finish(self, state: ExecutionState, info: str | None) -> None:
        raise NotImplementedError

    def _schedule_items(self, task: Doc, values: dict[str, list[Any]] | None = None) -> None:
        raise NotImplementedError

    def _after_action(self, task: Doc, state: TaskState, info: str | None) -> None:
        raise NotImplementedError

    def _prepare_attempt(self, task: Doc, *, reset: bool) -> None:
        raise NotImplementedError

    def _continue(self, task: Doc) -> None:
        raise NotImplementedError

    def _before_start(self, task: Doc) -> None:
        raise NotImplementedError

    def _start_items(self, task: Doc) -> None:
        raise NotImplementedError

    def _attempt(self, task: Doc, index: int | None) -> int:
        raise NotImplementedError

    def _inbound(self, name: str) -> list[str]:
        raise NotImplementedError

    def _start_now(self, task: Doc) -> None:
        raise NotImplementedError

    def _cascade(
        self,
        action: Literal["pause", "resume", "cancel"],
        message: str | None,
        task: Doc | None = None,
    ) -> None:
        raise NotImplementedError

    def _after_reverse_success(self) -> None:
        raise NotImplementedError

    # -- state -----------------------------------------------------------------------

    @property
    def state(self) -> ExecutionState:
        """The execution's state."""
        return ExecutionState(self.doc["state"])

    @property
    def input(self) -> Doc:
        """The execution's input (with defaults once started)."""
        value: Doc = self.doc["input"]
        return value

    def _set_state(self, state: ExecutionState, info: str | None) -> None:
        self.doc["state"] = state.value
        self.doc["state_info"] = info
        self.effects.dirty.update(("state", "state_info"))
        self._record(None, state.value, info)

    def _set_task_state(self, task: Doc, state: TaskState, info: str | None) -> None:
        changed = task["state"] != state.value or task["state_info"] != info
        task["state"] = state.value
        task["state_info"] = info
        self._touch_task(task)
        if changed:
            self._record(task["name"], state.value, info)

    def _record(self, task: str | None, state: str, reason: str | None) -> None:
        entry = {"at": self.now, "state": state, "task": task, "reason": reason}
        self.doc["history"].append(entry)
        self.effects.history.append(entry)

    def _touch_task(self, task: Doc) -> None:
        task["updated_at"] = self.now
        self.effects.dirty.add(f"tasks.{task['id']}")

    def _delay(self, task: Doc, kind: str, seconds: float, attempt: int) -> str:
        """Persist a delay for ``task``; returns its id."""
        delay_id = derive_id(task["id"], kind, attempt)
        self.effects.delays.append(
            Delay(
                delay_id, self.doc["_id"], task["id"], kind, self.now + timedelta(seconds=seconds)
            )
        )
        return delay_id

    def _view(self, task: Doc, extra: Doc | None = None, *, outbound: bool = False) -> Doc:
        """The data context an expression sees, highest priority last."""
        view: Doc = {**self.input, **self.doc["context"]}
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

    def _runtime(self, task: Doc | None = None) -> WorkflowRuntime:
        return WorkflowRuntime(
            self.doc, self.spec, task, self.lookups, self._task_specs, self.item_results
        )


def _stored_actions(doc: Doc) -> dict[str, AdHocAction]:
    stored = doc.get("adhoc") or {}
    return {name: AdHocAction.model_validate(body) for name, body in stored.items()}
