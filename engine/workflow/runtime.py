"""What Mistral's expression functions (task(), execution(), env(), …) see of a run.

The current execution is read from memory. Other executions (``tasks()`` of another
id, of the whole project, ``recursive`` into sub-workflows, ``executions()``) come from
the batch's :class:`~engine.workflow.lookups.Lookups`, which the engine gives only to
runs whose workflow mentions those functions. So do task results stored apart from
their execution document, which every view of a task reads as their value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.expressions import ExpressionError
from engine.workflow.lookups import (
    Doc,
    LookupKey,
    Lookups,
    assemble_items,
    parse_time,
    stored_apart,
)
from schemas.base import as_utc
from schemas.definitions import Workflow


def timestamp(value: Any) -> str | None:
    """A stored time as Mistral shows it: UTC, ``YYYY-MM-DD HH:MM:SS[.ffffff]``."""
    if not isinstance(value, datetime):
        return None if value is None else str(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    text: str = value.isoformat(" ")
    return text


def task_view(task: Doc, execution_id: str, spec: Doc | None, result: Any) -> Doc:
    """A task execution as Mistral's ``task()`` and ``tasks()`` return it, with
    ``result`` its result (read back when it is stored apart)."""
    return {
        "id": task["id"],
        "name": task["name"],
        "spec": spec or {},
        "state": task["state"],
        "state_info": task["state_info"],
        "result": result,
        "published": task["published"],
        "type": task.get("type", "ACTION"),
        "workflow_execution_id": execution_id,
        "created_at": timestamp(task.get("created_at")),
        "updated_at": timestamp(task.get("updated_at")),
    }


class WorkflowRuntime:
    """The engine's side of the expression functions, over one execution document."""

    def __init__(
        self,
        doc: Doc,
        spec: Workflow,
        current: Doc | None,
        lookups: Lookups | None = None,
        task_specs: dict[str, Doc] | None = None,
        item_results: dict[str, dict[int, tuple[str, Any]]] | None = None,
    ) -> None:
        self._doc = doc
        self._spec = spec
        self._current = current
        self._lookups = lookups
        self._task_specs = task_specs if task_specs is not None else {}
        self._item_results = item_results if item_results is not None else {}

    # -- this execution ----------------------------------------------------------------

    def _own_task_spec(self, name: str) -> Doc:
        known = self._task_specs.get(name)
        if known is None:
            task = self._spec.tasks.get(name)
            known = task.model_dump(by_alias=True, exclude_none=True) if task else {}
            self._task_specs[name] = known
        return known

    def _own_view(self, task: Doc) -> Doc:
        key = stored_apart(task)
        result = task["result"] if key is None else self._stored_results([key])[0]
        return self._view_of(self._doc, task, result)

    def task(self, name: str | None = None) -> Doc | None:
        """The latest execution of task ``name``, or the current task when None."""
        if name is None or (self._current and self._current["name"] == name):
            return self._own_view(self._current) if self._current else None
        latest = None
        for task in self._doc["tasks"].values():
            if task["name"] == name:
                latest = task
        return self._own_view(latest) if latest else None

    def execution(self) -> Doc:
        """The execution as Mistral's ``execution()`` returns it."""
        doc = self._doc
        return {
            "id": doc["_id"],
            "name": doc["workflow_name"],
            "spec": self._spec.model_dump(by_alias=True, exclude_none=True),
            "input": doc["input"],
            "params": doc["params"],
            "state": doc["state"],
            "state_info": doc["state_info"],
            "created_at": timestamp(doc["created_at"]),
            "updated_at": timestamp(doc["updated_at"]),
            "root_execution_id": doc.get("root_execution_id"),
        }

    def env(self) -> Doc:
        """The execution's environment (``params.env``)."""
        env = self._doc["params"].get("env")
        return env if isinstance(env, dict) else {}

    def global_var(self, name: str) -> Any:
        """A variable published with ``publish: global:``."""
        return self._doc["context"].get(name)

    # -- other executions --------------------------------------------------------------

    def _load(self, function: str, key: LookupKey) -> list[Doc]:
        if self._lookups is None:
            raise ExpressionError(f"{function}()", "stored executions are not available here")
        return [self._fresh(doc) for doc in self._lookups.get(key)]

    def _fresh(self, doc: Doc) -> Doc:
        # What this batch changed in the current execution is not stored yet.
        return self._doc if doc["_id"] == self._doc["_id"] else doc

    def _with_current(self, docs: list[Doc], wanted: bool) -> list[Doc]:
        """``docs`` with the current execution in or out as ``wanted`` (it may be new)."""
        others = [d for d in docs if d["_id"] != self._doc["_id"]]
        if not wanted:
            return others
        return sorted([*others, self._doc], key=lambda d: as_utc(d["created_at"]))

    def tasks(
        self,
        workflow_execution_id: str | None = None,
        recursive: bool = False,
        state: str | None = None,
        flat: bool = False,
    ) -> list[Doc]:
        """Mistral's ``tasks()``: the tasks of one execution (and, ``recursive``, of its
        sub-workflows), or with no id every task of the project; ``state`` keeps those in
        that state, ``flat`` drops workflow tasks whose sub-workflow is in the same state.
        """
        project = self._doc["project"]
        if workflow_execution_id is None:
            every = self._with_current(self._load("tasks", ("project", project)), True)
            children = _children(every)
            return self._views(
                [t for ex in every for t in self._tasks_of(ex, state, flat, children)]
            )
        if workflow_execution_id == self._doc["_id"]:
            execution: Doc | None = self._doc
        else:
            found = self._load("tasks", ("execution", project, workflow_execution_id))
            execution = found[0] if found else None
        if execution is None:
            return []
        if not (recursive or flat):
            return self._views(self._tasks_of(execution, state, False, {}))
        root = execution.get("root_execution_id") or execution["_id"]
        tree = self._with_current(
            self._load("tasks", ("tree", project, root)),
            (self._doc.get("root_execution_id") or self._doc["_id"]) == root,
        )
        children = _children(tree)
        if not recursive:
            return self._views(self._tasks_of(execution, state, flat, children))
        found_tasks: list[tuple[Doc, Doc]] = []
        pending = [execution]
        while pending:
            current = pending.pop(0)
            found_tasks += self._tasks_of(current, state, flat, children)
            pending += [c for t in current["tasks"].values() for c in children.get(t["id"], [])]
        return self._views(found_tasks)

    def _tasks_of(
        self, execution: Doc, state: str | None, flat: bool, children: dict[str, list[Doc]]
    ) -> list[tuple[Doc, Doc]]:
        """The (execution, task) pairs of ``execution`` that ``tasks()`` selects."""
        selected = []
        for task in execution["tasks"].values():
            if state is not None and task["state"] != state:
                continue
            nested = children.get(task["id"], []) if flat else []
            if any(c["state"] == task["state"] for c in nested):
                continue
            selected.append((execution, task))
        return selected

    def _views(self, tasks: list[tuple[Doc, Doc]]) -> list[Doc]:
        """The views of (execution, task) pairs, every result stored apart read back in
        one round."""
        keys = [stored_apart(task) for _, task in tasks]
        if not any(keys):
            return [self._view_of(execution, task, task["result"]) for execution, task in tasks]
        values = iter(self._stored_results([k for k in keys if k is not None]))
        return [
            self._view_of(execution, task, task["result"] if key is None else next(values))
            for (execution, task), key in zip(tasks, keys, strict=True)
        ]

    def _stored_results(self, keys: list[LookupKey]) -> list[Any]:
        """The task results stored apart that ``keys`` name."""
        known = {key: value for key in keys if (value := self._in_memory(key)) is not None}
        wanted = [key for key in keys if key not in known]
        if wanted:
            if self._lookups is None:
                raise ExpressionError("task()", "results stored apart are not available here")
            known.update(zip(wanted, self._lookups.results(wanted), strict=True))
        return [known[key] for key in keys]

    def _in_memory(self, key: LookupKey) -> list[Any] | None:
        """A with-items result this run assembled: what this batch added to it is not
        stored yet."""
        if key[0] != "items":
            return None
        known = self._item_results.get(str(key[1]))
        count = int(key[2] or 0)
        return assemble_items(known, count) if known is not None and len(known) >= count else None

    def _view_of(self, execution: Doc, task: Doc, result: Any) -> Doc:
        if execution is self._doc:
            spec = self._own_task_spec(task["name"])
        else:
            spec = self._definition(execution).get("tasks", {}).get(task["name"])
        return task_view(task, execution["_id"], spec, result)

    def _definition(self, execution: Doc) -> Doc:
        assert self._lookups is not None
        return self._lookups.specs.get(execution.get("spec_hash") or "", {})

    def executions(
        self,
        id: str | None = None,
        root_execution_id: str | None = None,
        state: str | None = None,
        from_time: str | None = None,
        to_time: str | None = None,
    ) -> list[Doc]:
        """Mistral's ``executions()``: the project's executions matching every filter
        (``from_time`` inclusive, ``to_time`` exclusive, on the creation time)."""
        # Times are checked before anything is loaded: a bad one fails the expression.
        since = parse_time(from_time) if from_time is not None else None
        until = parse_time(to_time) if to_time is not None else None
        key = ("executions", self._doc["project"], id, root_execution_id, state, from_time, to_time)
        docs = self._load("executions", key)
        doc, created = self._doc, as_utc(self._doc["created_at"])
        wanted = (
            (id is None or id == doc["_id"])
            and (root_execution_id is None or root_execution_id == doc.get("root_execution_id"))
            and (state is None or state == doc["state"])
            and (since is None or created >= since)
            and (until is None or created < until)
        )
        return [self._execution_view(d) for d in self._with_current(docs, wanted)]

    def _execution_view(self, doc: Doc) -> Doc:
        if doc is self._doc:
            spec: Doc = self._spec.model_dump(by_alias=True, exclude_none=True)
        else:
            spec = self._definition(doc)
        return {
            "id": doc["_id"],
            "name": doc["workflow_name"],
            "workflow_name": doc["workflow_name"],
            "spec": spec,
            "state": doc["state"],
            "state_info": doc.get("state_info"),
            "input": doc.get("input") or {},
            "output": doc.get("output") or {},
            "params": doc.get("params") or {},
            "description": doc.get("description", ""),
            "root_execution_id": doc.get("root_execution_id"),
            "task_execution_id": doc.get("parent_task_id"),
            "created_at": timestamp(doc["created_at"]),
            "updated_at": timestamp(doc.get("updated_at")),
        }


def _children(executions: list[Doc]) -> dict[str, list[Doc]]:
    """Sub-workflow executions by the id of the task that started them."""
    children: dict[str, list[Doc]] = {}
    for execution in executions:
        parent = execution.get("parent_task_id")
        if parent:
            children.setdefault(parent, []).append(execution)
    return children
