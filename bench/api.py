"""API throughput: execution create and execution get, Squall beside OpenStack Mistral.

Starts the embedded broker and database and Squall's api, engine and executor roles as
separate processes (as ``bench/pipeline.py`` does), creates a one-task ``std.noop``
workflow, then measures requests/s of

  * ``POST /v2/executions`` (create; answered once the engine created the execution),
  * ``GET /v2/executions/{id}`` (get),

at concurrency 1 and 50. Given ``--mistral-url`` (a running Mistral 23, e.g.
http://127.0.0.1:8990), it measures the same requests there and prints both with
the ratios. Both use Mistral's v2 API, so the requests are the same bytes.

Usage: python bench/api.py [--requests 400] [--mistral-url URL]
It is a benchmark, not a test: figures vary with the machine; on a shared machine
compare the ratios of one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline import Stack, wait_healthy  # noqa: E402
from squall.embedded import embedded_servers  # noqa: E402

CONCURRENCY = (1, 50)


def workflow_text(name: str) -> str:
    """A one-task ``std.noop`` workflow in Mistral's standalone workflows format."""
    return f"version: '2.0'\n{name}:\n  tasks:\n    only:\n      action: std.noop\n"


async def create_workflow(session: aiohttp.ClientSession, v2: str, name: str) -> None:
    """Create the workflow through ``POST /v2/workflows`` (the same call on both)."""
    async with session.post(
        f"{v2}/workflows", data=workflow_text(name), headers={"Content-Type": "text/plain"}
    ) as response:
        if response.status != 201:
            raise SystemExit(f"cannot create the workflow at {v2}: {await response.text()}")


async def create_one(session: aiohttp.ClientSession, v2: str, name: str) -> str:
    """Start one execution; its id."""
    body = {"workflow_name": name, "input": "{}"}
    async with session.post(f"{v2}/executions", json=body) as response:
        answer = await response.json()
        if response.status != 201:
            raise SystemExit(f"create failed at {v2}: {answer}")
    return str(answer["id"])


async def get_one(session: aiohttp.ClientSession, v2: str, ident: str) -> str:
    """Read one execution; its state."""
    async with session.get(f"{v2}/executions/{ident}") as response:
        answer = await response.json()
        if response.status != 200:
            raise SystemExit(f"get failed at {v2}: {answer}")
    return str(answer["state"])


def reader(
    session: aiohttp.ClientSession, v2: str, ids: list[str]
) -> Callable[[int], Awaitable[str]]:
    """Call ``i`` reads the ``i``-th created execution (round robin)."""
    return lambda i: get_one(session, v2, ids[i % len(ids)])


async def rate(
    total: int, concurrency: int, one: Callable[[int], Awaitable[str]]
) -> tuple[float, list[str]]:
    """Requests/s of ``total`` calls of ``one(i)`` by ``concurrency`` workers."""
    results: list[str] = []
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            results.append(await one(i))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started), results


async def measure(v2: str, total: int) -> dict[tuple[str, int], float]:
    """Requests/s of create and get at each concurrency against one ``/v2`` URL."""
    name = f"bench_api_{uuid.uuid4().hex[:8]}"
    figures: dict[tuple[str, int], float] = {}
    connector = aiohttp.TCPConnector(limit=max(CONCURRENCY))
    async with aiohttp.ClientSession(connector=connector) as session:
        await create_workflow(session, v2, name)
        await create_one(session, v2, name)  # warm-up: first-use caches on both sides
        for concurrency in CONCURRENCY:
            count = total if concurrency > 1 else max(total // 4, 20)
            per_s, ids = await rate(count, concurrency, lambda _: create_one(session, v2, name))
            figures[("create", concurrency)] = per_s
            per_s, _ = await rate(count * 2, concurrency, reader(session, v2, ids))
            figures[("get", concurrency)] = per_s
    return figures


def report(squall: dict[tuple[str, int], float], mistral: dict[tuple[str, int], float]) -> str:
    """The table: requests/s of each, and Squall ÷ Mistral."""
    lines = [f"{'request':<28}{'Squall req/s':>14}{'Mistral req/s':>15}{'ratio':>8}"]
    for (op, concurrency), ours in squall.items():
        label = f"{op} execution, c={concurrency}"
        theirs = mistral.get((op, concurrency))
        ratio = f"{ours / theirs:.1f}x" if theirs else "-"
        shown = f"{theirs:.0f}" if theirs else "-"
        lines.append(f"{label:<28}{ours:>14.0f}{shown:>15}{ratio:>8}")
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    """Run Squall, measure it, then Mistral if given; print the table."""
    os.environ["SQUALL_AUTH_DISABLED"] = "true"
    workdir = Path(tempfile.mkdtemp(prefix="squall-bench-api-"))
    with embedded_servers(workdir / "servers") as servers:
        stack = Stack(servers, workdir)
        try:
            base = f"http://127.0.0.1:{stack.port}"
            await wait_healthy(base)
            print("measuring Squall ...", file=sys.stderr)
            squall = await measure(f"{base}/v2", args.requests)
            mistral: dict[tuple[str, int], float] = {}
            if args.mistral_url:
                print("measuring Mistral ...", file=sys.stderr)
                mistral = await measure(
                    args.mistral_url.rstrip("/").removesuffix("/v2") + "/v2", args.requests
                )
        finally:
            stack.stop()
    print(report(squall, mistral))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=400, help="requests per figure at c=50")
    parser.add_argument("--mistral-url", default=None, help="a running Mistral 23, e.g. :8990")
    asyncio.run(main(parser.parse_args()))
