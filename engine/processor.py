"""The engine's hot path: one batch of records in, state in MongoDB, messages out.

For a batch: decode events and commands; turn events into StartExecution commands
through the rules; load every execution the commands touch in one query; apply the
commands in memory; write all changes in one bulk write guarded by each execution's
version; publish the derived messages and wait for Kafka's acknowledgements. Only
then does the caller commit the offsets.

Each execution document keeps the messages of its latest change (its outbox). A
command that changes nothing (a redelivery) re-publishes that outbox: if the engine
died between writing and publishing, this is how the messages still go out.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any, Protocol

from engine.delays import DelayPoller, DelayStore
from engine.lifecycle import SOURCE, execution_event, task_failed_event
from engine.policies import PolicyGate
from engine.rules import RuleSet
from engine.store import Doc, EngineStore
from engine.workflow import Delay, WorkflowRun
from engine.workflow.adhoc import referenced
from engine.workflow.lookups import (
    RESULT_REF,
    RESULTS_APART,
    Lookups,
    NeedsLoading,
    mentions_lookups,
)
from schemas import ActionResult, CloudEvent, Command, StartExecution, TaskState
from schemas.base import UndecodableMessage, utcnow
from schemas.bus import DeadLetter, InboundRecord, Outbound, Publisher, Topics
from schemas.commands import decode_command
from schemas.definitions import AdHocAction, Workflow
from schemas.events import decode_event

log = logging.getLogger(__name__)

#: A with-items task whose result needed loading may finish another in the same batch
#: (an immediate retry); past this many rounds the rest waits for the next batch.
_COLLECT_ROUNDS = 3
#: Workflow versions whose digest a process remembers before starting afresh.
_DIGEST_CACHE = 4096
#: Times one execution's commands are applied again after loading what ``tasks()`` or
#: ``executions()`` asked for (task results stored apart do not count: each is loaded
#: once); a last pass then fails the expressions still missing data.
_LOOKUP_ROUNDS = 8
#: Results whose message is larger than this many bytes are stored apart by default.
LARGE_RESULT_BYTES = 256 * 1024


class Definitions(Protocol):
    """The engine's read-only view of the loaded definitions."""

    @property
    def rules(self) -> RuleSet:
        """The compiled rules."""

    def workflow(self, project: str, name: str) -> Workflow | None:
        """A workflow definition by project and name."""

    def action(self, project: str, name: str) -> AdHocAction | None:
        """An ad-hoc action by project and name."""


