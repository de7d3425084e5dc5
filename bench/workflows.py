"""Workflow benchmark: the three workloads of Mistral's ``bench_mistral.py``, on Squall.

Starts the embedded broker and database and Squall's api, engine and executor roles
as separate processes, then measures, driving Squall through POST /v1/executions and
GET /v1/executions/{id}:

  (a) 50 executions of 10 sequential std.noop tasks, 8 senders → tasks/s;
  (b) one with-items over 100 std.noop items → items/s (and over 10,000 items);
  (c) 20 sequential one-task std.echo executions, POST → SUCCESS → median and p90.

With ``--mistral-url`` (e.g. http://127.0.0.1:8990/v2) and ``--mistral-bench``
(the path of Mistral's ``bench_mistral.py``) that script runs against that Mistral
too, for a side-by-side table with the ratio. With ``--profile FILE`` the engine runs
under cProfile and writes its statistics there.

Usage: python bench/workflows.py [--mistral-url URL] [--profile FILE]
It is a benchmark, not a test: figures vary with the machine; compare runs made
back to back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline import pct, wait_healthy  # noqa: E402
from squall.embedded import EmbeddedServers, embedded_servers, free_port  # noqa: E402

SEQ10 = "\n".join(
    f"      t{i}:\n        action: std.noop"
    + (f"\n        on-success: [t{i + 1}]" if i < 10 else "")
    for i in range(1, 11)
)
DEFINITIONS = f"""
version: '2.0'
name: wfbench
workflows:
  bench_seq10:
    tasks:
{SEQ10}
  bench_items:
    input: [{{n: 100}}]
    tasks:
      t1:
        with-items: i in <% range(0, $.n) %>
        action: std.noop
  bench_echo:
    tasks:
      t1:
        action: std.echo output="hello"
        publish: {{out: <% task().result %>}}
"""
FINAL = ("SUCCESS", "ERROR", "CANCELLED")


class Roles:
    """api, engine and executor as processes; the engine optionally under cProfile."""

    def __init__(self, servers: EmbeddedServers, workdir: Path, profile: Path | None) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SQUALL_KAFKA_BOOTSTRAP": servers.kafka_bootstrap,
            "SQUALL_MONGO_URI": servers.mongo_uri,
            "SQUALL_MONGO_DB": f"wfbench_{os.getpid()}",
            "SQUALL_TOPIC_PREFIX": f"wfbench{os.getpid()}.",
            "SQUALL_HTTP_PORT": str(self.port),
            "SQUALL_LOG_LEVEL": "WARNING",
            # The benchmark measures the engine, not token checks.
            "SQUALL_AUTH_DISABLED": "true",
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        for role in ("api", "engine", "executor"):
            command = [sys.executable, "-m", "squall", "run", "--role", role]
            if role == "engine" and profile is not None:
                command[1:1] = ["-m", "cProfile", "-o", str(profile)]
            self.procs[role] = subprocess.Popen(
                command,
                env=env,
                stdout=(workdir / f"{role}.log").open("wb"),
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        """SIGTERM every role (the profiler writes its file on a clean exit)."""
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            proc.wait(60)


class Client:
    """Starts executions and waits for them through Squall's /v1 API."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    async def start(self, name: str, input: dict[str, Any] | None = None) -> str:
        body = {"workflow_name": name, "input": input or {}}
        async with self.session.post(f"{self.base}/v1/executions", json=body) as response:
            reply = await response.json()
            assert response.status == 201, reply
        return str(reply["id"])

    async def wait(self, execution_id: str, poll_s: float) -> dict[str, Any]:
        while True:
            async with self.session.get(f"{self.base}/v1/executions/{execution_id}") as response:
                if response.status == 200:
                    body: dict[str, Any] = await response.json()
                    if body["state"] in FINAL:
                        return body
            await asyncio.sleep(poll_s)


async def bulk(client: Client, count: int = 50, senders: int = 8) -> dict[str, Any]:
    """(a) ``count`` executions of 10 sequential std.noop tasks, ``senders`` at a time."""
    started = time.perf_counter()
    queue = list(range(count))
    ids: list[str] = []

    async def sender() -> None:
        while queue:
            queue.pop()
            ids.append(await client.start("bench_seq10"))

    await asyncio.gather(*(sender() for _ in range(senders)))
    results = [await client.wait(i, 0.02) for i in ids]
    wall = time.perf_counter() - started
    ok = sum(r["state"] == "SUCCESS" and len(r["tasks"]) == 10 for r in results)
    return {"succeeded": ok, "wall_s": round(wall, 3), "tasks_per_s": round(10 * count / wall, 1)}


