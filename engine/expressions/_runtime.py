"""What the expression functions need from the running workflow: the engine implements it."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["ExpressionRuntime"]


@runtime_checkable
class ExpressionRuntime(Protocol):
    """The workflow state behind Mistral's ``task()``, ``execution()``, ``env()``... functions.

    The engine implements one per evaluation scope (a workflow execution, and within it
    possibly the current task). Every method returns plain JSON-like values (dicts, lists,
    strings, numbers, booleans, ``None``) shaped like Mistral's. Exceptions a method raises
    propagate out of :func:`evaluate` unchanged (as Mistral lets database errors through),
    so the engine can retry; they are not turned into ``ExpressionError``.

    A *task dict* is::

        {"id": str, "name": str, "spec": dict, "state": str, "state_info": str | None,
         "result": Any, "published": dict, "type": "ACTION" | "WORKFLOW",
         "workflow_execution_id": str, "created_at": str, "updated_at": str | None}

    An *execution dict* is::

        {"id": str, "name": str, "spec": dict, "input": dict, "params": dict,
         "created_at": str, "updated_at": str, "root_execution_id": str | None}

    Timestamps are ``"YYYY-MM-DD HH:MM:SS[.ffffff]"`` (Python's ``isoformat(" ")``), as in
    Mistral.
    """

    def task(self, name: str | None = None) -> dict[str, Any] | None:
        """The task dict of ``name`` in the current workflow execution.

        With no name, the current task (the one whose expression is being evaluated). When
        a task ran several times (a loop), the latest run. ``None`` when there is none.
        """
        ...

    def tasks(
        self,
        workflow_execution_id: str | None = None,
        recursive: bool = False,
        state: str | None = None,
        flat: bool = False,
    ) -> list[dict[str, Any]]:
        """Task dicts, filtered as Mistral's ``tasks()`` does.

        Args:
            workflow_execution_id: only that execution's tasks (``None``: every task the
                caller may see).
            recursive: also the tasks of sub-workflows started by those tasks.
            state: only tasks in that state (``"SUCCESS"``, ``"ERROR"``...).
            flat: drop workflow tasks whose sub-workflow is in the same state, keeping
                only the tasks that did the work.
        """
        ...

    def execution(self) -> dict[str, Any]:
        """The execution dict of the current workflow execution."""
        ...

    def executions(
        self,
        id: str | None = None,
        root_execution_id: str | None = None,
        state: str | None = None,
        from_time: str | None = None,
        to_time: str | None = None,
    ) -> list[dict[str, Any]]:
        """Execution dicts matching every given filter.

        ``from_time`` is inclusive and ``to_time`` exclusive, both compared with
        ``created_at``.
        """
        ...

    def env(self) -> dict[str, Any]:
        """The environment (``env``) the workflow execution was started with."""
        ...

    def global_var(self, name: str) -> Any:
        """A global variable of the workflow execution (published with ``global:``).

        ``None`` when it was never set.
        """
        ...
