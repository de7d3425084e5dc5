"""Benchmark: webhook intake of one api process, and rule matching + policy cost per event.

Starts the embedded broker and database, then prints:

  (a) webhook requests/s accepted (202, after Kafka's acknowledgement) by one process
      running the api role alone, with ``--senders`` concurrent clients;
  (b) for 10, 1,000 and 10,000 rules: microseconds per event of ``RuleSet.fire``
      (matching, conditions, input), and of ``PolicyGate.admit`` (the same plus
      dedupe/rate-limit state and evaluation records in MongoDB), in batches of 500.

Usage: python bench/webhooks.py [--seconds 10] [--senders 64] [--events 5000]
A benchmark, not a test: compare runs made back to back on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from pymongo import AsyncMongoClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.policies import PolicyGate  # noqa: E402
from engine.rules import RuleSet  # noqa: E402
from schemas import CloudEvent  # noqa: E402
from schemas.definitions import Rule  # noqa: E402
from squall.embedded import EmbeddedServers, embedded_servers, free_port  # noqa: E402

TOKEN = "bench-secret-0123"
DEFINITIONS = f"""
version: '2.0'
name: bench
workflows:
  one_noop:
    tasks:
      only: {{action: std.noop}}
hooks:
  bench: {{adapter: generic, secret: {TOKEN}, type: bench.ping}}
"""
BATCH = 500


async def intake(servers: EmbeddedServers, workdir: Path, seconds: int, senders: int) -> float:
    """(a) accepted webhooks per second of one api-only process."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SQUALL_KAFKA_BOOTSTRAP": servers.kafka_bootstrap,
        "SQUALL_MONGO_URI": servers.mongo_uri,
        "SQUALL_MONGO_DB": f"benchwh_{os.getpid()}",
        "SQUALL_TOPIC_PREFIX": f"benchwh{os.getpid()}.",
        "SQUALL_HTTP_PORT": str(port),
        "SQUALL_LOG_LEVEL": "WARNING",
        "SQUALL_AUTH_DISABLED": "true",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "squall", "run", "--role", "api"],
        env=env,
        stdout=(workdir / "api.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=senders)) as session:
            for _ in range(300):
                try:
                    async with session.post(
                        f"{base}/v1/apply",
                        data=DEFINITIONS,
                        headers={"Content-Type": "application/yaml"},
                    ) as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
            url = f"{base}/hooks/bench?token={TOKEN}"
            accepted = 0
            deadline = time.perf_counter() + seconds

            async def sender() -> None:
                nonlocal accepted
                n = 0
                while time.perf_counter() < deadline:
                    n += 1
                    async with session.post(url, json={"n": n}) as response:
                        await response.read()
                        accepted += response.status == 202

            started = time.perf_counter()
            await asyncio.gather(*(sender() for _ in range(senders)))
            return accepted / (time.perf_counter() - started)
    finally:
        proc.terminate()
        proc.wait(30)


def ruleset(count: int) -> RuleSet:
    """``count`` rules on distinct types; every tenth has dedupe and a rate limit."""
    rules = {}
    for i in range(count):
        body: dict[str, Any] = {
            "name": f"r{i}",
            "pattern": {"type": [f"bench.t{i}"], "data": {"level": [{"numeric": [">", 2]}]}},
            "workflow": "one_noop",
            "input": {"n": "{{ event.data.n }}"},
        }
        if i % 10 == 0:
            body["policy"] = {
                "dedupe": {"key": "{{ event.data.n }}", "window": 60},
                "rate-limit": {"count": 1_000_000, "per": 60},
            }
        rules[("default", f"r{i}")] = Rule.model_validate(body)
    return RuleSet(rules)


def events(count: int, rules: int) -> list[CloudEvent]:
    """Events that each match one rule (policies on one in ten)."""
    return [
        CloudEvent(source="bench", type=f"bench.t{(i * 10) % rules}", data={"n": i, "level": 5})
        for i in range(count)
    ]


async def rule_cost(mongo_uri: str, count: int, total: int) -> tuple[float, float]:
    """(b) µs per event for ``RuleSet.fire``, and for ``PolicyGate.admit``."""
    rules = ruleset(count)
    batch = events(total, count)
    for event in batch[:100]:
        rules.fire(event)  # the matcher compiles on first use: not part of the cost
    started = time.perf_counter()
    for event in batch:
        rules.fire(event)
    fire_us = (time.perf_counter() - started) / total * 1e6
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri, tz_aware=True)
    gate = PolicyGate(client[f"benchrules_{os.getpid()}_{count}"])
    await gate.ensure_indexes()
    started = time.perf_counter()
    for start in range(0, total, BATCH):
        await gate.admit(rules, batch[start : start + BATCH])
    gate_us = (time.perf_counter() - started) / total * 1e6
    await client.close()
    return fire_us, gate_us


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--senders", type=int, default=64)
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, embedded_servers(Path(tmp)) as servers:
        rate = await intake(servers, Path(tmp), args.seconds, args.senders)
        print(f"(a) webhooks accepted by one api process: {rate:,.0f} requests/s")
        for count in (10, 1_000, 10_000):
            fire_us, gate_us = await rule_cost(servers.mongo_uri, count, args.events)
            print(
                f"(b) {count:>6} rules: RuleSet.fire {fire_us:8.1f} µs/event, "
                f"with PolicyGate.admit {gate_us:8.1f} µs/event"
            )


if __name__ == "__main__":
    asyncio.run(main())
