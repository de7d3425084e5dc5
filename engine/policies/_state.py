"""Policy state in MongoDB: one ``rule_state`` document per rule, policy and key.

Documents are loaded for a whole batch in one keyed query, changed in memory, and
written back in one bulk write guarded by each document's version: if another engine
changed one meanwhile, ``PolicyConflict`` makes the caller retry the batch. The
``rule_runs`` collection maps a running execution to the concurrency state holding
it, so a lifecycle event finds its key by one ``_id`` lookup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, InsertOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from engine.evaluations import purge_expired
from engine.policies._errors import PolicyConflict

Doc = dict[str, Any]
STATE_COLLECTION = "rule_state"
RUNS_COLLECTION = "rule_runs"
_LOOKUP_CHUNK = 100
_PURGE_CHUNK = 1000


def state_id(project: str, rule: str, policy: str, key: str, scope: str = "") -> str:
    """The key of one policy's state: ``project/rule/policy/[scope]key``."""
    return f"{project}/{rule}/{policy}/{scope}{key}"


@dataclass
class State:
    """One state document in memory; ``version`` is None until it is first stored."""

    id: str
    body: Doc = field(default_factory=dict)
    version: int | None = None
    dirty: bool = False

    def touch(self, expires_at: datetime | None) -> None:
        """Mark changed; ``expires_at`` None keeps it until changed again."""
        self.body["expires_at"] = expires_at
        self.dirty = True


class StateStore:
    """Keyed, versioned access to ``rule_state`` and ``rule_runs``."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.states = db[STATE_COLLECTION]
        self.runs = db[RUNS_COLLECTION]

    async def ensure_indexes(self) -> None:
        """Indexes for the retention purge."""
        await self.states.create_index([("expires_at", ASCENDING)])
        await self.runs.create_index([("expires_at", ASCENDING)])

    async def load(self, ids: Iterable[str]) -> dict[str, State]:
        """The states of ``ids``; empty (unstored) ones for those not found."""
        wanted = sorted(set(ids))
        found = {i: State(i) for i in wanted}
        for start in range(0, len(wanted), _LOOKUP_CHUNK):
            chunk = wanted[start : start + _LOOKUP_CHUNK]
            async for doc in self.states.find({"_id": {"$in": chunk}}):
                key, version = doc.pop("_id"), doc.pop("version")
                found[key] = State(key, doc, version)
        return found

    async def running_states(self, execution_ids: Iterable[str]) -> dict[str, str]:
        """For each execution among ``execution_ids`` that a concurrency key holds, its state id."""
        wanted = sorted(set(execution_ids))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), _LOOKUP_CHUNK):
            chunk = wanted[start : start + _LOOKUP_CHUNK]
            async for doc in self.runs.find({"_id": {"$in": chunk}}):
                found[doc["_id"]] = doc["state"]
        return found

    async def save(
        self, states: Iterable[State], runs: dict[str, tuple[str, datetime | None]]
    ) -> None:
        """Write changed states (version-checked) and execution → state links.

        Raises:
            PolicyConflict: another engine changed one of the states since it was loaded.
        """
        if runs:
            await self.runs.bulk_write(
                [
                    UpdateOne({"_id": e}, {"$set": {"state": s, "expires_at": exp}}, upsert=True)
                    for e, (s, exp) in runs.items()
                ],
                ordered=False,
            )
        ops: list[InsertOne[Doc] | UpdateOne] = []
        updates = 0
        for state in states:
            if not state.dirty:
                continue
            if state.version is None:
                ops.append(InsertOne({"_id": state.id, **state.body, "version": 1}))
            else:
                updates += 1
                ops.append(
                    UpdateOne(
                        {"_id": state.id, "version": state.version},
                        {"$set": state.body, "$inc": {"version": 1}},
                    )
                )
        if not ops:
            return
        try:
            result = await self.states.bulk_write(ops, ordered=False)
        except BulkWriteError as exc:
            raise PolicyConflict(f"policy state created concurrently: {exc.details}") from None
        if result.matched_count != updates:
            raise PolicyConflict(
                f"{updates - result.matched_count} policy state(s) changed concurrently"
            )

    async def purge_expired(self, now: datetime) -> int:
        """Delete expired states and execution links; return how many went."""
        return await purge_expired(self.states, now, _PURGE_CHUNK) + await purge_expired(
            self.runs, now, _PURGE_CHUNK
        )