class EngineProcessor:
    """Applies batches of events and commands; stateless between batches."""

    def __init__(
        self,
        store: EngineStore,
        definitions: Definitions,
        publisher: Publisher,
        topics: Topics,
        *,
        retention: timedelta,
        after_write: Callable[[], None] | None = None,
        run_delays: bool = True,
        large_result_bytes: int = LARGE_RESULT_BYTES,
    ) -> None:
        self._store = store
        self._gate = PolicyGate(store.executions.database)
        self._delays = DelayStore(store.executions.database)
        #: Fires the delays this engine stores; started here when ``run_delays`` and an
        #: event loop runs, otherwise the caller runs ``poller.run()`` itself.
        self.poller = DelayPoller(self._delays, publisher, topics)
        self._poller_task: asyncio.Task[None] | None = None
        if run_delays:
            with suppress(RuntimeError):
                asyncio.get_running_loop()
                self._poller_task = asyncio.create_task(self._run_poller())
        self._large_result_bytes = large_result_bytes
        self._definitions = definitions
        self._publisher = publisher
        self._topics = topics
        self._retention = retention
        self._specs: dict[str, Workflow] = {}
        self._digests: dict[int, tuple[Workflow, str]] = {}
        #: Digests of the workflows whose text calls ``tasks()`` or ``executions()``.
        self._lookup_specs: set[str] = set()
        # Observes the moment state is stored but nothing is published yet; the
        # crash tests use it to stop the process exactly there.
        self._after_write = after_write

    async def ensure_indexes(self) -> None:
        """Create the indexes of the delays and the rule policies."""
        await self._delays.ensure_indexes()
        await self._gate.ensure_indexes()

    async def _run_poller(self) -> None:
        await self.ensure_indexes()
        await self.poller.run()

    async def handle(self, records: Sequence[InboundRecord]) -> None:
        """Process one batch; returns once its state is stored and its messages sent."""
        events: list[CloudEvent] = []
        commands: list[Command] = []
        dead: list[Outbound] = []
        large: set[str] = set()
        for record in records:
            try:
                if record.topic == self._topics.events:
                    events.append(decode_event(record.value or b""))
                else:
                    command = decode_command(record.value or b"")
                    commands.append(command)
                    if len(record.value or b"") > self._large_result_bytes and isinstance(
                        command, ActionResult
                    ):
                        large.add(command.action_execution_id)
            except UndecodableMessage as exc:
                log.warning("dead-lettering %s@%d: %s", record.topic, record.offset, exc)
                dead.append(DeadLetter.outbound(self._topics, record, str(exc), "engine"))
        commands = await self._resolve_refs(commands, large)
        now = utcnow()
        admission = await self._gate.admit(self._definitions.rules, events, now)
        commands += admission.commands
        outbound = await self.apply(commands, large)
        # Archived after the executions exist, so what an event caused can be looked up.
        # The engine's own lifecycle events are archived only when they caused something:
        # the execution's history already records them.
        archived = [e for e in events if e.source != SOURCE or e.id in admission.caused]
        await asyncio.gather(
            self._store.archive(
                archived, admission.caused, received_at=now, expires_at=now + self._retention
            ),
            self._publisher.publish(outbound + dead),
        )

    async def _resolve_refs(self, commands: list[Command], large: set[str]) -> list[Command]:
        """Results the executor stored apart: bring the value in for this batch's work
        (publish and transitions read it) and keep only a reference in the document."""
        refs = [c for c in commands if isinstance(c, ActionResult) and c.output_ref is not None]
        if not refs:
            return commands
        values = await asyncio.gather(*(self._store.load_result(c.output_ref or "") for c in refs))
        resolved = {
            id(c): c.model_copy(update={"output": v, "output_ref": None})
            for c, v in zip(refs, values, strict=True)
        }
        large.update(c.action_execution_id for c in refs)
        return [resolved.get(id(c), c) for c in commands]

    async def apply(
        self, commands: Sequence[Command], large: set[str] | None = None
    ) -> list[Outbound]:
        """Apply commands to their executions and store the result; return what to send.

        ``large`` names action executions whose results are stored apart from the
        execution document (see ``large_result_bytes``).
        """
        now = utcnow()
        runs, outbound = await self._apply_commands(commands, now)
        await self._collect_items([run for _, run in runs])
        created: list[Doc] = []
        changed: list[tuple[Doc, Doc]] = []
        tasks: list[Doc] = []
        delays: list[Delay] = []
        item_results: list[tuple[str, int, str, Any]] = []
        apart: dict[str, Any] = {}
        for doc, run in runs:
            if not run.effects.dirty:
                continue
            dirty_tasks = self._dirty_tasks(run)
            apart.update(_set_apart(run, dirty_tasks, large or set(), self._large_result_bytes))
            messages = self._messages(run)
            run.doc["outbox"] = [_to_outbox(m) for m in messages]
            run.effects.dirty.add("outbox")
            # The index entry never changes once written: only tasks this application
            # created need one (a retried batch creates them again, with its own time).
            tasks += [
                self._task_copy(run.doc, t) for t in dirty_tasks if t["created_at"] == run.now
            ]
            delays += run.effects.delays
            item_results += run.effects.item_results
            if doc is None:
                created.append(run.doc)
            else:
                changed.append((doc, self._update(run, now)))
            outbound += messages
        # Everything an execution refers to is stored before the execution itself: a
        # crash in between leaves only orphans that a redelivery rewrites identically.
        await asyncio.gather(
            self._store.write_item_results(item_results),
            self._delays.save(delays),
            self._store.write_results(apart),
            # The query copies of tasks: a copy ahead of a failed execution write is
            # rewritten identically when the batch is retried.
            self._store.write_tasks(tasks),
        )
        await self._store.write(created, changed)
        for delay in delays:
            self.poller.notify(delay.due)
        if self._after_write is not None and (created or changed):
            self._after_write()
        return outbound

    async def _apply_commands(
        self, commands: Sequence[Command], now: datetime
    ) -> tuple[list[tuple[Doc | None, WorkflowRun]], list[Outbound]]:
        """Load the executions ``commands`` touch (one query) and apply them in memory.

        Returns each run with the document it was loaded from (None if new), and the
        outboxes to publish again for repeated commands.
        """
        by_execution: dict[str, list[Command]] = defaultdict(list)
        for command in commands:
            by_execution[command.execution_id].append(command)
        docs = await self._store.load_executions(by_execution)
        lookups = Lookups()
        runs: list[tuple[Doc | None, WorkflowRun]] = []
        outbound: list[Outbound] = []
        for execution_id, batch in by_execution.items():
            doc, run, repeated = await self._apply_to(
                execution_id, docs.get(execution_id), batch, now, lookups
            )
            if run is None:
                log.warning("commands for unknown execution %s ignored", execution_id)
                continue
            if repeated:
                # Whatever the last change derived may never have been sent.
                outbound += [_from_outbox(m) for m in run.doc["outbox"]]
            runs.append((doc, run))
        return runs, outbound

    async def _apply_to(
        self,
        execution_id: str,
        doc: Doc | None,
        batch: list[Command],
        now: datetime,
        lookups: Lookups,
    ) -> tuple[Doc | None, WorkflowRun | None, bool]:
        """Apply ``batch`` to one execution: its document (as applied to), its run, and
        whether a command was a repeat.

        When an expression asks for stored data not loaded yet, it is loaded and the
        batch is applied again to the execution as stored.
        """
        try:
            rounds = 0
            while rounds < _LOOKUP_ROUNDS:
                try:
                    return (doc, *await self._apply_once(doc, batch, now, lookups))
                except NeedsLoading as missing:
                    await self._store.load_lookups(lookups, missing.keys)
                    doc = (await self._store.load_executions([execution_id])).get(execution_id)
                    if not missing.only_results:
                        rounds += 1
            lookups.final = True
            return (doc, *await self._apply_once(doc, batch, now, lookups))
        finally:
            lookups.final = False

    async def _apply_once(
        self, doc: Doc | None, batch: list[Command], now: datetime, lookups: Lookups
    ) -> tuple[WorkflowRun | None, bool]:
        run = await self._run_for(doc, now, lookups) if doc is not None else None
        repeated = False
        for command in batch:
            if isinstance(command, StartExecution):
                if run is None:
                    run = await self._start(command, now, lookups)
                else:
                    repeated = True
            elif run is None or not run.apply(command):
                repeated = True
        if run is not None and run.lookups is not None:
            # Finishing its with-items may call tasks() too: done here, where a miss
            # can still be loaded and the batch applied again.
            await self._collect_items([run])
        return run, repeated

    async def _collect_items(self, runs: list[WorkflowRun]) -> None:
        """Finish with-items tasks whose last items ended, with results from storage."""
        for _ in range(_COLLECT_ROUNDS):
            pending = [(run, task_id) for run in runs for task_id in run.effects.collect]
            if not pending:
                return
            for run in runs:
                run.effects.collect.clear()
            loaded = await asyncio.gather(
                *(
                    self._store.load_item_results(
                        task_id, run.doc["tasks"][task_id]["items"]["count"]
                    )
                    for run, task_id in pending
                )
            )
            for (run, task_id), stored in zip(pending, loaded, strict=True):
                run.collect(task_id, stored)

    async def _start(self, command: StartExecution, now: Any, lookups: Lookups) -> WorkflowRun:
        spec = self._definitions.workflow(command.project, command.workflow_name)
        if spec is None:
            return WorkflowRun.rejected(
                command, f"Workflow not found [name={command.workflow_name}]", now
            )
        digest = await self._remember(spec)
        run = WorkflowRun.new(command, spec, digest, now, self._adhoc_actions(command, spec))
        self._lend(run, lookups)
        run.start()
        return run

    def _adhoc_actions(self, command: StartExecution, spec: Workflow) -> dict[str, AdHocAction]:
        lookup = self._definitions.action
        known: dict[str, AdHocAction] = {}
        pending = [t.action for t in spec.tasks.values() if t.action]
        while pending:
            name = pending.pop()
            if name in known:
                continue
            action = lookup(command.project, name)
            if isinstance(action, AdHocAction):
                known[name] = action
                pending.append(action.base)
        return referenced(list(known), known)

    async def _remember(self, spec: Workflow) -> str:
        # The definitions view hands out the same object until the definition changes,
        # so each version is hashed and stored once per process, not once per start.
        known = self._digests.get(id(spec))
        if known is not None and known[0] is spec:
            return known[1]
        definition = spec.model_dump(mode="json", by_alias=True)
        digest = await self._store.save_spec(definition)
        self._learn(digest, spec, definition)
        if len(self._digests) >= _DIGEST_CACHE:
            self._digests.clear()
        self._digests[id(spec)] = (spec, digest)
        return digest

    def _learn(self, digest: str, spec: Workflow, definition: dict[str, Any]) -> Workflow:
        self._specs[digest] = spec
        if mentions_lookups(json.dumps(definition, default=str)):
            self._lookup_specs.add(digest)
        return spec

    def _lend(self, run: WorkflowRun, lookups: Lookups) -> None:
        """Give ``run`` the batch's lookups if its workflow calls tasks() or executions()
        or a result of its tasks is stored apart."""
        if run.doc["spec_hash"] in self._lookup_specs or run.doc.get(RESULTS_APART):
            run.lookups = lookups

    async def _run_for(self, doc: Doc, now: Any, lookups: Lookups) -> WorkflowRun | None:
        digest = doc["spec_hash"]
        spec = self._specs.get(digest)
        if spec is None:
            definition = await self._store.load_spec(digest)
            if definition is None:
                log.error("execution %s has no stored workflow definition", doc["_id"])
                return None
            spec = self._learn(digest, Workflow.model_validate(definition), definition)
        run = WorkflowRun(doc, spec, now)
        self._lend(run, lookups)
        return run

    def _messages(self, run: WorkflowRun) -> list[Outbound]:
        doc, effects = run.doc, run.effects
        out = [
            Outbound(self._topics.actions, r.action_execution_id, r.model_dump_json().encode())
            for r in effects.requests
        ]
        out += [
            Outbound(self._topics.commands, c.execution_id, c.model_dump_json().encode())
            for c in effects.commands
        ]
        events: list[CloudEvent] = []
        if effects.started:
            events.append(execution_event(doc, "RUNNING", run.now))
        events += [
            task_failed_event(doc, doc["tasks"][key.split(".", 1)[1]], run.now)
            for key in sorted(effects.dirty)
            if key.startswith("tasks.") and doc["tasks"][key.split(".", 1)[1]]["state"] == "ERROR"
        ]
        if effects.finished:
            events.append(execution_event(doc, doc["state"], run.now))
        out += [Outbound(self._topics.events, e.subject or e.id, e.to_bytes()) for e in events]
        return out

    @staticmethod
    def _dirty_tasks(run: WorkflowRun) -> list[Doc]:
        return [
            run.doc["tasks"][key.split(".", 1)[1]]
            for key in run.effects.dirty
            if key.startswith("tasks.")
        ]

    @staticmethod
    def _task_copy(doc: Doc, task: Doc) -> Doc:
        return {
            "_id": task["id"],
            "execution_id": doc["_id"],
            "project": doc["project"],
            "name": task["name"],
            "created_at": task["created_at"],
        }

    @staticmethod
    def _update(run: WorkflowRun, now: Any) -> Doc:
        doc = run.doc
        fields: Doc = {"updated_at": now}
        for key in run.effects.dirty:
            if key.startswith("tasks."):
                fields[key] = doc["tasks"][key.split(".", 1)[1]]
            else:
                fields[key] = doc[key]
        update: Doc = {"$set": fields, "$inc": {"version": 1}}
        if run.effects.history:
            update["$push"] = {"history": {"$each": run.effects.history}}
        return update


