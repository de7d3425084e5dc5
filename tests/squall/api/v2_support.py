"""Shared helpers for the /v2 tests: a running Squall with workflows loaded, and waits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from squall.settings import Settings
from tests.harness import Api, wait_for
from tests.squall.api.api_support import WORKFLOW, squall

TEXT = {"Content-Type": "text/plain"}
#: A workflow that sleeps long enough to be steered while it runs.
NAPPER = "version: '2.0'\nnapper:\n  tasks:\n    nap:\n      action: std.sleep seconds=30\n"
FINAL = ("SUCCESS", "ERROR", "CANCELLED")
#: An ad-hoc action on std.echo, with base-input built from its own input.
SHOUT = """
version: '2.0'
shout:
  base: std.echo
  base-input:
    output: "<% $.word %>!"
  input: [word]
"""


@asynccontextmanager
async def v2(settings: Settings, *definitions: str) -> AsyncIterator[Api]:
    """Squall (api, engine, executor) with ``greet`` and ``definitions`` created via /v2."""
    async with squall(settings) as api:
        for text in (WORKFLOW, *definitions):
            status, body = await api.request("POST", "/v2/workflows", data=text, headers=TEXT)
            assert status == 201, body
        yield api


async def start(api: Api, workflow: str = "greet", **body: Any) -> dict[str, Any]:
    """Start ``workflow`` through /v2; fail the test unless it is created."""
    if workflow == "greet":
        body.setdefault("input", {"name": "x"})
    status, created = await api.request(
        "POST", "/v2/executions", json={"workflow_name": workflow, **body}
    )
    assert status == 201, created
    return dict(created)


async def reaches(api: Api, execution_id: str, *states: str, timeout: float = 30) -> Any:
    """The execution once it is in one of ``states`` (any final state by default)."""

    async def check() -> Any:
        _, doc = await api.request("GET", f"/v2/executions/{execution_id}")
        return doc if doc["state"] in (states or FINAL) else None

    return await wait_for(check, timeout)


def params_of(view: dict[str, Any]) -> dict[str, Any]:
    """An execution view's JSON-encoded params."""
    decoded: dict[str, Any] = json.loads(view["params"])
    return decoded
