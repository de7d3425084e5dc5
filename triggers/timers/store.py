"""Fire claims and per-timer state in MongoDB, by key and in batches.

``timer_fires`` holds one document per fire, ``_id`` = the fire id: inserting it is the
claim, so of several processes exactly one wins. The document keeps the message (an
outbox), so whoever finishes a fire publishes the same bytes. ``timer_state`` holds, per
``project/name``, the last fire published, how many fired since the definition last
changed, and when this definition was first seen.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from schemas.base import as_utc
from schemas.bus import Outbound
from triggers.timers.fires import Fire, parse_stamp, stamp
from triggers.timers.schedule import EPOCH

Doc = dict[str, Any]
FIRES = "timer_fires"
STATES = "timer_state"
#: Fire documents are kept this long after their fire time (a TTL index removes them).
FIRE_RETENTION = timedelta(days=7)
_DUPLICATE_KEY = 11000
# The MongoDB-compatible server answers `$in` lookups fastest in small groups.
_LOOKUP_CHUNK = 100
_WRITE_CHUNK = 1000


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True)
class TimerState:
    """What is stored about one timer: ``last`` fire published (or None), ``fired``
    since its definition last changed, and ``since``, when that definition was first seen.
    """

    last: datetime | None
    since: datetime
    fired: int


@dataclass(frozen=True)
class Claim:
    """A stored fire that is not published yet, and who holds it."""

    fire: Fire
    owner: str
    token: str
    claimed_at: datetime


def _fire_doc(fire: Fire, owner: str, now: datetime) -> Doc:
    return {
        "_id": fire.id,
        "timer": fire.timer,
        "at": fire.at,
        "owner": owner,
        "token": uuid.uuid4().hex,
        "claimed_at": now,
        "published": False,
        "counted": fire.counted,
        "expire_at": fire.at + FIRE_RETENTION,
        "topic": fire.message.topic,
        "key": fire.message.key,
        "value": fire.message.value,
    }


def _claim_from(doc: Doc) -> Claim:
    message = Outbound(doc["topic"], doc["key"], bytes(doc["value"]))
    fire = Fire(doc["_id"], doc["timer"], as_utc(doc["at"]), message, bool(doc.get("counted")))
    return Claim(fire, doc["owner"], doc["token"], as_utc(doc["claimed_at"]))


class FireStore:
    """Claims fires for ``owner`` and records them as published."""

    def __init__(self, db: AsyncDatabase[Doc], owner: str) -> None:
        self._fires = db[FIRES]
        self._states = db[STATES]
        self.owner = owner

    async def ensure_indexes(self) -> None:
        """Create the index that expires old fire documents."""
        await self._fires.create_index("expire_at", expireAfterSeconds=0)

    async def load_states(
        self, timers: Sequence[tuple[str, str]], now: datetime
    ) -> dict[str, TimerState]:
        """State of each ``(timer id, fingerprint)``; a timer seen for the first time, or
        whose fingerprint changed, starts again at ``now`` with nothing fired.
        """
        fresh = {"since": stamp(now), "fired": 0}
        ops = []
        for timer, fingerprint in timers:
            ops.append(
                UpdateOne(
                    {"_id": timer},
                    {"$setOnInsert": {"fingerprint": fingerprint, "last": stamp(EPOCH), **fresh}},
                    upsert=True,
                )
            )
            ops.append(
                UpdateOne(
                    {"_id": timer, "fingerprint": {"$ne": fingerprint}},
                    {"$set": {"fingerprint": fingerprint, **fresh}},
                )
            )
        for chunk in _chunks(ops, _WRITE_CHUNK):
            await self._states.bulk_write(list(chunk), ordered=True)
        docs = await self._lookup(self._states, [timer for timer, _ in timers])
        states = {}
        for timer, doc in docs.items():
            last = parse_stamp(doc["last"])
            states[timer] = TimerState(
                None if last == EPOCH else last, parse_stamp(doc["since"]), int(doc["fired"])
            )
        return states

    async def claim(self, fires: Sequence[Fire], now: datetime) -> tuple[list[Fire], list[Fire]]:
        """Try to claim every fire; return (won, already claimed by someone)."""
        results = await asyncio.gather(
            *(self._claim_chunk(chunk, now) for chunk in _chunks(fires, _WRITE_CHUNK))
        )
        won = [fire for chunk_won, _ in results for fire in chunk_won]
        lost = [fire for _, chunk_lost in results for fire in chunk_lost]
        return won, lost

    async def _claim_chunk(
        self, fires: Sequence[Fire], now: datetime
    ) -> tuple[list[Fire], list[Fire]]:
        try:
            await self._fires.insert_many(
                [_fire_doc(fire, self.owner, now) for fire in fires], ordered=False
            )
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error["code"] != _DUPLICATE_KEY for error in errors):
                raise
            taken = {error["index"] for error in errors}
            won = [fire for i, fire in enumerate(fires) if i not in taken]
            return won, [fire for i, fire in enumerate(fires) if i in taken]
        return list(fires), []

    async def mark_published(self, fires: Sequence[Fire], now: datetime) -> None:
        """Record the fires as published and advance each timer's state once per fire."""
        ordered = sorted(fires, key=lambda fire: fire.at)
        # Only a counted fire needs the conditional increment (once per fire, whoever
        # records it); `$max` is cheaper and just as repeatable for the rest.
        state_ops = [
            UpdateOne(
                {"_id": fire.timer, "last": {"$lt": stamp(fire.at)}},
                {"$set": {"last": stamp(fire.at)}, "$inc": {"fired": 1}},
            )
            if fire.counted
            else UpdateOne({"_id": fire.timer}, {"$max": {"last": stamp(fire.at)}})
            for fire in ordered
        ]
        fire_ops = [
            UpdateOne({"_id": fire.id}, {"$set": {"published": True, "published_at": now}})
            for fire in ordered
        ]
        await asyncio.gather(
            *(
                self._states.bulk_write(list(c), ordered=True)
                for c in _chunks(state_ops, _WRITE_CHUNK)
            ),
            *(
                self._fires.bulk_write(list(c), ordered=False)
                for c in _chunks(fire_ops, _WRITE_CHUNK)
            ),
        )

    async def lookup(self, fire_ids: Sequence[str]) -> tuple[set[str], list[Claim]]:
        """Which of ``fire_ids`` were claimed by anyone, and those still unpublished."""
        docs = await self._lookup(self._fires, fire_ids)
        return set(docs), [_claim_from(doc) for doc in docs.values() if not doc["published"]]

    async def take_over(self, claim: Claim, now: datetime) -> bool:
        """Take a stale claim from its owner; False if someone else changed it first."""
        result = await self._fires.update_one(
            {"_id": claim.fire.id, "token": claim.token, "published": False},
            {"$set": {"owner": self.owner, "token": uuid.uuid4().hex, "claimed_at": now}},
        )
        return result.modified_count == 1

    async def _lookup(self, collection: Any, ids: Sequence[str]) -> dict[str, Doc]:
        found = await asyncio.gather(
            *(
                collection.find({"_id": {"$in": list(c)}}).to_list()
                for c in _chunks(ids, _LOOKUP_CHUNK)
            )
        )
        return {doc["_id"]: doc for docs in found for doc in docs}
