"""The real python-mistralclient 6.3 CLI against a running Squall.

The client is installed with pip into a virtualenv kept in pytest's cache (so a fresh
machine installs it once), and runs as a child process, as an operator would run it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from squall.settings import Settings
from tests.harness import Api, wait_for
from tests.squall.api.api_support import make_token, secured, squall

CLIENT = "python-mistralclient==6.3.0"

WORKFLOWS = """\
version: '2.0'
greet:
  input:
    - name
    - greeting: hello
  output:
    said: <% $.said %>
  tasks:
    say:
      action: std.echo output="<% $.greeting %> <% $.name %>"
      publish:
        said: <% task().result %>
slow:
  tasks:
    wait:
      action: std.sleep seconds=20
      on-success: [done]
    done:
      action: std.echo output=done
flaky:
  tasks:
    maybe:
      # Fails (the task is in ERROR, no action run) until the env names a word.
      action: std.echo output=<% env().word.toUpper() %>
      publish:
        said: <% task().result %>
  output:
    said: <% $.said %>
"""

WORKBOOK = """\
version: '2.0'
name: ops
workflows:
  tidy:
    tasks:
      sweep:
        action: std.noop
"""


@pytest.fixture(scope="session")
def mistral_bin(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `mistral` command of python-mistralclient 6.3, installed once per cache
    (or once per session when pytest's cache is disabled)."""
    cache = getattr(request.config, "cache", None)
    name = "mistralclient-6.3.0"
    home = Path(cache.mkdir(name)) if cache is not None else tmp_path_factory.mktemp(name)
    binary = home / "bin" / "mistral"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
        subprocess.run(
            [str(home / "bin" / "python"), "-m", "pip", "install", "-q", CLIENT],
            check=True,
            timeout=600,
        )
    return binary


