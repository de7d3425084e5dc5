"""Helpers for integration tests: run Squall in-process or as real role processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import aiohttp

from squall.roles import serve
from squall.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


async def wait_for(
    check: Callable[[], Awaitable[Any]], timeout: float = 20.0, interval: float = 0.05
) -> Any:
    """Poll ``check`` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last: {value!r})")
        await asyncio.sleep(interval)


class Api:
    """A small client for the running API."""

    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        self.base = f"http://127.0.0.1:{settings.http_port}"
        self.session = session

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """Status and decoded JSON (or text) of one request."""
        async with self.session.request(method, self.base + path, **kwargs) as response:
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.text()

    async def apply(self, text: str) -> Any:
        """Apply a definitions file; fail the test if it is refused."""
        status, body = await self.request(
            "POST", "/v1/apply", data=text, headers={"Content-Type": "application/yaml"}
        )
        assert status == 200, body
        return body

    async def execution(self, execution_id: str) -> Any:
        """An execution, or None while it does not exist yet."""
        status, body = await self.request("GET", f"/v1/executions/{execution_id}")
        return body if status == 200 else None

    async def finished(self, execution_id: str, timeout: float = 30.0) -> Any:
        """Wait until the execution is in a final state; return it."""

        async def check() -> Any:
            body = await self.execution(execution_id)
            if body and body["state"] in ("SUCCESS", "ERROR", "CANCELLED"):
                return body
            return None

        return await wait_for(check, timeout)

    async def caused(self, event_id: str, timeout: float = 20.0) -> list[str]:
        """Wait until the archived event shows the executions it caused."""

        async def check() -> Any:
            status, body = await self.request("GET", f"/v1/events/{event_id}")
            return body["executions"] if status == 200 and body["executions"] else None

        executions: list[str] = await wait_for(check, timeout)
        return executions


@asynccontextmanager
async def running(settings: Settings, roles: set[str]) -> AsyncIterator[Api]:
    """Run ``roles`` in this process for the duration of the block."""
    stop = asyncio.Event()
    ready = asyncio.Event()

    async def on_ready(_: Any) -> None:
        ready.set()

    task = asyncio.create_task(serve(settings, roles, stop, on_ready))
    waiter = asyncio.create_task(ready.wait())
    done, _ = await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        waiter.cancel()
        task.result()
    async with aiohttp.ClientSession() as session:
        try:
            yield Api(settings, session)
        finally:
            stop.set()
            with suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 30)


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that makes a child process use ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUALL_")}
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"SQUALL_{name.upper()}"] = str(value)
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


class RoleProcess:
    """One ``squall run --role …`` child process."""

    def __init__(self, settings: Settings, roles: str, log: Path, **env: str) -> None:
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "squall", "run", "--role", roles],
                env=environment(settings, **env),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a crash."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    async def exited(self, timeout: float = 30.0) -> int:
        """Wait for the process to exit by itself."""

        async def check() -> bool:
            return self.proc.poll() is not None

        await wait_for(check, timeout)
        return self.proc.returncode
