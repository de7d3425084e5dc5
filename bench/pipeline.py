"""End-to-end benchmark of the webhook → rule → execution → action pipeline.

Starts the embedded broker and database and Squall's api, engine and executor roles as
separate processes, then prints, from one run:

  (a) the raw aiokafka produce → consume rate on that broker (the ceiling);
  (b) webhook accepted → first action started, p50 and p99, at a steady rate;
  (c) the highest sustained rate of webhook → rule → execution → std.noop → SUCCESS;
  (d) the engine's peak RSS.

Usage: python bench/pipeline.py [--rate 200] [--seconds 30] [--burst 3000]
It is a benchmark, not a test: figures vary with the machine; compare runs made
back to back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from schemas.bus import Topics  # noqa: E402
from schemas.ids import derive_id  # noqa: E402
from squall.embedded import EmbeddedServers, embedded_servers, free_port  # noqa: E402

TOKEN = "bench-secret-0123"
DEFINITIONS = f"""
version: '2.0'
name: bench
workflows:
  one_noop:
    input: [n]
    tasks:
      only:
        action: std.noop
hooks:
  bench: {{adapter: generic, secret: {TOKEN}, type: bench.ping}}
rules:
  on_ping:
    pattern: {{type: [bench.ping]}}
    workflow: one_noop
    input: {{n: "<% $.data.n %>"}}
"""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def raw_kafka(bootstrap: str, count: int = 20000) -> float:
    """(a) messages/s for produce → consume of ``count`` 300-byte messages."""
    topic = f"bench-raw-{os.getpid()}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=1)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=topic, auto_offset_reset="earliest"
    )
    await producer.start()
    await producer.send_and_wait(topic, b"warm-up")
    await consumer.start()
    payload = b"x" * 300
    started = time.perf_counter()

    async def produce() -> None:
        futures = [await producer.send(topic, payload) for _ in range(count)]
        await asyncio.gather(*futures)

    sender = asyncio.create_task(produce())
    seen = 0
    while seen < count + 1:
        batch = await consumer.getmany(timeout_ms=1000)
        seen += sum(len(b) for b in batch.values())
    await sender
    elapsed = time.perf_counter() - started
    await consumer.stop()
    await producer.stop()
    return count / elapsed


class Stack:
    """Squall's roles as processes against the embedded servers."""

    def __init__(self, servers: EmbeddedServers, workdir: Path) -> None:
        self.port = free_port()
        self.prefix = f"bench{os.getpid()}."
        self.db = f"bench_{os.getpid()}"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SQUALL_KAFKA_BOOTSTRAP": servers.kafka_bootstrap,
            "SQUALL_MONGO_URI": servers.mongo_uri,
            "SQUALL_MONGO_DB": self.db,
            "SQUALL_TOPIC_PREFIX": self.prefix,
            "SQUALL_HTTP_PORT": str(self.port),
            "SQUALL_LOG_LEVEL": "WARNING",
            "SQUALL_AUTH_DISABLED": "true",
        }
        self.procs = {
            role: subprocess.Popen(
                [sys.executable, "-m", "squall", "run", "--role", role],
                env=env,
                stdout=(workdir / f"{role}.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
            for role in ("api", "engine", "executor")
        }

    def peak_rss_mb(self, role: str) -> float:
        status = Path(f"/proc/{self.procs[role].pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmHWM"))
        return int(line.split()[1]) / 1024

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            proc.wait(30)


class Completions:
    """Follows lifecycle events: when each execution succeeded."""

    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self.done: dict[str, float] = {}
        self._consumer = AIOKafkaConsumer(
            topics.events,
            bootstrap_servers=bootstrap,
            fetch_max_wait_ms=5,
            auto_offset_reset="earliest",
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._task = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        async for message in self._consumer:
            event = json.loads(message.value)
            if event["type"] == "squall.execution.success":
                self.done.setdefault(event["subject"], time.time())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        await self._consumer.stop()


async def send(session: aiohttp.ClientSession, url: str, n: int) -> tuple[str, float]:
    sent = time.time()
    async with session.post(url, json={"n": n}) as response:
        body = await response.json()
        assert response.status == 202, body
    return body["event_ids"][0], sent


def execution_of(event_id: str) -> str:
    return derive_id(event_id, "default/on_ping")


async def steady(stack: Stack, url: str, rate: int, seconds: int, mongo_uri: str) -> dict[str, Any]:
    """(b) latency from sending the webhook to the claim of its first action."""
    sent: list[tuple[str, float]] = []
    async with aiohttp.ClientSession() as session:
        tasks = []
        start = time.perf_counter()
        for i in range(rate * seconds):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(send(session, url, i)))
        sent = await asyncio.gather(*tasks)
    await asyncio.sleep(3)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri, tz_aware=True)
    runs = client[stack.db]["action_runs"]
    started = {
        doc["execution_id"]: doc["started_at"].timestamp()
        async for doc in runs.find({}, {"execution_id": 1, "started_at": 1})
    }
    await client.close()
    latencies = [
        (started[execution_of(e)] - t) * 1000 for e, t in sent if execution_of(e) in started
    ]
    return {
        "events": len(sent),
        "started": len(latencies),
        "p50_ms": round(pct(latencies, 50), 2),
        "p99_ms": round(pct(latencies, 99), 2),
    }


