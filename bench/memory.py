"""Memory benchmark: does the engine's memory stay flat as a workflow grows?

Starts the embedded broker and database and Squall's api, engine and executor roles
as separate processes (as ``bench/workflows.py`` does), then runs, one after the other:

  (a) one execution of 500 sequential std.noop tasks, run ``--rounds`` times;
  (b) one with-items execution over 10,000 std.noop items, run ``--rounds`` times;

sampling the engine process's resident memory (``VmRSS`` in ``/proc``, so Linux only)
every 50 ms. For each run it prints the RSS before, the peak, the RSS at the end, and
the growth (peak minus before). A workflow whose state the engine loads per batch in
full (every task of the execution document) shows as growth proportional to its size;
memory kept after a run (a leak, or only the allocator's high-water mark) shows as the
later rounds starting higher than the first.

Usage: python bench/memory.py [--tasks N] [--items N] [--rounds N]
It is a benchmark, not a test: figures vary with the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.workflows import Client, squall_stack  # noqa: E402

SAMPLE_S = 0.05


def definitions(tasks: int) -> str:
    """A workbook with a ``tasks``-long std.noop chain and a with-items workflow."""
    chain = "\n".join(
        f"      t{i}:\n        action: std.noop"
        + (f"\n        on-success: [t{i + 1}]" if i < tasks else "")
        for i in range(1, tasks + 1)
    )
    return f"""
version: '2.0'
name: membench
workflows:
  mem_chain:
    tasks:
{chain}
  mem_items:
    input: [n]
    tasks:
      t1:
        with-items: i in <% range(0, $.n) %>
        action: std.noop
"""


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def measured(
    client: Client, pid: int, name: str, input: dict[str, Any] | None
) -> dict[str, Any]:
    """Run one execution to its end while sampling the engine's RSS."""
    before = rss_mib(pid)
    samples = [before]
    started = time.perf_counter()
    execution_id = await client.start(name, input)
    waiting = asyncio.create_task(client.wait(execution_id, 0.2))
    while not waiting.done():
        samples.append(rss_mib(pid))
        await asyncio.sleep(SAMPLE_S)
    result = await waiting
    return {
        "state": result["state"],
        "tasks": len(result["tasks"]),
        "wall_s": round(time.perf_counter() - started, 1),
        "rss_before_mib": round(before, 1),
        "rss_peak_mib": round(max(samples), 1),
        "rss_end_mib": round(rss_mib(pid), 1),
        "growth_mib": round(max(samples) - before, 1),
    }


async def run(tasks: int, items: int, rounds: int) -> dict[str, dict[str, Any]]:
    figures = {}
    async with squall_stack(definitions(tasks), None, "membench") as (client, roles):
        pid = roles.procs["engine"].pid
        print("warming up ...", file=sys.stderr)
        await client.wait(await client.start("mem_items", {"n": 10}), 0.05)
        for n in range(1, rounds + 1):
            print(f"(a) {tasks} sequential std.noop tasks, round {n} ...", file=sys.stderr)
            figures[f"chain {n}"] = await measured(client, pid, "mem_chain", None)
        for n in range(1, rounds + 1):
            print(f"(b) with-items over {items} items, round {n} ...", file=sys.stderr)
            figures[f"items {n}"] = await measured(client, pid, "mem_items", {"n": items})
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=500, help="length of the task chain")
    parser.add_argument("--items", type=int, default=10_000, help="with-items item count")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each workload")
    args = parser.parse_args()
    figures = asyncio.run(run(args.tasks, args.items, args.rounds))
    columns = ["state", "tasks", "wall_s", "rss_before_mib", "rss_peak_mib", "rss_end_mib"]
    columns.append("growth_mib")
    print(f"{'run':<8} | " + " | ".join(f"{c:>14}" for c in columns))
    for name, row in figures.items():
        print(f"{name:<8} | " + " | ".join(f"{row[c]!s:>14}" for c in columns))


if __name__ == "__main__":
    main()
