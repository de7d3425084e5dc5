"""Evaluation records: why a rule fired, or why it did not, for each event it matched.

One document per (event, rule) whose pattern matched, in ``rule_evaluations``, keyed
``<project>/<event id>/<rule>`` so the records of one event are one ``_id`` range and
a redelivered event finds its earlier decision by key. Records expire (``expires_at``,
purged in batches by ``purge_expired``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, DeleteMany
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from engine.store import insert_once

Doc = dict[str, Any]
COLLECTION = "rule_evaluations"
#: The MongoDB-compatible server answers ``$in`` lookups fastest in small groups.
_LOOKUP_CHUNK = 100
_DELETE_CHUNK = 1000

#: Outcomes after which the rule's target runs (or will run).
STARTED = frozenset({"fired", "queued"})


def evaluation_id(project: str, event_id: str, rule: str) -> str:
    """The key of the record of ``rule`` evaluated on one event."""
    return f"{project}/{event_id}/{rule}"


@dataclass(frozen=True)
class EvaluationRecord:
    """What one rule decided for one event.

    ``outcome`` is one of: ``fired``, ``queued`` (waits for the running execution of
    its concurrency key), ``correlating`` (a correlation rule still waits for more of
    its patterns), ``condition_false``, ``condition_error``, ``input_error``,
    ``key_error`` (a policy or correlation key expression failed), ``dedupe``, ``rate_limit``,
    ``cooldown``, ``concurrency_skip``, ``concurrency_cancel`` (cancelled the running
    execution, started nothing) or ``cancel_on``.
    """

    project: str
    rule: str
    event_id: str
    outcome: str
    at: datetime
    expires_at: datetime
    reason: str | None = None
    execution_id: str | None = None
    cancelled: tuple[str, ...] = ()
    event_type: str | None = None
    event_source: str | None = None
    replayid: str | None = None
    #: ``cancel`` for the record of a ``cancel-on`` match, so it never shadows the
    #: record of the same rule's own pattern on the same event.
    suffix: str = field(default="")
    #: A completed correlation: pattern name → id of the event that counted for it.
    correlated: dict[str, str] | None = None
    #: The StartExecution a completed correlation sent (as JSON), for redeliveries.
    command: Doc | None = None

    @property
    def id(self) -> str:
        """The record's key."""
        return evaluation_id(self.project, self.event_id, self.rule) + self.suffix

    def to_doc(self) -> Doc:
        """The stored form (the correlation fields only where set)."""
        extra: Doc = {}
        if self.correlated is not None:
            extra["correlated"] = self.correlated
        if self.command is not None:
            extra["command"] = self.command
        return {
            "project": self.project,
            "rule": self.rule,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "event_source": self.event_source,
            "replayid": self.replayid,
            "outcome": self.outcome,
            "reason": self.reason,
            "execution_id": self.execution_id,
            "cancelled": list(self.cancelled),
            "at": self.at,
            "expires_at": self.expires_at,
            **extra,
        }


def record_view(doc: Doc) -> Doc:
    """A stored record as the API shows it (JSON-ready)."""
    return {
        "id": doc["_id"],
        **{k: v for k, v in doc.items() if k not in ("_id", "at", "expires_at", "command")},
        "at": doc["at"].isoformat(),
    }


class EvaluationStore:
    """Bulk writes and keyed reads of evaluation records."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.records: AsyncCollection[Doc] = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        """The index behind "the latest evaluations of a rule" and the retention purge."""
        await self.records.create_index(
            [("project", ASCENDING), ("rule", ASCENDING), ("at", DESCENDING)]
        )
        await self.records.create_index([("expires_at", ASCENDING)])

    async def load(self, ids: Iterable[str]) -> dict[str, Doc]:
        """The stored records among ``ids``, by id."""
        wanted = sorted(set(ids))
        found: dict[str, Doc] = {}
        for start in range(0, len(wanted), _LOOKUP_CHUNK):
            chunk = wanted[start : start + _LOOKUP_CHUNK]
            async for doc in self.records.find({"_id": {"$in": chunk}}):
                found[doc["_id"]] = doc
        return found

    async def write(self, records: Sequence[EvaluationRecord]) -> None:
        """Store new records (one bulk insert); a record already stored is kept as is."""
        # A redelivery of a batch whose records were partly written: the first
        # decision stays.
        await insert_once(self.records, [{"_id": r.id, **r.to_doc()} for r in records])

    async def for_event(self, project: str, event_id: str) -> list[Doc]:
        """Every record of one event (one ``_id`` range)."""
        prefix = evaluation_id(project, event_id, "")
        cursor = self.records.find({"_id": {"$gte": prefix, "$lt": prefix + "\uffff"}})
        return [doc async for doc in cursor.sort("_id", ASCENDING)]

    async def for_rule(
        self,
        project: str,
        rule: str,
        *,
        limit: int = 100,
        outcome: str | None = None,
        before: datetime | None = None,
    ) -> list[Doc]:
        """The latest records of one rule, newest first."""
        query: Doc = {"project": project, "rule": rule}
        if outcome is not None:
            query["outcome"] = outcome
        if before is not None:
            query["at"] = {"$lt": before}
        cursor = self.records.find(query).sort("at", DESCENDING).limit(limit)
        return [doc async for doc in cursor]

    async def purge_expired(self, now: datetime, batch: int = _DELETE_CHUNK) -> int:
        """Delete expired records, ``batch`` at a time; return how many went."""
        return await purge_expired(self.records, now, batch)


async def purge_expired(collection: AsyncCollection[Doc], now: datetime, batch: int) -> int:
    """Delete documents whose ``expires_at`` passed, in batches of keyed deletes."""
    removed = 0
    while True:
        cursor = collection.find({"expires_at": {"$lt": now}}, {"_id": 1}).limit(batch)
        ids = [doc["_id"] async for doc in cursor]
        if not ids:
            return removed
        result = await collection.bulk_write([DeleteMany({"_id": {"$in": ids}})])
        removed += result.deleted_count
        if len(ids) < batch:
            return removed
