"""`squall run`: roles against external servers, refused clearly when misconfigured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import aiohttp

from squall.settings import Settings
from tests.harness import ROOT, RoleProcess, wait_for


async def test_all_roles_run_and_stop_cleanly_on_sigterm(
    settings: Settings, tmp_path: Path
) -> None:
    process = RoleProcess(settings, "all", tmp_path / "all.log")
    try:
        async with aiohttp.ClientSession() as session:

            async def healthy() -> bool:
                try:
                    url = f"http://127.0.0.1:{settings.http_port}/healthz"
                    async with session.get(url) as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await wait_for(healthy, 60, interval=0.2)
    finally:
        code = process.stop()
    assert code == 0, (tmp_path / "all.log").read_text()


def run_squall(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SQUALL_")}
    return subprocess.run(
        [sys.executable, "-m", "squall", *args],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_without_servers_says_what_is_missing() -> None:
    result = run_squall("run", "--role", "engine")
    assert result.returncode == 2
    assert "SQUALL_KAFKA_BOOTSTRAP is required" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_role_is_refused() -> None:
    result = run_squall(
        "run",
        "--role",
        "chef",
        SQUALL_KAFKA_BOOTSTRAP="127.0.0.1:1",
        SQUALL_MONGO_URI="mongodb://127.0.0.1:1",
    )
    assert result.returncode == 2
    assert "unknown role" in result.stderr and "chef" in result.stderr


def test_a_wrong_setting_is_refused_at_start_naming_the_variable() -> None:
    result = run_squall("run", "--role", "api", SQUALL_HTTP_PORT="http")
    assert result.returncode == 2
    assert "SQUALL_HTTP_PORT" in result.stderr
    assert "Traceback" not in result.stderr
