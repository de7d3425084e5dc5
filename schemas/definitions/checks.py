"""Graph checks Mistral makes once a workflow's shape is valid.

Each problem carries its path relative to the workflow, so the loader can point at the
line; ``Workflow`` itself raises them all at once when used without the loader.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from schemas.definitions.located import Path
from schemas.definitions.tasks import Task
from schemas.definitions.transitions import ENGINE_COMMANDS
from schemas.definitions.workflows import CLAUSES, Workflow, merged_clause

MAX_TASK_NAME = 255
#: Mistral keys join locks by "join-task-<execution id>-<name>", within 255 characters.
MAX_JOIN_TASK_NAME = MAX_TASK_NAME - 47
_DIRECT_ONLY = ("join", *CLAUSES)


@dataclass(frozen=True)
class Problem:
    """A problem at ``path`` (relative to the workflow); ``at_key`` points at the key."""

    path: Path
    message: str
    at_key: bool = False


def _alias(field: str) -> str:
    return field.replace("_", "-")


def workflow_problems(wf: Workflow) -> list[Problem]:
    """Every graph problem of ``wf``: names, keywords of the wrong type, links, joins."""
    problems = list(_names(wf))
    if wf.type == "direct":
        problems += _direct(wf)
    else:
        problems += _reverse(wf)
    return problems


def _names(wf: Workflow) -> Iterator[Problem]:
    try:
        uuid.UUID(wf.name)
    except ValueError:
        pass
    else:
        yield Problem((), "a workflow name cannot look like a UUID", at_key=True)
    for name, task in wf.tasks.items():
        path = ("tasks", name)
        if name in ENGINE_COMMANDS:
            yield Problem(
                path, f"'{name}' is an engine command and cannot name a task", at_key=True
            )
        if len(name) > MAX_TASK_NAME:
            yield Problem(
                path, f"a task name must not exceed {MAX_TASK_NAME} characters", at_key=True
            )
        elif task.join is not None and len(name) > MAX_JOIN_TASK_NAME:
            message = f"a join task name must not exceed {MAX_JOIN_TASK_NAME} characters"
            yield Problem(path, message, at_key=True)


def _direct(wf: Workflow) -> list[Problem]:
    problems: list[Problem] = []
    inbound: dict[str, set[str]] = {name: set() for name in wf.tasks}
    for name, task in wf.tasks.items():
        if task.requires is not None:
            message = "'requires' is only allowed in reverse workflows"
            problems.append(Problem(("tasks", name, "requires"), message, at_key=True))
        for field in CLAUSES:
            clause = merged_clause(task, wf.task_defaults, field)
            if clause is None:
                continue
            own = getattr(task, field) is clause
            base: Path = ("tasks", name, _alias(field)) if own else ("task-defaults", _alias(field))
            for i, transition in enumerate(clause.next):
                if transition.kind != "task":
                    continue
                if transition.target in inbound:
                    inbound[transition.target].add(name)
                elif own:
                    message = f"transition to unknown task '{transition.target}'"
                    problems.append(Problem((*base, i), message))
    problems += _default_links(wf)
    if not any(not sources for sources in inbound.values()):
        message = "no start task: every task has an inbound transition"
        problems.append(Problem(("tasks",), message, at_key=True))
    for name, task in wf.tasks.items():
        problems += _join(name, task, len(inbound[name]))
    return problems


def _default_links(wf: Workflow) -> Iterator[Problem]:
    defaults = wf.task_defaults
    for field in CLAUSES:
        clause = getattr(defaults, field) if defaults else None
        for i, transition in enumerate(clause.next if clause else []):
            if transition.kind == "task" and transition.target not in wf.tasks:
                message = f"transition to unknown task '{transition.target}'"
                yield Problem(("task-defaults", _alias(field), i), message)


def _join(name: str, task: Task, inbound: int) -> list[Problem]:
    if task.join is None:
        return []
    needed = 1 if task.join in ("all", "one") else int(task.join)
    if inbound >= needed:
        return []
    message = f"'join: {task.join}' needs at least {needed} inbound task(s), found {inbound}"
    return [Problem(("tasks", name, "join"), message)]


def _reverse(wf: Workflow) -> list[Problem]:
    problems: list[Problem] = []
    for name, written in wf.tasks.items():
        for field in _DIRECT_ONLY:
            if getattr(written, field) is not None:
                message = f"'{_alias(field)}' is only allowed in direct workflows"
                problems.append(Problem(("tasks", name, _alias(field)), message, at_key=True))
        for i, required in enumerate(written.requires or []):
            if required not in wf.tasks:
                message = f"requires unknown task '{required}'"
                problems.append(Problem(("tasks", name, "requires", i), message))
    defaults = wf.task_defaults
    for i, required in enumerate(defaults.requires or [] if defaults else []):
        if required not in wf.tasks:
            message = f"requires unknown task '{required}'"
            problems.append(Problem(("task-defaults", "requires", i), message))
    return problems