async def burst(
    url: str, completions: Completions, count: int, senders: int = 64
) -> dict[str, Any]:
    """(c) events/s from the first webhook to the last SUCCESS, ``senders`` at a time."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    events: list[str] = []
    started = time.time()

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            event_id, _ = await send(session, url, queue.get_nowait())
            events.append(event_id)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=senders)) as session:
        await asyncio.gather(*(worker(session) for _ in range(senders)))
    accepted = time.time()
    wanted = {execution_of(e) for e in events}
    deadline = time.time() + 120
    while not wanted <= completions.done.keys() and time.time() < deadline:
        await asyncio.sleep(0.05)
    finished = max(completions.done[e] for e in wanted if e in completions.done)
    return {
        "events": count,
        "succeeded": len(wanted & completions.done.keys()),
        "accept_rate": round(count / (accepted - started)),
        "events_per_s": round(count / (finished - started)),
    }


async def wait_healthy(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the API did not come up; see the logs")


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="squall-bench-"))
    with embedded_servers(workdir / "servers") as servers:
        print("(a) raw Kafka produce → consume ...", file=sys.stderr)
        ceiling = await raw_kafka(servers.kafka_bootstrap)
        stack = Stack(servers, workdir)
        try:
            base = f"http://127.0.0.1:{stack.port}"
            await wait_healthy(base)
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"{base}/v1/apply",
                    data=DEFINITIONS,
                    headers={"Content-Type": "application/yaml"},
                ) as response,
            ):
                assert response.status == 200, await response.text()
            completions = Completions(servers.kafka_bootstrap, Topics(stack.prefix))
            await completions.start()
            url = f"{base}/hooks/bench?token={TOKEN}"
            print("warming up ...", file=sys.stderr)
            await burst(url, completions, 200)
            print(f"(b) steady {args.rate}/s for {args.seconds} s ...", file=sys.stderr)
            latency = await steady(stack, url, args.rate, args.seconds, servers.mongo_uri)
            print(f"(c) burst of {args.burst} ...", file=sys.stderr)
            throughput = await burst(url, completions, args.burst)
            await completions.stop()
            rss = {role: round(stack.peak_rss_mb(role), 1) for role in stack.procs}
        finally:
            stack.stop()
    rows = [
        ("(a) raw aiokafka produce→consume", f"{ceiling:,.0f} msg/s"),
        (
            f"(b) webhook → first action started, {args.rate}/s x {args.seconds} s",
            f"p50 {latency['p50_ms']} ms, p99 {latency['p99_ms']} ms "
            f"({latency['started']}/{latency['events']} started)",
        ),
        (
            "(c) webhook → rule → execution → std.noop → SUCCESS",
            f"{throughput['events_per_s']:,} events/s "
            f"({throughput['succeeded']}/{throughput['events']} succeeded; "
            f"webhooks accepted at {throughput['accept_rate']:,}/s)",
        ),
        ("(d) peak RSS", ", ".join(f"{k} {v} MB" for k, v in rss.items())),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)} | result")
    print(f"{'-' * width}-|-------")
    for name, value in rows:
        print(f"{name.ljust(width)} | {value}")
    print(f"logs: {workdir}", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--burst", type=int, default=3000)
    asyncio.run(main(parser.parse_args()))
