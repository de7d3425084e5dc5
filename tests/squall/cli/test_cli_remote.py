"""The `squall` CLI against a running, secured Squall: tokens, executions, exit codes."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from squall.embedded import free_port
from squall.settings import Settings
from tests.harness import ROOT, environment, wait_for
from tests.squall.api.api_support import WORKFLOW, secured, squall


async def cli(settings: Settings, *args: str, **env: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "squall",
        *args,
        env=environment(settings, **env),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_a_created_token_drives_executions_from_the_cli(
    settings: Settings, tmp_path: Path
) -> None:
    settings = secured(settings)
    code, out, err = await cli(
        settings, "token", "create", "--project", "ops", "--role", "admin", "--json"
    )
    assert code == 0, err
    token = json.loads(out)["token"]
    assert token.startswith("sqt_")
    async with squall(settings) as api:
        url = api.base
        status, _ = await api.request(
            "POST",
            "/v2/workflows",
            data=WORKFLOW,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
        )
        assert status == 201
        env = {"SQUALL_TOKEN": token}
        code, out, err = await cli(
            settings,
            "execution",
            "start",
            "greet",
            "--input",
            '{"name": "cli"}',
            "--url",
            url,
            "--json",
            **env,
        )
        assert code == 0, err
        execution_id = json.loads(out)["id"]

        async def done() -> bool:
            code, out, _ = await cli(
                settings, "execution", "get", execution_id, "--url", url, "--json", **env
            )
            return code == 0 and json.loads(out)["state"] == "SUCCESS"

        await wait_for(done, 30)
        code, out, _ = await cli(settings, "execution", "list", "--url", url, **env)
        assert code == 0
        assert out.splitlines()[0].split()[:3] == ["ID", "WORKFLOW_NAME", "STATE"]
        assert execution_id in out and "SUCCESS" in out

        code, _, err = await cli(settings, "execution", "get", "nope", "--url", url, **env)
        assert code == 4 and "not found" in err
        code, _, err = await cli(settings, "execution", "get", execution_id, "--url", url)
        assert code == 1 and "401" in err


async def test_an_unreachable_server_is_said_plainly_with_exit_code_3(settings: Settings) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, _, err = await cli(settings, "execution", "list", "--url", url)
    assert code == 3
    assert f"cannot reach the API at {url}" in err


async def test_a_token_needs_a_known_role(settings: Settings) -> None:
    code, _, err = await cli(settings, "token", "create", "--project", "ops", "--role", "root")
    assert code == 2 and "invalid choice" in err


async def test_apply_loads_a_file_with_the_token_and_refuses_without_one(
    settings: Settings,
) -> None:
    settings = secured(settings)
    code, out, err = await cli(
        settings, "token", "create", "--project", "ops", "--role", "admin", "--json"
    )
    assert code == 0, err
    token = json.loads(out)["token"]
    example = str(ROOT / "examples" / "remediation.yaml")
    async with squall(settings) as api:
        code, out, err = await cli(settings, "apply", "-f", example, "--url", api.base)
        assert code == 1
        assert "token" in err.lower()
        code, out, err = await cli(
            settings, "apply", "-f", example, "--url", api.base, SQUALL_TOKEN=token
        )
        assert code == 0, err
        assert "workflow: scale_out" in out and "rule: high_cpu" in out
        status, body = await api.request(
            "GET", "/v1/rules/high_cpu", headers={"Authorization": f"Bearer {token}"}
        )
        assert status == 200, body
