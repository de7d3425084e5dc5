"""Delivery guarantees with the roles as real processes: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pymongo.asynchronous.database import AsyncDatabase

from schemas import ActionResult, CloudEvent
from schemas.bus import Topics
from squall.settings import Settings
from tests.harness import Api, RoleProcess, running, wait_for

CHAIN = """
version: '2.0'
name: chain
workflows:
  three_calls:
    input: [url]
    tasks:
      first:
        action: std.http
        input: {url: "<% $.url %>/first"}
        on-success: [second]
      second:
        action: std.http
        input: {url: "<% $.url %>/second"}
        on-success: [third]
      third:
        action: std.http
        input: {url: "<% $.url %>/third"}
rules:
  on_ping:
    pattern: {type: [ping]}
    workflow: three_calls
    input: {url: "{{ event.data.url }}"}
"""

SLEEPERS = """
version: '2.0'
name: sleepers
workflows:
  long_sleep:
    tasks:
      nap:
        action: std.sleep seconds=60
  safe_sleep:
    tasks:
      nap:
        action: std.sleep seconds=4
        safe-rerun: true
"""


class CountingServer:
    """A local HTTP server that counts the calls to each path."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> CountingServer:
        async def handler(request: web.Request) -> web.Response:
            self.calls[request.path] += 1
            return web.json_response({"path": request.path})

        app = web.Application()
        app.router.add_get("/{tail:.*}", handler)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


async def publish(settings: Settings, topic: str, key: str, value: bytes, times: int = 1) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for _ in range(times):
            await producer.send_and_wait(topic, value, key=key.encode())
    finally:
        await producer.stop()


