"""Delays survive an engine crash: a retry delay and a wait-before fire after a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from squall.settings import Settings
from tests.harness import RoleProcess, running, wait_for

DEFINITIONS = """
version: '2.0'
name: delays
workflows:
  retried:
    tasks:
      flaky:
        action: std.fail
        retry: {count: 1, delay: 3}
  waited:
    tasks:
      later:
        action: std.echo output=ok
        wait-before: 3
        publish: {v: <% task().result %>}
"""


async def test_retry_delay_and_wait_before_fire_after_an_engine_restart(
    settings: Settings, db: AsyncDatabase[dict[str, Any]], tmp_path: Path
) -> None:
    async with running(settings, {"api", "executor"}) as api:
        await api.apply(DEFINITIONS)
        engine = RoleProcess(settings, "engine", tmp_path / "engine.log")
        try:
            ids = []
            for name in ("retried", "waited"):
                status, body = await api.request(
                    "POST", "/v1/executions", json={"workflow_name": name}
                )
                assert status == 201
                ids.append(body["id"])

            async def both_delayed() -> bool:
                docs = [await api.execution(i) for i in ids]
                return all(
                    d and d["tasks"] and d["tasks"][0]["state"] == "RUNNING_DELAYED" for d in docs
                )

            await wait_for(both_delayed, 30)
            assert await db["delays"].count_documents({}) == 2
            engine.kill()
            await asyncio.sleep(3.5)  # both delays come due while no engine runs
            engine = RoleProcess(settings, "engine", tmp_path / "engine.log")

            retried = await api.finished(ids[0], timeout=30)
            assert retried["state"] == "ERROR"
            assert retried["tasks"][0]["runtime_context"]["retry_task_policy"] == {"retry_no": 1}
            assert retried["state_info"].count("idx=") == 2  # two attempts, not three

            waited = await api.finished(ids[1], timeout=30)
            assert waited["state"] == "SUCCESS"
            assert waited["output"] == {"v": "ok"}

            async def fired() -> bool:
                return await db["delays"].count_documents({}) == 0

            await wait_for(fired, 10)
            runs = await db["action_runs"].count_documents({"execution_id": ids[0]})
            assert runs == 2
        finally:
            engine.stop()
