"""`squall dev`: one command starts everything, prints a curl that works, stops cleanly."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from squall.embedded import free_port
from tests.harness import wait_for

ROOT = Path(__file__).resolve().parents[2]


def children(pid: int) -> list[int]:
    """Direct children of ``pid``, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


async def test_squall_dev_serves_the_printed_curl_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUALL_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "squall", "dev", "--port", str(port), "--data-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        printed: list[str] = []
        deadline = time.monotonic() + 120
        while not any(line.lstrip().startswith("-d '") for line in printed):
            assert time.monotonic() < deadline, printed
            line = proc.stdout.readline()
            assert line, f"squall dev exited early: {printed}"
            printed.append(line)
        text = "".join(printed)
        assert "no authentication" in text
        url = re.search(r"curl -s -X POST '([^']+)'", text)
        body = re.search(r"-d '(.+)'", text)
        assert url and body
        servers = children(proc.pid)

        async with aiohttp.ClientSession() as session:
            async with session.post(
                url.group(1), data=body.group(1), headers={"Content-Type": "application/json"}
            ) as response:
                assert response.status == 202
                event_id = (await response.json())["event_ids"][0]
            base = f"http://127.0.0.1:{port}"

            async def execution() -> object:
                async with session.get(f"{base}/v1/events/{event_id}") as response:
                    caused = (await response.json()).get("executions")
                if not caused:
                    return None
                async with session.get(f"{base}/v1/executions/{caused[0]}") as response:
                    doc = await response.json() if response.status == 200 else {}
                return doc if doc.get("state") == "SUCCESS" else None

            done = await wait_for(execution, 30)
        assert json.dumps(done["output"]) == '{"cluster": "web", "message": "scaling out web by 2"}'
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
    assert code == 0
    assert len(servers) >= 2
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in servers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in servers)
