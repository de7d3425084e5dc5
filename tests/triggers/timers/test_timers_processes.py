"""The issue's proof: three timer processes, one SIGKILLed mid-run, fire every scheduled
second exactly once with no gap.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from schemas.bus import Topics
from schemas.definitions import load_definitions
from squall.definitions import DefinitionsStore
from squall.settings import Settings
from tests.harness import RoleProcess, wait_for
from tests.triggers.timers.timers_support import events, read_topic

DEFINITIONS = """
version: '2.0'
name: clock
timers:
  heartbeat:
    interval: 1
    event: {type: clock.tick, data: {source: proof}}
"""
#: Survivors take a dead process's claim over after TimerService's default 30 s.
TAKEOVER_S = 33


async def test_one_of_three_processes_killed_no_fire_lost_or_doubled(
    settings: Settings, db: AsyncDatabase[dict[str, Any]], tmp_path: Path
) -> None:
    await DefinitionsStore(db).apply(load_definitions(DEFINITIONS), "default")
    procs = [RoleProcess(settings, "timer", tmp_path / f"timer{i}.log") for i in range(3)]
    try:

        async def fired() -> bool:
            return await db["timer_fires"].count_documents({"published": True}) >= 3

        await wait_for(fired, timeout=60)
        await asyncio.sleep(3)
        procs[0].kill()
        await asyncio.sleep(TAKEOVER_S)
        first_stop = datetime.now(UTC)
    finally:
        for proc in procs:
            proc.stop()
    records = await read_topic(settings.kafka_bootstrap or "", Topics(settings.topic_prefix).events)
    ids: dict[datetime, set[str]] = defaultdict(set)
    for event in events(records):
        ids[datetime.fromisoformat(event["data"]["scheduled"])].add(event["id"])
    # A re-publish after the kill carries the same id; each fire has exactly one.
    assert all(len(found) == 1 for found in ids.values()), ids
    checked = sorted(t for t in ids if t < first_stop - timedelta(seconds=2))
    assert len(checked) >= TAKEOVER_S
    expected = [checked[0] + timedelta(seconds=i) for i in range(len(checked))]
    assert checked == expected, sorted(set(expected) - set(checked))
