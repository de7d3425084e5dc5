"""Workflows: direct (transitions) or reverse (``requires``), and task-defaults merging."""

from __future__ import annotations

from functools import cached_property
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from schemas.definitions.inputs import InputList, InputParam
from schemas.definitions.tasks import Task, TaskDefaults
from schemas.definitions.transitions import OnClause
from schemas.definitions.values import Name, NonEmptyDict, Spec, Tags, expected

#: Pass as validation context to leave graph checks to the caller (the file loader
#: runs them itself to report each problem at its own line).
DEFER_CHECKS = "defer_checks"

#: The policies a ``task-defaults`` value fills in when the task leaves them unset.
_DEFAULTED_POLICIES = (
    "retry",
    "wait_before",
    "wait_after",
    "timeout",
    "pause_before",
    "concurrency",
    "safe_rerun",
)
CLAUSES = ("on_success", "on_error", "on_complete")


class Workflow(Spec):
    """One Mistral v2 workflow; ``name`` comes from its key in the file."""

    name: Name
    type: Literal["direct", "reverse"] = "direct"
    description: str | None = None
    tags: Tags | None = None
    input: InputList = Field(default_factory=list)
    output: NonEmptyDict | None = None
    output_on_error: NonEmptyDict | None = Field(default=None, alias="output-on-error")
    vars: NonEmptyDict | None = None
    task_defaults: TaskDefaults | None = Field(default=None, alias="task-defaults")
    tasks: dict[str, Task]

    @model_validator(mode="before")
    @classmethod
    def _name_tasks(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("tasks"), dict):
            tasks = {
                k: {**v, "name": k} if isinstance(v, dict) else v for k, v in data["tasks"].items()
            }
            return {**data, "tasks": tasks}
        return data

    @field_validator("tasks", mode="before")
    @classmethod
    def _some_tasks(cls, value: Any) -> Any:
        if isinstance(value, dict) and value:
            return value
        raise expected("a non-empty mapping of tasks", value)

    @model_validator(mode="after")
    def _graph(self, info: ValidationInfo) -> Workflow:
        if isinstance(info.context, dict) and info.context.get(DEFER_CHECKS):
            return self
        from schemas.definitions.checks import workflow_problems

        problems = workflow_problems(self)
        if problems:
            text = "; ".join(p.message for p in problems)
            raise PydanticCustomError("workflow", "{problems}", {"problems": text})
        return self

    def input_param(self, name: str) -> InputParam | None:
        """The declared input called ``name``, if any."""
        return next((p for p in self.input if p.name == name), None)

    @cached_property
    def effective_tasks(self) -> dict[str, Task]:
        """The tasks with ``task-defaults`` merged in, as Mistral applies them at run time.

        A task's own policy (``retry``, ``wait-before``, ``wait-after``, ``timeout``,
        ``pause-before``, ``concurrency``, ``safe-rerun``) wins whole over the default.
        An ``on-*`` clause whose ``next`` is empty takes the default's transitions minus
        any to the task itself (Mistral's ``get_on_*_clause``); ``requires`` is the union
        of both minus the task itself (``get_task_requires``).
        """
        defaults = self.task_defaults
        if defaults is None:
            return dict(self.tasks)
        return {name: _merge(task, defaults) for name, task in self.tasks.items()}


def _merge(task: Task, defaults: TaskDefaults) -> Task:
    update: dict[str, Any] = {}
    for field in _DEFAULTED_POLICIES:
        if getattr(task, field) is None and getattr(defaults, field) is not None:
            update[field] = getattr(defaults, field)
    for field in CLAUSES:
        clause = merged_clause(task, defaults, field)
        if clause is not getattr(task, field):
            update[field] = clause
    if defaults.requires:
        own = task.requires or []
        extra = [r for r in defaults.requires if r not in own and r != task.name]
        update["requires"] = [r for r in own if r != task.name] + extra or None
    return task.model_copy(update=update) if update else task


def merged_clause(task: Task, defaults: TaskDefaults | None, field: str) -> OnClause | None:
    """The ``on-*`` clause Mistral follows for ``task``: its own, else the default's."""
    own: OnClause | None = getattr(task, field)
    if own is not None and own.next:
        return own
    default: OnClause | None = getattr(defaults, field) if defaults else None
    if default is None or not default.next:
        return own
    inherited = [t for t in default.next if t.target != task.name]
    if own is None and not inherited:
        return None
    if own is None:
        return OnClause.model_construct(
            publish=None, publish_global=None, publish_atomic=None, next=inherited
        )
    return own.model_copy(update={"next": inherited})
