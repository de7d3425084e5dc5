"""Executor throughput: action runs per second for std.noop and std.http.

Drives ``Executor.handle`` directly (decode, claim in MongoDB, run, record the
outcome, report) with requests already encoded as Kafka records, so the figure is
the executor's own cost without the broker's. The database is the embedded one
(or ``SQUALL_MONGO_URI``); results are kept in memory instead of being published.
std.http calls a local aiohttp server that answers a small JSON body.

Usage: python bench/executor.py [--runs 2000] [--concurrency 1 10 100]
It is a benchmark, not a test: figures vary with the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from pymongo import AsyncMongoClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.catalogue import ActionCatalogue, ActionSettings  # noqa: E402
from actions.executor import Executor  # noqa: E402
from schemas import ActionRequest  # noqa: E402
from schemas.bus import Outbound, Topics  # noqa: E402
from squall.embedded import embedded_servers  # noqa: E402


@dataclass(frozen=True)
class Record:
    """An actions-topic record."""

    value: bytes
    topic: str = "squall.actions"
    partition: int = 0
    offset: int = 0
    key: bytes | None = None


class CountingPublisher:
    """Counts the results instead of sending them."""

    def __init__(self) -> None:
        self.count = 0

    async def publish(self, messages: list[Outbound]) -> None:
        """Count ``messages``."""
        self.count += len(messages)


def records(action: str, input: dict[str, Any], runs: int) -> list[Record]:
    """``runs`` fresh requests for ``action``."""
    made = []
    for _ in range(runs):
        request = ActionRequest(
            action_execution_id=str(uuid.uuid4()),
            execution_id=str(uuid.uuid4()),
            task_id=str(uuid.uuid4()),
            task_name="bench",
            workflow_name="bench",
            action=action,
            input=input,
        )
        made.append(Record(request.model_dump_json().encode()))
    return made


async def measure(executor: Executor, batch: list[Record], concurrency: int) -> float:
    """Runs per second with at most ``concurrency`` in flight."""
    gate = asyncio.Semaphore(concurrency)

    async def one(record: Record) -> None:
        async with gate:
            await executor.handle(record)

    started = time.perf_counter()
    await asyncio.gather(*(one(record) for record in batch))
    return len(batch) / (time.perf_counter() - started)


async def http_server() -> tuple[web.AppRunner, str]:
    """A local endpoint for std.http to call."""

    async def pong(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/ping", pong)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/ping"


async def run(mongo_uri: str, runs: int, levels: list[int]) -> None:
    """Print runs/s for each action and concurrency level, each in a fresh database."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri, tz_aware=True)
    catalogue = ActionCatalogue.default()
    runner, url = await http_server()
    try:
        print(f"{'action':<10} {'concurrency':>11} {'runs/s':>9}")
        for action, input in (("std.noop", {}), ("std.http", {"url": url})):
            for level in levels:
                db = client[f"bench_{uuid.uuid4().hex[:8]}"]
                executor = Executor(
                    db,
                    catalogue,
                    CountingPublisher(),
                    Topics(),
                    ActionSettings(allow_private_networks=True),
                    heartbeat_s=2.0,
                    stale_after_s=10.0,
                )
                await measure(executor, records(action, input, 20), level)  # warm-up
                rate = await measure(executor, records(action, input, runs), level)
                print(f"{action:<10} {level:>11} {rate:>9.0f}")
                await client.drop_database(db.name)
    finally:
        await runner.cleanup()
        await client.close()


def main() -> None:
    """Parse the arguments, start the database if needed, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 100])
    args = parser.parse_args()
    with ExitStack() as stack:
        mongo_uri = os.environ.get("SQUALL_MONGO_URI")
        if not mongo_uri:
            data = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            mongo_uri = stack.enter_context(embedded_servers(data)).mongo_uri
        asyncio.run(run(mongo_uri, args.runs, args.concurrency))


if __name__ == "__main__":
    main()
