"""Pages of Mistral's ``/v2/action_executions``, read through the task index.

Action runs are keyed by ids derived from their task and attempt (and item), so a
page walks the project's task index in order, loads the tasks' executions and then
their runs by ``_id``, batch by batch, until the page is full: no scan of the runs
collection, and no more executions in memory than one batch refers to.

Runs are ordered by their task (created_at, then id), then by start within a task.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING

from engine.workflow.attempts import attempt_ids, current_attempt_ids
from schemas.states import ExecutionState
from squall.api.errors import not_found
from squall.api.v2.format import ListQuery, after_marker, invalid_field
from squall.api.v2.tasks import holds
from squall.services import Services

Doc = dict[str, Any]
#: Task index entries read (and executions loaded) per round.
BATCH = 100
#: API filter → field of a ``Row``.
COLUMNS = {
    "name": "name",
    "state": "state",
    "workflow_name": "workflow_name",
    "task_name": "task_name",
    "task_execution_id": "task_execution_id",
    "created_at": "created_at",
}
#: Mistral's filters on JSON documents and on fields Squall does not keep.
REFUSED = frozenset(
    {"tags", "updated_at", "state_info", "accepted", "input", "output", "params", "description"}
)


@dataclass
class Row:
    """One action run with what its view needs from its task and execution."""

    run: Doc
    task: Doc
    workflow_name: str

    @property
    def accepted(self) -> bool:
        """Mistral's ``accepted``: the run finished and its result is the one its task
        (or item) holds, i.e. no later attempt (a retry or a rerun) replaced it."""
        if ExecutionState(self.shown_state) not in (
            ExecutionState.SUCCESS,
            ExecutionState.ERROR,
            ExecutionState.CANCELLED,
        ):
            return False
        return self.run["_id"] in current_attempt_ids(self.task)

    @property
    def shown_state(self) -> str:
        """The state Mistral would show (an action waiting for its result is RUNNING)."""
        state = str(self.run.get("state") or "RUNNING")
        return state if state in ExecutionState.__members__ else "RUNNING"

    def field(self, name: str) -> Any:
        """The value a filter compares."""
        return {
            "name": self.run.get("action"),
            "state": self.shown_state,
            "workflow_name": self.workflow_name,
            "task_name": self.task.get("name"),
            "task_execution_id": self.task.get("id"),
            "created_at": self.run.get("started_at"),
        }[name]


def run_ids(task: Doc) -> list[str]:
    """Every run id a task's attempts may have used (the ones never claimed are not found)."""
    return [] if task.get("type") == "WORKFLOW" else attempt_ids(task)


async def _index_entries(
    svc: Services, owner: str, query: ListQuery, task_id: str | None, start: Doc | None
) -> AsyncIterator[list[Doc]]:
    """The project's task index entries in page order, in batches."""
    condition: Doc = {"project": owner}
    if task_id is not None:
        condition["_id"] = task_id
    # Plain equality filters on what the index holds narrow the walk itself.
    for api_name, stored in (("task_name", "name"), ("task_execution_id", "_id")):
        value = query.filters.get(api_name)
        if value is not None and not isinstance(value, dict):
            condition[stored] = value
    if start is not None:
        # The marker's task is read again: its runs after the marker belong to the page.
        condition = {
            "$and": [condition, {"$or": [{"_id": start["_id"]}, after_marker(start, query.sort)]}]
        }
    cursor = svc.engine_store.tasks.find(condition).sort(query.sort)
    batch: list[Doc] = []
    async for entry in cursor:
        batch.append(entry)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


async def _rows(svc: Services, entries: list[Doc], descending: bool) -> list[Row]:
    executions = await svc.engine_store.load_executions({e["execution_id"] for e in entries})
    tasks: list[tuple[Doc, str]] = []
    for entry in entries:
        execution = executions.get(entry["execution_id"])
        task = (execution or {}).get("tasks", {}).get(entry["_id"])
        if execution is not None and task is not None:
            tasks.append((task, execution["workflow_name"]))
    wanted = [run_id for task, _ in tasks for run_id in run_ids(task)]
    found = {r["_id"]: r async for r in svc.db["action_runs"].find({"_id": {"$in": wanted}})}
    rows = []
    for task, workflow_name in tasks:
        runs = [found[i] for i in run_ids(task) if i in found]
        runs.sort(key=lambda r: (r.get("started_at"), r["_id"]), reverse=descending)
        rows += [Row(run, task, workflow_name) for run in runs]
    return rows


async def _marker_task(svc: Services, owner: str, marker: str) -> Doc:
    run = await svc.db["action_runs"].find_one({"_id": marker}, {"task_id": 1})
    entry = None
    if run is not None:
        entry = await svc.engine_store.tasks.find_one({"_id": run.get("task_id"), "project": owner})
    if entry is None:
        raise not_found("ActionExecution", marker)
    return entry


async def page_of_runs(
    svc: Services, owner: str, query: ListQuery, task_id: str | None
) -> list[Row]:
    """One page of the project's action runs (of one task when ``task_id``)."""
    if [key for key, _ in query.sort][:1] != ["created_at"]:
        raise invalid_field(
            "sort_keys", query.sort[0][0], "action executions sort by created_at only"
        )
    descending = query.sort[0][1] != ASCENDING
    start = await _marker_task(svc, owner, query.marker) if query.marker else None
    passed_marker = start is None
    page: list[Row] = []
    async for entries in _index_entries(svc, owner, query, task_id, start):
        for row in await _rows(svc, entries, descending):
            if not passed_marker:
                passed_marker = row.run["_id"] == query.marker
                continue
            if all(holds(row.field(k), v) for k, v in query.filters.items()):
                page.append(row)
                if len(page) == query.limit:
                    return page
    return page