@dataclass
class Mistral:
    """Runs the `mistral` CLI against the Squall under test."""

    binary: Path
    url: str
    token: str
    workdir: Path

    async def run(self, *args: str, check: bool = True) -> tuple[int, str, str]:
        """Exit code, stdout and stderr of one command."""
        proc = await asyncio.create_subprocess_exec(
            str(self.binary),
            "--os-mistral-url",
            self.url,
            "--os-auth-url",
            self.url.removesuffix("/v2") + "/v3",
            "--os-auth-token",
            self.token,
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=self.workdir,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        code = proc.returncode or 0
        if check:
            assert code == 0, f"mistral {' '.join(args)} exited {code}: {err.decode()}"
        return code, out.decode(), err.decode()

    async def json(self, *args: str) -> Any:
        """The JSON output (`-f json`) of one command."""
        _, out, _ = await self.run(*args, "-f", "json")
        return json.loads(out)

    def file(self, name: str, text: str) -> str:
        """Write a file the client reads; returns its name."""
        (self.workdir / name).write_text(text)
        return name


@pytest.fixture
async def mistral(
    settings: Settings, mistral_bin: Path, tmp_path: Path
) -> AsyncIterator[tuple[Mistral, Api]]:
    settings = secured(settings)
    token = await make_token(settings, "ops", "admin")
    async with squall(settings) as api:
        client = Mistral(mistral_bin, f"{api.base}/v2", token, tmp_path)
        created = await client.json("workflow-create", client.file("wf.yaml", WORKFLOWS))
        assert [(w["Name"], w["Input"], w["Project ID"]) for w in created] == [
            ("greet", 'name, greeting="hello"', "ops"),
            ("slow", "", "ops"),
            ("flaky", "", "ops"),
        ]
        yield client, api


async def finished(client: Mistral, execution_id: str) -> Any:
    async def check() -> Any:
        shown = await client.json("execution-get", execution_id)
        return shown if shown["State"] in ("SUCCESS", "ERROR", "CANCELLED") else None

    return await wait_for(check, 30)


async def test_workflows_are_listed_and_shown(mistral: tuple[Mistral, Api]) -> None:
    client, _ = mistral
    listed = await client.json("workflow-list")
    assert sorted(w["Name"] for w in listed) == ["flaky", "greet", "slow"]
    greet = next(w for w in listed if w["Name"] == "greet")
    assert greet["Input"] == 'name, greeting="hello"'
    shown = await client.json("workflow-get", "greet")
    assert shown["Name"] == "greet" and shown["ID"] == greet["ID"]
    _, definition, _ = await client.run("workflow-get-definition", "greet")
    assert "std.echo" in definition
    _, table, _ = await client.run("workflow-list")
    assert "| greet" in table


async def test_an_execution_runs_and_shows_its_output_and_tasks(
    mistral: tuple[Mistral, Api],
) -> None:
    client, _ = mistral
    created = await client.json("execution-create", "greet", '{"name": "ops"}')
    assert created["Workflow name"] == "greet"
    assert created["State"] in ("RUNNING", "SUCCESS")
    shown = await finished(client, created["ID"])
    assert shown["State"] == "SUCCESS"
    _, output, _ = await client.run("execution-get-output", created["ID"])
    assert json.loads(output) == {"said": "hello ops"}
    _, given, _ = await client.run("execution-get-input", created["ID"])
    assert json.loads(given) == {"name": "ops", "greeting": "hello"}
    listed = await client.json("execution-list")
    assert created["ID"] in [e["ID"] for e in listed]
    tasks = await client.json("task-list", created["ID"])
    assert [(t["Name"], t["State"]) for t in tasks] == [("say", "SUCCESS")]
    _, result, _ = await client.run("task-get-result", tasks[0]["ID"])
    assert json.loads(result) == "hello ops"
    runs = await client.json("action-execution-list")
    assert [(r["Name"], r["State"]) for r in runs] == [("std.echo", "SUCCESS")]


async def test_an_unknown_execution_is_reported_as_mistral_does(
    mistral: tuple[Mistral, Api],
) -> None:
    client, _ = mistral
    code, _, err = await client.run("execution-get", "does-not-exist", check=False)
    assert code == 1
    assert "WorkflowExecution not found [id=does-not-exist]" in err


async def test_an_action_runs_directly(mistral: tuple[Mistral, Api]) -> None:
    client, _ = mistral
    _, out, _ = await client.run("run-action", "std.echo", '{"output": "direct"}')
    assert json.loads(out) == {"result": "direct"}


async def test_cron_triggers_environments_and_workbooks(mistral: tuple[Mistral, Api]) -> None:
    client, api = mistral
    created = await client.json(
        "cron-trigger-create", "nightly", "greet", '{"name": "night"}', "--pattern", "0 2 * * *"
    )
    assert created["Pattern"] == "0 2 * * *" and created["Workflow"] == "greet"
    assert created["Next execution time"].endswith("02:00:00")
    listed = await client.json("cron-trigger-list")
    assert [t["Name"] for t in listed] == ["nightly"]
    _, said, _ = await client.run("cron-trigger-delete", "nightly")
    assert said.strip() == "Request to delete cron trigger nightly has been accepted."
    # Like Mistral's, the client shows an empty list as one blank row.
    assert [t["Name"] for t in await client.json("cron-trigger-list")] in ([], [""])
    code, _, err = await client.run("cron-trigger-get", "nightly", check=False)
    assert code == 1 and "not found" in err
    status, _ = await api.request(
        "GET", "/v2/cron_triggers/nightly", headers={"X-Auth-Token": client.token}
    )
    assert status == 404

    variables = {"region": "eu", "replicas": 3}
    env = client.file(
        "env.json",
        json.dumps({"name": "prod", "description": "production", "variables": variables}),
    )
    shown = await client.json("environment-create", env)
    assert (shown["Name"], shown["Description"], shown["Scope"]) == (
        "prod",
        "production",
        "private",
    )
    assert json.loads(shown["Variables"]) == variables
    again = await client.json("environment-get", "prod")
    assert json.loads(again["Variables"]) == variables

    book = await client.json("workbook-create", client.file("wb.yaml", WORKBOOK))
    assert book["Name"] == "ops"
    assert "tidy" in [w["Name"] for w in await client.json("workflow-list")]


async def test_an_execution_is_paused_resumed_and_cancelled(
    mistral: tuple[Mistral, Api],
) -> None:
    client, _ = mistral
    created = await client.json("execution-create", "slow")
    paused = await client.json("execution-update", created["ID"], "-s", "PAUSED")
    assert paused["State"] == "PAUSED"
    resumed = await client.json("execution-update", created["ID"], "-s", "RUNNING")
    assert resumed["State"] == "RUNNING"
    cancelled = await client.json("execution-update", created["ID"], "-s", "CANCELLED")
    assert cancelled["State"] == "CANCELLED"


async def test_a_failed_task_is_rerun_with_a_new_env_and_succeeds(
    mistral: tuple[Mistral, Api],
) -> None:
    client, _ = mistral
    created = await client.json("execution-create", "flaky")
    failed = await finished(client, created["ID"])
    assert failed["State"] == "ERROR"
    (task,) = await client.json("task-list", created["ID"])
    assert task["State"] == "ERROR"
    rerun = await client.json("task-rerun", task["ID"], "--env", '{"word": "fixed"}')
    assert rerun["ID"] == task["ID"]
    assert rerun["State"] != "ERROR"
    done = await finished(client, created["ID"])
    assert done["State"] == "SUCCESS"
    _, output, _ = await client.run("execution-get-output", created["ID"])
    assert json.loads(output) == {"said": "FIXED"}
    runs = await client.json("action-execution-list", task["ID"])
    assert [(r["Name"], r["State"], r["Accepted"]) for r in runs] == [("std.echo", "SUCCESS", True)]
