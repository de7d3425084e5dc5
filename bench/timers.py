"""Timer benchmark: many interval timers coming due within a short window.

Runs TimerService (one or several, racing for the same fires) against the embedded
Kafka- and MongoDB-compatible servers and prints how late fires were published (from the
scheduled time to Kafka's acknowledgement) and how many fires per second went out.

    python bench/timers.py [--timers 10000] [--window 2] [--services 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pymongo import AsyncMongoClient

from schemas.bus import Outbound, Topics
from schemas.definitions import Timer
from squall.embedded import embedded_servers
from squall.kafka import KafkaPublisher, ensure_topics
from triggers.timers import TimerService


class MeasuringPublisher:
    """Publishes, then records each event's lateness once Kafka acknowledged it."""

    def __init__(self, inner: KafkaPublisher) -> None:
        self.inner = inner
        self.lateness: list[float] = []
        self.acked_at: list[float] = []

    async def publish(self, messages: Sequence[Outbound]) -> None:
        """Publish and measure."""
        await self.inner.publish(list(messages))
        now = datetime.now(UTC)
        for message in messages:
            scheduled = datetime.fromisoformat(json.loads(message.value)["data"]["scheduled"])
            self.lateness.append((now - scheduled).total_seconds())
        self.acked_at.append(time.monotonic())


def _timers(count: int, first: datetime, window_s: float) -> dict[tuple[str, str], Timer]:
    # Each timer fires once in the window (a long interval), spread evenly over it.
    return {
        ("bench", f"t{i}"): Timer.model_validate(
            {
                "name": f"t{i}",
                "interval": 3600,
                "start": (first + timedelta(seconds=window_s * i / count)).isoformat(),
                "event": {"type": "bench.tick"},
            }
        )
        for i in range(count)
    }


async def _run(bootstrap: str, mongo_uri: str, args: argparse.Namespace) -> None:
    topics = Topics("bench.")
    await ensure_topics(bootstrap, topics, 4)
    inner = KafkaPublisher(bootstrap)
    await inner.start()
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri, tz_aware=True)
    db = mongo["bench_timers"]
    publisher = MeasuringPublisher(inner)
    first = datetime.now(UTC) + timedelta(seconds=args.lead)
    timers = _timers(args.timers, first, args.window)
    started = time.monotonic()
    tasks = [
        asyncio.create_task(
            TimerService(db, lambda: timers, publisher, topics, owner=f"bench{i}").run()
        )
        for i in range(args.services)
    ]
    deadline = first + timedelta(seconds=args.window + 60)
    while len(publisher.lateness) < args.timers and datetime.now(UTC) < deadline:
        await asyncio.sleep(0.1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await inner.stop()
    await mongo.close()
    _report(publisher, args, first, started)


def _report(
    publisher: MeasuringPublisher, args: argparse.Namespace, first: datetime, started: float
) -> None:
    late = sorted(publisher.lateness)
    if not late:
        print("no fire was published")
        return
    cuts = statistics.quantiles(late, n=100) if len(late) > 1 else [late[0]] * 99
    span = max(publisher.acked_at) - (started + args.lead)
    print(f"timers: {args.timers}, services: {args.services}, due within {args.window} s")
    print(f"fires published: {len(late)} (expected {args.timers})")
    p50, p99, worst = cuts[49] * 1000, cuts[98] * 1000, late[-1] * 1000
    print(f"lateness p50: {p50:.1f} ms, p99: {p99:.1f} ms, max: {worst:.1f} ms")
    print(f"throughput: {len(late) / max(span, 1e-9):.0f} fires/s over {span:.2f} s")


def main() -> None:
    """Parse the options, start the embedded servers, run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=2.0, help="seconds the fires spread over")
    parser.add_argument("--services", type=int, default=1, help="timer services racing")
    parser.add_argument(
        "--lead", type=float, default=15.0, help="seconds to load before the first fire"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data, embedded_servers(Path(data)) as servers:
        asyncio.run(_run(servers.kafka_bootstrap, servers.mongo_uri, args))


if __name__ == "__main__":
    main()
