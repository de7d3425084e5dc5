"""Running the `squall` CLI in this process, beside a Squall the test runs."""

from __future__ import annotations

import asyncio
import json

import pytest

from squall.cli import main
from tests.harness import Api

#: The workflows the execution commands are tried on.
WORKFLOWS = """\
version: '2.0'
name: steered
workflows:
  two_steps:
    tasks:
      nap:
        action: std.sleep seconds=3
        on-success: [greet]
      greet:
        action: std.echo output=hi
  broken:
    tasks:
      first:
        action: std.noop
        on-success: [boom]
      boom:
        action: std.fail
  long_nap:
    tasks:
      nap:
        action: std.sleep seconds=60
  needs_env:
    tasks:
      check:
        action: std.echo output=<% env().ok %>
        fail-on: <% not task().result %>
"""


async def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one command.

    The command runs in a thread: its blocking requests must not stop the event loop
    that serves them.
    """
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    return code, out, err


async def start(capsys: pytest.CaptureFixture[str], api: Api, workflow: str) -> str:
    """Start ``workflow`` with ``squall execution start``; its execution's id."""
    code, out, err = await run(capsys, "execution", "start", workflow, "--url", api.base, "--json")
    assert code == 0, err
    return str(json.loads(out)["id"])