def _set_apart(run: WorkflowRun, tasks: list[Doc], large: set[str], limit: int) -> dict[str, Any]:
    """Move the large results of ``tasks`` out of the document, leaving a reference (and
    a mark on the document, so that later batches read them back).

    A with-items result larger than ``limit`` bytes is only dropped: its items are
    stored apart already.
    """
    apart: dict[str, Any] = {}
    items_apart = False
    for task in tasks:
        aeid = task.get("action_execution_id")
        if "items" in task:
            if _large_items(task, limit):
                task.update(result=None, result_ref="items")
                items_apart = True
        elif aeid in large and task["result"] is not None:
            apart[aeid] = task["result"]
            task["result"] = {RESULT_REF: aeid}
    if apart or items_apart:
        run.doc[RESULTS_APART] = True
        run.effects.dirty.add(RESULTS_APART)
    return apart


def _large_items(task: Doc, limit: int) -> bool:
    """Whether ``task`` ended holding a with-items result of more than ``limit`` bytes."""
    result = task["result"]
    return (
        isinstance(result, list)
        and TaskState(task["state"]).is_final
        and len(json.dumps(result, default=str).encode()) > limit
    )


def _to_outbox(message: Outbound) -> Doc:
    return {"topic": message.topic, "key": message.key, "value": message.value.decode()}


def _from_outbox(stored: Doc) -> Outbound:
    return Outbound(stored["topic"], stored["key"], stored["value"].encode())
