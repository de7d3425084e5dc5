"""A fake workflow runtime over fixed data, for the expression tests."""

from __future__ import annotations

from typing import Any

TASK_ONE: dict[str, Any] = {
    "id": "t-1",
    "name": "create_vm",
    "spec": {"action": "nova.servers_create"},
    "state": "SUCCESS",
    "state_info": None,
    "result": {"id": "vm-42", "status": "ACTIVE"},
    "published": {"vm_id": "vm-42"},
    "type": "ACTION",
    "workflow_execution_id": "wf-1",
    "created_at": "2024-05-01 10:00:00",
    "updated_at": "2024-05-01 10:00:05",
}
TASK_TWO: dict[str, Any] = {
    **TASK_ONE,
    "id": "t-2",
    "name": "attach_ip",
    "state": "ERROR",
    "state_info": "quota exceeded",
    "result": None,
    "published": {},
}
EXECUTION: dict[str, Any] = {
    "id": "wf-1",
    "name": "create_server",
    "spec": {"tasks": {}},
    "input": {"flavor": "m1.small"},
    "params": {"env": {"region": "RegionOne"}},
    "created_at": "2024-05-01 10:00:00",
    "updated_at": "2024-05-01 10:00:05",
    "root_execution_id": None,
}


class FakeRuntime:
    """An ``ExpressionRuntime`` over fixed data that records every call it gets."""

    def __init__(self, current_task: str = "create_vm") -> None:
        self.current_task = current_task
        self.calls: list[tuple[str, Any]] = []
        self.globals = {"counter": 7}

    def task(self, name: str | None = None) -> dict[str, Any] | None:
        self.calls.append(("task", name))
        wanted = name or self.current_task
        return next((t for t in (TASK_ONE, TASK_TWO) if t["name"] == wanted), None)

    def tasks(
        self,
        workflow_execution_id: str | None = None,
        recursive: bool = False,
        state: str | None = None,
        flat: bool = False,
    ) -> list[dict[str, Any]]:
        self.calls.append(("tasks", (workflow_execution_id, recursive, state, flat)))
        return [t for t in (TASK_ONE, TASK_TWO) if state is None or t["state"] == state]

    def execution(self) -> dict[str, Any]:
        self.calls.append(("execution", None))
        return EXECUTION

    def executions(
        self,
        id: str | None = None,
        root_execution_id: str | None = None,
        state: str | None = None,
        from_time: str | None = None,
        to_time: str | None = None,
    ) -> list[dict[str, Any]]:
        self.calls.append(("executions", (id, root_execution_id, state, from_time, to_time)))
        return [EXECUTION] if id in (None, EXECUTION["id"]) else []

    def env(self) -> dict[str, Any]:
        self.calls.append(("env", None))
        return {"region": "RegionOne", "flavors": ["m1.small", "m1.large"]}

    def global_var(self, name: str) -> Any:
        self.calls.append(("global", name))
        return self.globals.get(name)
