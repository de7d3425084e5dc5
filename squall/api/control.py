"""Commands the APIs send to the engine, and the brief wait for their effect.

The API writes no execution state itself: it publishes a command keyed by the
execution id and polls the execution document for a moment, so a client that wants
the result of its request (Mistral's ``POST /executions``) usually gets it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from actions.executor import UNFINISHED
from schemas import StartExecution
from schemas.actions import ActionResult
from schemas.base import utcnow
from schemas.bus import Outbound
from schemas.commands import ControlExecution, RerunTask
from schemas.definitions import Workflow
from squall.api.errors import ApiError
from squall.services import Services

Doc = dict[str, Any]
ControlAction = str
#: How long a request waits for the engine to show the effect of its command.
WAIT_S = 3.0
POLL_S = 0.02


def check_input(workflow: Workflow, given: dict[str, Any]) -> None:
    """Refuse missing or unexpected workflow input, with Mistral's message."""
    missing = [p.name for p in workflow.input if not p.has_default and p.name not in given]
    declared = {p.name for p in workflow.input}
    unexpected = sorted(k for k in given if k not in declared)
    if not missing and not unexpected:
        return
    kind = "ReverseWorkflowSpec" if workflow.type == "reverse" else "DirectWorkflowSpec"
    parts = [f"name={workflow.name}", f"class={kind}"]
    if missing:
        parts.append(f"missing={missing}")
    if unexpected:
        parts.append(f"unexpected={unexpected}")
    raise ApiError(400, "invalid_input", f"Invalid input [{', '.join(parts)}]", "input")


async def _publish(services: Services, key: str, payload: bytes) -> None:
    await services.publisher.publish([Outbound(services.topics.commands, key, payload)])


async def wait_for_execution(
    services: Services, execution_id: str, done: Callable[[Doc], bool], timeout: float = WAIT_S
) -> Doc | None:
    """The execution document once ``done`` holds for it, or the last one seen on timeout."""
    deadline = time.monotonic() + timeout
    doc: Doc | None = None
    while True:
        doc = await services.engine_store.executions.find_one({"_id": execution_id})
        if (doc is not None and done(doc)) or time.monotonic() > deadline:
            return doc
        await asyncio.sleep(POLL_S)


async def start(
    services: Services,
    project: str,
    workflow_name: str,
    *,
    execution_id: str | None = None,
    input: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    description: str = "",
) -> str:
    """Publish StartExecution; returns the execution id (client-chosen ids are idempotent)."""
    execution_id = execution_id or str(uuid.uuid4())
    command = StartExecution(
        command_id=f"start:{execution_id}",
        execution_id=execution_id,
        project=project,
        workflow_name=workflow_name,
        input=input or {},
        params=params or {},
        description=description,
    )
    await _publish(services, execution_id, command.model_dump_json().encode())
    return execution_id


async def control(
    services: Services,
    execution_id: str,
    action: str,
    message: str | None = None,
    env: dict[str, Any] | None = None,
) -> None:
    """Publish ControlExecution (pause, resume, cancel, fail or succeed)."""
    command = ControlExecution(
        command_id=f"control:{execution_id}:{uuid.uuid4()}",
        execution_id=execution_id,
        action=action,
        message=message,
        env=env,
    )
    await _publish(services, execution_id, command.model_dump_json().encode())


async def rerun(
    services: Services,
    execution_id: str,
    task_id: str,
    reset: bool = True,
    env: dict[str, Any] | None = None,
) -> None:
    """Publish RerunTask for a failed task."""
    command = RerunTask(
        command_id=f"rerun:{task_id}:{uuid.uuid4()}",
        execution_id=execution_id,
        task_id=task_id,
        reset=reset,
        env=env,
    )
    await _publish(services, execution_id, command.model_dump_json().encode())


async def complete_action(
    services: Services, run: Doc, state: str, output: Any, error: str | None
) -> Doc | None:
    """Record and publish the outcome of an action execution (Mistral's PUT).

    Returns the run as completed, or None when it had already finished otherwise: the
    first outcome recorded is the one the engine gets, however many PUTs race. The same
    outcome sent again is published again, so a client that retries a PUT whose answer
    it lost (or whose API process died before publishing) still gets the result to the
    engine, which ignores a result it already has.
    """
    state = "SUCCESS" if state == "SUCCESS" else "ERROR"
    outcome = {"state": state, "output": output, "error": error, "finished_at": utcnow()}
    runs = services.db["action_runs"]
    recorded = await runs.update_one(
        {"_id": run["_id"], "state": {"$in": list(UNFINISHED)}}, {"$set": outcome}
    )
    if recorded.modified_count != 1:
        stored = await runs.find_one({"_id": run["_id"]})
        if stored is None or any(
            stored.get(key) != outcome[key] for key in ("state", "output", "error")
        ):
            return None
        run, outcome = stored, {**outcome, "finished_at": stored.get("finished_at") or utcnow()}
    # The claim carries the item and attempt, without which the engine cannot tell
    # which item of a with-items task the result belongs to.
    result = ActionResult(
        command_id=f"result:{run['_id']}",
        execution_id=run["execution_id"],
        task_id=run["task_id"],
        action_execution_id=run["_id"],
        item_index=run.get("item_index"),
        attempt=run.get("attempt", 0),
        state=state,
        output=output,
        error=error,
        started_at=run.get("started_at"),
        finished_at=outcome["finished_at"],
    )
    await _publish(services, run["execution_id"], result.model_dump_json().encode())
    return {**run, **outcome}
