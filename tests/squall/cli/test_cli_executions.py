"""`squall execution start|pause|resume|cancel|rerun` against a running Squall."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import pytest

from squall.cli import watch
from tests.harness import Api, wait_for
from tests.squall.cli.cli_support import run, start


def _state(table: str) -> str:
    """The STATE cell of a one-row execution table."""
    head, row = table.splitlines()
    return row.split()[head.split().index("STATE")]


async def test_pause_holds_the_execution_and_resume_finishes_it(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    execution_id = await start(capsys, api, "two_steps")
    code, out, err = await run(capsys, "execution", "pause", execution_id, "--url", api.base)
    assert code == 0, err
    assert execution_id in out and _state(out) == "PAUSED"

    async def napped() -> bool:
        body = await api.execution(execution_id)
        return bool(body["tasks"][0]["state"] == "SUCCESS")

    await wait_for(napped, 30)
    code, out, _ = await run(capsys, "execution", "get", execution_id, "--url", api.base)
    assert _state(out) == "PAUSED"
    assert len((await api.execution(execution_id))["tasks"]) == 1, "ran on while paused"

    code, out, err = await run(capsys, "execution", "resume", execution_id, "--url", api.base)
    assert code == 0, err
    # The last task is quick: the answer may already see the end.
    assert _state(out) in ("RUNNING", "SUCCESS")
    done = await api.finished(execution_id)
    assert done["state"] == "SUCCESS"
    assert [t["name"] for t in done["tasks"]] == ["nap", "greet"]

    code, out, err = await run(capsys, "execution", "pause", execution_id, "--url", api.base)
    assert (code, out) == (1, "")
    assert "final state SUCCESS" in err and "HTTP 400" in err


async def test_cancel_ends_the_execution_and_its_watch_exits_5(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    execution_id = await start(capsys, api, "long_nap")
    changes = io.StringIO()
    watching = asyncio.create_task(
        asyncio.to_thread(
            watch.watch,
            lambda: watch.poll(api.base, execution_id),
            changes,
            mode="json",
            interval=0.2,
        )
    )
    code, out, err = await run(
        capsys, "execution", "cancel", execution_id, "--url", api.base, "--json"
    )
    assert code == 0, err
    assert json.loads(out)["state"] == "CANCELLED"
    assert await asyncio.wait_for(watching, 30) == 5
    last = json.loads(changes.getvalue().splitlines()[-1])
    assert (last["kind"], last["state"]) == ("execution", "CANCELLED")


async def _failed_task(api: Api) -> tuple[str, str]:
    status, body = await api.request(
        "POST",
        "/v1/executions",
        json={"workflow_name": "needs_env", "params": {"env": {"ok": False}}},
    )
    assert status == 201, body
    failed = await api.finished(body["id"])
    assert failed["state"] == "ERROR"
    return str(body["id"]), str(failed["tasks"][0]["id"])


async def test_rerun_with_a_fixed_env_makes_a_failed_execution_succeed(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    execution_id, task_id = await _failed_task(api)
    code, _, err = await run(
        capsys, "execution", "rerun", task_id, "--env", "{nope", "--url", api.base
    )
    assert code == 2 and "--env is not JSON" in err

    code, out, err = await run(
        capsys, "execution", "rerun", task_id, "--env", '{"ok": true}', "--url", api.base
    )
    assert code == 0, err
    head, row = out.splitlines()
    assert head.split() == ["ID", "NAME", "STATE", "WORKFLOW_EXECUTION_ID"]
    assert row.split()[:2] == [task_id, "check"] and row.split()[-1] == execution_id

    async def succeeded() -> Any:
        code, out, _ = await run(
            capsys, "execution", "get", execution_id, "--url", api.base, "--json"
        )
        return code == 0 and json.loads(out)["state"] == "SUCCESS"

    await wait_for(succeeded, 30)
    code, _, err = await run(capsys, "execution", "rerun", task_id, "--url", api.base)
    assert code == 1 and "only a task in ERROR can be re-run" in err


async def test_bad_input_is_refused_on_stderr_with_exit_code_2(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    for given, problem in [("{nope", "--input is not JSON"), ("[1]", "must be a JSON object")]:
        code, out, err = await run(
            capsys, "execution", "start", "two_steps", "--input", given, "--url", api.base
        )
        assert (code, out) == (2, "")
        assert problem in err
    status, body = await api.request("GET", "/v1/executions")
    assert status == 200 and body["executions"] == []