async def drained(settings: Settings, group: str, topic: str, timeout: float = 30.0) -> None:
    """Wait until ``group`` has committed every message of ``topic``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=group)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        if not parts:
            await consumer._client.force_metadata_update()
            parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        ends = await consumer.end_offsets(parts)

        async def caught_up() -> bool:
            for tp in parts:
                committed = await consumer.committed(tp)
                if (committed or 0) < ends[tp]:
                    return False
            return True

        await wait_for(caught_up, timeout, interval=0.2)
    finally:
        await consumer.stop()


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with running(settings, {"api"}) as api:
        await api.apply(CHAIN)
        await api.apply(SLEEPERS)
        yield api


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return tmp_path


async def runs_of(db: AsyncDatabase[dict[str, Any]], execution_id: str) -> list[dict[str, Any]]:
    return [doc async for doc in db["action_runs"].find({"execution_id": execution_id})]


async def test_a_message_delivered_twice_changes_nothing(
    api: Api, settings: Settings, db: AsyncDatabase[dict[str, Any]], logs: Path
) -> None:
    topics = Topics(settings.topic_prefix)
    engine = RoleProcess(settings, "engine", logs / "engine.log")
    executor = RoleProcess(settings, "executor", logs / "executor.log")
    try:
        async with CountingServer() as server:
            event = CloudEvent(source="test", type="ping", data={"url": server.url})
            await publish(settings, topics.events, event.id, event.to_bytes(), times=2)
            (execution_id,) = await api.caused(event.id)
            execution = await api.finished(execution_id)
            assert execution["state"] == "SUCCESS"
            await drained(settings, f"{topics.prefix}engine", topics.commands)
            before = await db["executions"].find_one({"_id": execution_id})
            assert before is not None

            # Replay every result the executor sent: each is a repeat now.
            for run in await runs_of(db, execution_id):
                result = ActionResult(
                    command_id=f"result:{run['_id']}",
                    execution_id=execution_id,
                    task_id=run["task_id"],
                    action_execution_id=run["_id"],
                    state=run["state"],
                    output=run.get("output"),
                )
                await publish(
                    settings, topics.commands, execution_id, result.model_dump_json().encode()
                )
            await publish(settings, topics.events, event.id, event.to_bytes())
            await drained(settings, f"{topics.prefix}engine", topics.commands)
            await drained(settings, f"{topics.prefix}engine", topics.events)

            after = await db["executions"].find_one({"_id": execution_id})
            assert after is not None
            assert after["version"] == before["version"]
            assert after["history"] == before["history"]
            assert await db["executions"].count_documents({}) == 1
            assert server.calls == {"/first": 1, "/second": 1, "/third": 1}
    finally:
        engine.stop()
        executor.stop()


async def test_an_engine_killed_between_write_and_commit_completes_exactly_once(
    api: Api, settings: Settings, db: AsyncDatabase[dict[str, Any]], logs: Path
) -> None:
    topics = Topics(settings.topic_prefix)
    executor = RoleProcess(settings, "executor", logs / "executor.log")
    # Dies right after its second state write: the execution exists and its first
    # task is done, but the request for the second task was never published.
    doomed = RoleProcess(
        settings, "engine", logs / "engine-1.log", SQUALL_FAILPOINT="engine-after-write:2"
    )
    try:
        async with CountingServer() as server:
            event = CloudEvent(source="test", type="ping", data={"url": server.url})
            await publish(settings, topics.events, event.id, event.to_bytes())
            assert await doomed.exited(60) == -9
            (execution_id,) = await api.caused(event.id)
            stored = await db["executions"].find_one({"_id": execution_id})
            assert stored is not None and stored["state"] == "RUNNING"
            assert server.calls == {"/first": 1}

            replacement = RoleProcess(settings, "engine", logs / "engine-2.log")
            try:
                execution = await api.finished(execution_id, timeout=60)
            finally:
                replacement.stop()
            assert execution["state"] == "SUCCESS"
            assert server.calls == {"/first": 1, "/second": 1, "/third": 1}
            assert len(await runs_of(db, execution_id)) == 3
            tasks = [t async for t in db["tasks"].find({"execution_id": execution_id})]
            assert sorted(t["name"] for t in tasks) == ["first", "second", "third"]
            assert [t["name"] for t in execution["tasks"]] == ["first", "second", "third"]
    finally:
        executor.stop()
        doomed.stop()


async def start(api: Api, workflow: str) -> str:
    status, body = await api.request("POST", "/v1/executions", json={"workflow_name": workflow})
    assert status == 201, body
    execution_id: str = body["id"]
    return execution_id


async def claimed(db: AsyncDatabase[dict[str, Any]], execution_id: str) -> Any:
    async def check() -> Any:
        return await db["action_runs"].find_one({"execution_id": execution_id})

    return await wait_for(check, 30)


@pytest.mark.parametrize(
    ("workflow", "state", "runs"),
    [("long_sleep", "ERROR", 1), ("safe_sleep", "SUCCESS", 2)],
)
async def test_an_executor_killed_mid_action_leaves_no_execution_stuck(
    api: Api,
    settings: Settings,
    db: AsyncDatabase[dict[str, Any]],
    logs: Path,
    workflow: str,
    state: str,
    runs: int,
) -> None:
    engine = RoleProcess(settings, "engine", logs / "engine.log")
    victim = RoleProcess(settings, "executor", logs / "executor-1.log")
    survivor: RoleProcess | None = None
    try:
        execution_id = await start(api, workflow)
        first = await claimed(db, execution_id)
        victim.kill()
        survivor = RoleProcess(settings, "executor", logs / "executor-2.log")
        execution = await api.finished(execution_id, timeout=90)
        assert execution["state"] == state
        run = await db["action_runs"].find_one({"_id": first["_id"]})
        assert run is not None and run["owner"] != first["owner"]
        if state == "ERROR":
            assert "executor running it stopped" in execution["tasks"][0]["state_info"]
        assert len(await runs_of(db, execution_id)) == 1  # one action execution, claimed once
        log_text = (logs / "executor-2.log").read_text()
        assert ("re-running" in log_text) == (runs == 2)
    finally:
        engine.stop()
        victim.stop()
        if survivor is not None:
            survivor.stop()


async def test_an_undecodable_message_goes_to_the_dead_letter_topic(
    api: Api, settings: Settings, logs: Path
) -> None:
    topics = Topics(settings.topic_prefix)
    engine = RoleProcess(settings, "engine", logs / "engine.log")
    try:
        await publish(settings, topics.commands, "k", b"\xff not json")
        consumer = AIOKafkaConsumer(
            topics.dead_letters,
            bootstrap_servers=settings.kafka_bootstrap,
            auto_offset_reset="earliest",
            group_id="dlq-reader",
        )
        await consumer.start()
        try:
            message = await asyncio.wait_for(consumer.getone(), 60)
        finally:
            await consumer.stop()
        letter = json.loads(message.value)
        assert letter["topic"] == topics.commands
        assert letter["consumer"] == "engine"
        assert "json" in letter["error"].lower()
    finally:
        engine.stop()