async def items(client: Client, count: int) -> dict[str, Any]:
    """(b) one with-items execution over ``count`` std.noop items."""
    started = time.perf_counter()
    execution_id = await client.start("bench_items", {"n": count})
    result = await client.wait(execution_id, 0.01 if count <= 100 else 0.1)
    wall = time.perf_counter() - started
    return {
        "state": result["state"],
        "wall_s": round(wall, 3),
        "items_per_s": round(count / wall, 1),
    }


async def latency(client: Client, runs: int = 20) -> dict[str, Any]:
    """(c) ``runs`` sequential one-task std.echo executions, POST → SUCCESS."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = await client.wait(await client.start("bench_echo"), 0.01)
        assert result["state"] == "SUCCESS", result
        samples.append(time.perf_counter() - started)
    return {
        "median_s": round(statistics.median(samples), 4),
        "p90_s": round(pct(samples, 90), 4),
    }


def mistral(script: Path, url: str) -> dict[str, dict[str, Any]]:
    """Mistral's own bench script against ``url``; its JSON lines by benchmark."""
    output = subprocess.run(
        [sys.executable, str(script), "--url", url],
        check=False,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    lines = [json.loads(x) for x in output.stdout.splitlines() if x.startswith("{")]
    return {line["bench"]: line for line in lines}


@asynccontextmanager
async def squall_stack(
    definitions: str, profile: Path | None, name: str
) -> AsyncIterator[tuple[Client, Roles]]:
    """The embedded servers and Squall's roles, with ``definitions`` applied: a client."""
    workdir = Path(tempfile.mkdtemp(prefix=f"squall-{name}-"))
    with embedded_servers(workdir / "servers") as servers:
        roles = Roles(servers, workdir, profile)
        try:
            base = f"http://127.0.0.1:{roles.port}"
            await wait_healthy(base)
            async with aiohttp.ClientSession() as session:
                async with session.post(
                    f"{base}/v1/apply",
                    data=definitions,
                    headers={"Content-Type": "application/yaml"},
                ) as response:
                    assert response.status == 200, await response.text()
                yield Client(session, base), roles
        finally:
            roles.stop()
            print(f"logs: {workdir}", file=sys.stderr)


async def squall(profile: Path | None) -> dict[str, dict[str, Any]]:
    async with squall_stack(DEFINITIONS, profile, "wfbench") as (client, _):
        print("warming up ...", file=sys.stderr)
        await client.wait(await client.start("bench_seq10"), 0.05)
        await client.wait(await client.start("bench_items", {"n": 10}), 0.05)
        print("(a) 50 x 10 sequential std.noop ...", file=sys.stderr)
        figures = {"a_bulk_seq10": await bulk(client)}
        print("(b) with-items over 100 and 10,000 items ...", file=sys.stderr)
        figures["b_with_items"] = await items(client, 100)
        figures["b_with_items_10k"] = await items(client, 10_000)
        print("(c) 20 x std.echo latency ...", file=sys.stderr)
        figures["c_latency_echo"] = await latency(client)
    return figures


def table(ours: dict[str, dict[str, Any]], theirs: dict[str, dict[str, Any]]) -> None:
    rows = [
        ("(a) 50 x 10 seq std.noop, tasks/s", "a_bulk_seq10", "tasks_per_s", True),
        ("(b) with-items 100 std.noop, items/s", "b_with_items", "items_per_s", True),
        ("(b) with-items 10,000 std.noop, items/s", "b_with_items_10k", "items_per_s", True),
        ("(c) std.echo POST→SUCCESS median, s", "c_latency_echo", "median_s", False),
        ("(c) std.echo POST→SUCCESS p90, s", "c_latency_echo", "p90_s", False),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)} | {'Squall':>9} | {'Mistral':>9} | ratio")
    print(f"{'-' * width}-|-----------|-----------|------")
    for label, bench, key, higher_better in rows:
        mine = ours.get(bench, {}).get(key)
        other = theirs.get(bench, {}).get(key)
        ratio = ""
        if mine and other:
            ratio = f"{(mine / other if higher_better else other / mine):.1f}x"
        print(f"{label.ljust(width)} | {mine!s:>9} | {other or '-'!s:>9} | {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mistral-url", help="also run bench_mistral.py against this Mistral")
    parser.add_argument("--mistral-bench", type=Path, help="path of bench_mistral.py")
    parser.add_argument("--profile", type=Path, help="write the engine's cProfile stats here")
    args = parser.parse_args()
    if args.mistral_url and not args.mistral_bench:
        parser.error("--mistral-url needs --mistral-bench")
    ours = asyncio.run(squall(args.profile))
    print(json.dumps(ours), file=sys.stderr)
    theirs = mistral(args.mistral_bench, args.mistral_url) if args.mistral_url else {}
    table(ours, theirs)


if __name__ == "__main__":
    main()
