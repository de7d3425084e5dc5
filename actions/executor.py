"""The executor: runs action requests from Kafka, at most once per attempt.

Each request names one action execution. Before running it the executor claims that
id in MongoDB (a unique ``_id``), so a redelivered request finds the claim instead of
running the action again: it re-sends a stored result, waits for a live owner, or
takes over from a dead one (noticed by its stale heartbeat). An interrupted action
is re-run only if its task is marked ``safe-rerun``; otherwise it fails, so no
execution waits forever for an executor that died.

An async action (std.async_noop, std.mistral_http) only starts here: its claim then
waits (``WAITING``) for the result the API receives (Mistral's ``PUT
/v2/action_executions/{id}``). Nobody heartbeats a waiting claim, and a redelivered
request leaves it alone: the action is neither failed nor started again.

Limits: each action name may have its own bound on concurrent runs (on top of the
process-wide one the consumer loop enforces). An action runs for at most its
request's timeout (the task's ``timeout``), else its name's configured timeout, else
the default one; for an async action this bounds only the call that starts it. An
output whose JSON is larger than ``large_result_bytes`` is stored in the ``results``
collection and the result carries its id (``output_ref``) instead, so messages stay
small.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from actions.catalogue import (
    ActionCatalogue,
    ActionContext,
    ActionOutcome,
    ActionSettings,
    SecurityContext,
)
from actions.coalesce import CoalescingWriter
from schemas import ActionRequest, ActionResult
from schemas.actions import decode_action_request
from schemas.base import UndecodableMessage, utcnow
from schemas.bus import DeadLetter, InboundRecord, Outbound, Publisher, Topics
from schemas.masking import mask_secrets

log = logging.getLogger(__name__)

Doc = dict[str, Any]

INTERRUPTED = "action execution was interrupted: the executor running it stopped"

#: A claim whose action an executor is running (and heartbeats).
RUNNING = "RUNNING"
#: A claim whose async action started and waits for its result through the API.
WAITING = "WAITING"
#: The states of a claim whose outcome is still open.
UNFINISHED = (RUNNING, WAITING)

#: Largest output stored by reference: MongoDB documents stop at 16 MiB.
MAX_STORED_RESULT_BYTES = 15 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ExecutorLimits:
    """Bounds on what one executor process runs.

    Attributes:
        per_action: most concurrent runs of an action, by action name.
        timeouts: timeout of an action whose request sets none, by action name.
        default_timeout_s: timeout of any other action whose request sets none.
        large_result_bytes: outputs whose JSON is larger travel by reference.
    """

    per_action: Mapping[str, int] = field(default_factory=dict)
    timeouts: Mapping[str, float] = field(default_factory=dict)
    default_timeout_s: float | None = None
    large_result_bytes: int = 256 * 1024


class Executor:
    """Runs one action request at a time per call; many calls run concurrently."""

    def __init__(
        self,
        db: AsyncDatabase[Doc],
        catalogue: ActionCatalogue,
        publisher: Publisher,
        topics: Topics,
        settings: ActionSettings,
        *,
        heartbeat_s: float,
        stale_after_s: float,
        limits: ExecutorLimits | None = None,
    ) -> None:
        self._runs = db["action_runs"]
        self._writes = CoalescingWriter(self._runs)
        self._results = db["results"]
        self._limits = limits or ExecutorLimits()
        self._slots = {
            name: asyncio.Semaphore(count) for name, count in self._limits.per_action.items()
        }
        self._catalogue = catalogue
        self._publisher = publisher
        self._topics = topics
        self._settings = settings
        self._heartbeat_s = heartbeat_s
        self._stale_after = timedelta(seconds=stale_after_s)
        self.owner = f"executor-{uuid.uuid4()}"

    async def handle(self, record: InboundRecord) -> None:
        """Run the request in ``record`` (or settle it from its claim) and report."""
        try:
            request = decode_action_request(record.value or b"")
        except UndecodableMessage as exc:
            log.warning("dead-lettering %s@%d: %s", record.topic, record.offset, exc)
            await self._publisher.publish(
                [DeadLetter.outbound(self._topics, record, str(exc), "executor")]
            )
            return
        result = await self._settle(request)
        if result is not None:
            await self._report(result)

    async def _settle(self, request: ActionRequest) -> ActionResult | None:
        """Run or settle the request; return a result still to report (None: reported,
        or nothing to report yet)."""
        while True:
            claim = await self._claim(request)
            if claim is None:
                await self._run(request)
                return None
            if claim["state"] in ("SUCCESS", "ERROR"):
                return _result_from_claim(request, claim)
            if claim["state"] == WAITING:
                log.debug("%s waits for its result through the API", request.action_execution_id)
                return None
            if claim["heartbeat_at"] + self._stale_after > utcnow():
                await asyncio.sleep(self._heartbeat_s)
                continue
            if await self._take_over(claim):
                if request.safe_rerun:
                    log.info("re-running %s (safe-rerun): its executor stopped", request.action)
                    await self._run(request)
                    return None
                await self._finish(
                    request, ActionOutcome(state="ERROR", error=INTERRUPTED), utcnow()
                )
                return None

    async def _claim(self, request: ActionRequest) -> Doc | None:
        """Claim the action execution; None when claimed now, else the existing claim."""
        now = utcnow()
        claimed = await self._writes.insert(
            {
                "_id": request.action_execution_id,
                "execution_id": request.execution_id,
                "task_id": request.task_id,
                "item_index": request.item_index,
                "attempt": request.attempt,
                "action": request.action,
                "input": mask_secrets(request.input),
                "state": RUNNING,
                "owner": self.owner,
                "started_at": now,
                "heartbeat_at": now,
            }
        )
        if claimed:
            return None
        return await self._runs.find_one({"_id": request.action_execution_id})

    async def _take_over(self, claim: Doc) -> bool:
        result = await self._runs.update_one(
            {"_id": claim["_id"], "state": RUNNING, "heartbeat_at": claim["heartbeat_at"]},
            {"$set": {"owner": self.owner, "heartbeat_at": utcnow()}},
        )
        return result.modified_count == 1

    async def _run(self, request: ActionRequest) -> None:
        started = utcnow()
        ctx = ActionContext(
            execution_id=request.execution_id,
            task_id=request.task_id,
            task_name=request.task_name,
            workflow_name=request.workflow_name,
            action_execution_id=request.action_execution_id,
            project=request.project,
            settings=self._settings,
            security=(
                SecurityContext(
                    auth_token=request.security.auth_token,
                    project_id=request.security.project_id,
                    cloud=request.security.cloud,
                )
                if request.security is not None
                else None
            ),
        )
        # The claim stays alive while the run waits for a slot of its action.
        beat = asyncio.create_task(self._heartbeat(request.action_execution_id))
        timeout_s = request.timeout_s or self._limits.timeouts.get(
            request.action, self._limits.default_timeout_s
        )
        try:
            async with self._slot(request.action):
                log.debug("running %s (%s)", request.action, request.action_execution_id)
                outcome = await self._catalogue.run(
                    request.action, request.input, ctx, timeout_s=timeout_s
                )
        finally:
            beat.cancel()
            with suppress(asyncio.CancelledError):
                await beat
        await self._finish(request, outcome, started)

    def _slot(self, action: str) -> AbstractAsyncContextManager[Any]:
        return self._slots.get(action) or nullcontext()

    async def _heartbeat(self, action_execution_id: str) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_s)
            await self._writes.update(
                {"_id": action_execution_id, "owner": self.owner},
                {"$set": {"heartbeat_at": utcnow()}},
            )

    async def _finish(
        self, request: ActionRequest, outcome: ActionOutcome, started: datetime
    ) -> None:
        # The conditions on the state keep an outcome the API recorded first: a callee
        # may post its result before the call that started the action returns.
        if outcome.is_async:
            await self._writes.update(
                {"_id": request.action_execution_id, "owner": self.owner, "state": RUNNING},
                {"$set": {"state": WAITING, "waiting_since": utcnow()}},
            )
            return
        outcome, output_ref = await self._store_large_output(request, outcome)
        finished = utcnow()
        result = _result(
            request, outcome.state, outcome.output, outcome.error, started, finished, output_ref
        )
        # Recording the outcome and reporting it are independent: if the process dies
        # after reporting but before recording, the redelivered request finds a stale
        # claim and reports an interruption, which the engine ignores for a task that
        # already has its result.
        await asyncio.gather(
            self._writes.update(
                {"_id": request.action_execution_id, "owner": self.owner, "state": RUNNING},
                {
                    "$set": {
                        "state": outcome.state,
                        "output": outcome.output,
                        "output_ref": output_ref,
                        "error": outcome.error,
                        "finished_at": finished,
                    }
                },
            ),
            self._report(result),
        )
        log.debug("%s %s (%s)", request.action, outcome.state, request.action_execution_id)

    async def _store_large_output(
        self, request: ActionRequest, outcome: ActionOutcome
    ) -> tuple[ActionOutcome, str | None]:
        """Move an output larger than the threshold into ``results``; return its ref."""
        if outcome.output is None:
            return outcome, None
        size = len(json.dumps(outcome.output, default=str).encode())
        if size <= self._limits.large_result_bytes:
            return outcome, None
        if size > MAX_STORED_RESULT_BYTES:
            error = (
                f"Action '{request.action}' output is {size} bytes of JSON, more than the "
                f"largest storable result ({MAX_STORED_RESULT_BYTES} bytes)"
            )
            return ActionOutcome(state="ERROR", error=error), None
        ref = request.action_execution_id
        await self._results.replace_one(
            {"_id": ref}, {"_id": ref, "value": outcome.output}, upsert=True
        )
        return outcome.model_copy(update={"output": None}), ref

    async def _report(self, result: ActionResult) -> None:
        await self._publisher.publish(
            [
                Outbound(
                    self._topics.commands, result.execution_id, result.model_dump_json().encode()
                )
            ]
        )


def _result(
    request: ActionRequest,
    state: str,
    output: Any,
    error: str | None,
    started: datetime | None,
    finished: datetime,
    output_ref: str | None = None,
) -> ActionResult:
    return ActionResult(
        command_id=f"result:{request.action_execution_id}",
        execution_id=request.execution_id,
        task_id=request.task_id,
        action_execution_id=request.action_execution_id,
        item_index=request.item_index,
        attempt=request.attempt,
        state="SUCCESS" if state == "SUCCESS" else "ERROR",
        output=output,
        output_ref=output_ref,
        error=error,
        started_at=started,
        finished_at=finished,
    )


def _result_from_claim(request: ActionRequest, claim: Doc) -> ActionResult:
    return _result(
        request,
        claim["state"],
        claim.get("output"),
        claim.get("error"),
        claim.get("started_at"),
        claim.get("finished_at") or utcnow(),
        claim.get("output_ref"),
    )
