"""`squall execution watch`: live task states until the execution ends."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from squall.cli import watch
from tests.harness import Api
from tests.squall.cli.cli_support import run, start

NOW = datetime(2026, 5, 1, 10, 0, 30, tzinfo=UTC)


def _task(
    name: str, state: str, started: str, finished: str | None = None, **more: str
) -> dict[str, Any]:
    return {
        "id": f"t-{name}",
        "name": name,
        "state": state,
        "state_info": more.get("info"),
        "started_at": started,
        "finished_at": finished,
        "updated_at": finished or started,
    }


def _snapshot(state: str, *tasks: dict[str, Any]) -> watch.Snapshot:
    execution = {
        "id": "e1",
        "workflow_name": "two_steps",
        "state": state,
        "state_info": None,
        "created_at": "2026-05-01 10:00:00",
        "updated_at": "2026-05-01 10:00:20",
    }
    return watch.Snapshot(execution, list(tasks))


SUCCEEDED = _task("nap", "SUCCESS", "2026-05-01 10:00:01", "2026-05-01 10:00:03")
ERROR_INFO = "Failed to run action std.http: 503\nTraceback (most recent call last): " + "x" * 80
RUNNING = _task("greet", "RUNNING", "2026-05-01 10:00:04", info=ERROR_INFO)


def test_a_frame_shows_each_task_with_its_time_and_the_start_of_its_info() -> None:
    head, columns, nap, greet = watch.frame(_snapshot("RUNNING", SUCCEEDED, RUNNING), NOW)
    assert head == "execution e1  two_steps  RUNNING  30s"
    assert columns.split() == ["NAME", "STATE", "STARTED", "DURATION", "INFO"]
    assert nap.split() == ["nap", "SUCCESS", "10:00:01", "2s"]
    assert greet.split()[:4] == ["greet", "RUNNING", "10:00:04", "26s"]
    assert greet.endswith("Failed to run action std.http: 503")


def test_info_is_cut_to_its_first_line_and_a_width() -> None:
    assert watch.excerpt("short\nmore") == "short"
    cut = watch.excerpt("y" * 100)
    assert len(cut) == watch.INFO_CHARS and cut.endswith("…")


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0.4, "0s"), (59, "59s"), (125, "2m05s"), (3725, "1h02m")]
)
def test_durations_read_as_people_say_them(seconds: float, shown: str) -> None:
    assert watch.duration(seconds) == shown


def test_only_changes_are_reported_and_the_execution_comes_last() -> None:
    changes = watch.Changes()
    first = changes(_snapshot("RUNNING", RUNNING))
    assert [(c["kind"], c["name"], c["state"]) for c in first] == [
        ("task", "greet", "RUNNING"),
        ("execution", "two_steps", "RUNNING"),
    ]
    assert changes(_snapshot("RUNNING", RUNNING)) == []
    done = _task("greet", "SUCCESS", "2026-05-01 10:00:04", "2026-05-01 10:00:05")
    later = changes(_snapshot("SUCCESS", done))
    assert [(c["name"], c["state"], c["at"]) for c in later] == [
        ("greet", "SUCCESS", "2026-05-01 10:00:05"),
        ("two_steps", "SUCCESS", "2026-05-01 10:00:20"),
    ]


def _scripted(*snapshots: watch.Snapshot) -> Iterator[watch.Snapshot]:
    yield from snapshots


def test_a_terminal_is_redrawn_in_place_and_cancelled_exits_5() -> None:
    polls = _scripted(_snapshot("RUNNING", RUNNING), _snapshot("CANCELLED", SUCCEEDED))
    out = io.StringIO()
    code = watch.watch(lambda: next(polls), out, mode="tty", interval=0, clock=lambda: NOW)
    assert code == watch.EXIT_BY_STATE["CANCELLED"] == 5
    first, second = out.getvalue().split("\x1b[3F\x1b[J")
    assert "greet  RUNNING" in first and "CANCELLED" not in first
    assert (
        "nap   SUCCESS  10:00:01  2s" in second
        and "execution e1  two_steps  CANCELLED  20s" in second
    )


def test_a_frame_fits_the_terminal_keeping_the_latest_tasks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "get_terminal_size", lambda: os.terminal_size((30, 6)))
    tasks = [_task(f"task{i}", "SUCCESS", "2026-05-01 10:00:01", info="x" * 50) for i in range(9)]
    out = io.StringIO()
    watch.Screen(out).draw(watch.frame(_snapshot("SUCCESS", *tasks), NOW))
    lines = out.getvalue().splitlines()
    assert len(lines) == 5 and max(len(line) for line in lines) == 29
    assert lines[2] == "(7 earlier tasks not shown)"
    assert [line.split()[0] for line in lines[3:]] == ["task7", "task8"]


async def test_watch_prints_each_task_change_until_success(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    execution_id = await start(capsys, api, "two_steps")
    code, out, err = await run(
        capsys, "execution", "watch", execution_id, "--url", api.base, "--interval", "0.2"
    )
    assert code == 0, err
    seen = [line.split()[2:5] for line in out.splitlines()]
    assert seen.index(["task", "nap", "RUNNING"]) < seen.index(["task", "nap", "SUCCESS"])
    assert seen.index(["task", "nap", "SUCCESS"]) < seen.index(["task", "greet", "SUCCESS"])
    assert seen[-1] == ["execution", "two_steps", "SUCCESS"]
    assert len(seen) == len({tuple(s) for s in seen}), "a state printed twice"


async def test_watch_json_reports_the_failed_task_and_exits_1(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    execution_id = await start(capsys, api, "broken")
    code, out, _ = await run(
        capsys, "execution", "watch", execution_id, "--url", api.base, "--json"
    )
    assert code == 1
    changes = [json.loads(line) for line in out.splitlines()]
    boom = [c for c in changes if c["name"] == "boom" and c["state"] == "ERROR"]
    assert boom and boom[0]["kind"] == "task" and boom[0]["state_info"]
    assert (changes[-1]["kind"], changes[-1]["id"], changes[-1]["state"]) == (
        "execution",
        execution_id,
        "ERROR",
    )


async def test_watch_on_a_terminal_ends_on_the_final_table(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    execution_id = await start(capsys, api, "two_steps")
    out = io.StringIO()
    code = await asyncio.to_thread(
        watch.watch,
        lambda: watch.poll(api.base, execution_id),
        out,
        mode="tty",
        interval=0.2,
    )
    assert code == 0
    frames = out.getvalue().split("\x1b[J")
    assert len(frames) > 2, "never redrawn"
    last = frames[-1].splitlines()
    assert last[0].startswith(f"execution {execution_id}  two_steps  SUCCESS")
    assert [row.split()[:2] for row in last[2:]] == [["nap", "SUCCESS"], ["greet", "SUCCESS"]]


async def test_watching_an_unknown_execution_exits_4(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await run(capsys, "execution", "watch", "nope", "--url", api.base)
    assert (code, out) == (4, "")
    assert "nope" in err
