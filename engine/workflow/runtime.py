"""What Mistral's expression functions (task(), execution(), env(), …) see of a run."""

from __future__ import annotations

from typing import Any

from schemas.definitions import Workflow


def task_view(task: dict[str, Any]) -> dict[str, Any]:
    """A task execution as Mistral's ``task()`` returns it."""
    return {
        "id": task["id"],
        "name": task["name"],
        "state": task["state"],
        "state_info": task["state_info"],
        "result": task["result"],
        "published": task["published"],
    }


class WorkflowRuntime:
    """The engine's side of the expression functions, over one execution document."""

    def __init__(self, doc: dict[str, Any], spec: Workflow, current: dict[str, Any] | None) -> None:
        self._doc = doc
        self._spec = spec
        self._current = current

    def task(self, name: str | None = None) -> dict[str, Any] | None:
        """The latest execution of task ``name``, or the current task when None."""
        if name is None:
            return task_view(self._current) if self._current else None
        latest = None
        for task in self._doc["tasks"].values():
            if task["name"] == name:
                latest = task
        return task_view(latest) if latest else None

    def tasks(
        self,
        workflow_execution_id: str | None = None,
        recursive: bool = False,
        state: str | None = None,
        flat: bool = False,
    ) -> list[dict[str, Any]]:
        """Task executions of this execution, optionally only those in ``state``."""
        if workflow_execution_id not in (None, self._doc["_id"]):
            return []
        return [
            task_view(t)
            for t in self._doc["tasks"].values()
            if state is None or t["state"] == state
        ]

    def execution(self) -> dict[str, Any]:
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
            "created_at": str(doc["created_at"]),
            "updated_at": str(doc["updated_at"]),
        }

    def executions(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        """Other executions are not visible from inside a run."""
        return []

    def env(self) -> dict[str, Any]:
        """The execution's environment (``params.env``)."""
        env = self._doc["params"].get("env")
        return env if isinstance(env, dict) else {}

    def global_var(self, name: str) -> Any:
        """A variable published with ``publish: global:``."""
        return self._doc["context"].get(name)
