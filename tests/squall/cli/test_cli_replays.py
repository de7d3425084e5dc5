"""`squall event replay` and `squall dlq` against a running Squall."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from schemas.bus import Topics
from squall.cli.replays import ProgressBar, fraction, report
from squall.settings import Settings
from tests.harness import running, wait_for
from tests.squall.cli.cli_support import run
from tests.squall.cli.test_cli_remote import cli

RULE = """
version: '2.0'
name: replayed
workflows:
  note:
    input: [who]
    tasks:
      only:
        action: std.noop
rules:
  on_ping:
    pattern: {type: [cli.ping]}
    workflow: note
    input: {who: <% $.source %>}
"""


async def test_dead_letters_are_listed_and_redriven(settings: Settings) -> None:
    topics = Topics(settings.topic_prefix)
    async with running(settings, {"api", "engine"}) as api:
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topics.commands, b"not a command", key=b"k")
        finally:
            await producer.stop()

        async def listed() -> list[dict[str, object]] | None:
            code, out, _ = await cli(settings, "dlq", "list", "--url", api.base, "--json")
            letters: list[dict[str, object]] = json.loads(out) if code == 0 else []
            return letters or None

        letters = await wait_for(listed, 60, interval=1.0)
        assert letters[0]["topic"] == topics.commands
        code, out, err = await cli(
            settings, "dlq", "redrive", str(letters[0]["id"]), "--url", api.base, "--json"
        )
    assert code == 0, err
    assert json.loads(out)[0]["topic"] == topics.commands


class Terminal(io.StringIO):
    """A captured stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _progress(state: str, scanned: int, **more: Any) -> dict[str, Any]:
    request = {"start": "2026-05-01T10:00:00+00:00", "end": "2026-05-01T12:00:00+00:00"}
    return {
        "id": "r1",
        "state": state,
        "request": request,
        "scanned": scanned,
        "matched": scanned,
        "published": 0,
        **more,
    }


def test_the_share_done_is_the_position_in_the_time_range() -> None:
    assert fraction(_progress("running", 10)) is None
    assert fraction(_progress("running", 10, position="2026-05-01T10:30:00+00:00")) == 0.25
    assert fraction(_progress("running", 10, position="2026-05-01T13:00:00+00:00")) == 1.0
    assert fraction(_progress("done", 10)) == 1.0
    assert fraction(_progress("failed", 10)) is None


def test_a_terminal_shows_a_spinner_until_the_share_is_known_then_a_bar() -> None:
    out = Terminal()
    bar = ProgressBar(out, width=8)
    bar.draw(_progress("running", 500))
    bar.draw(_progress("running", 1000, position="2026-05-01T11:00:00+00:00"))
    bar.draw(_progress("done", 1200))
    drawn = out.getvalue().split("\r\x1b[K")
    assert drawn == [
        "",
        "| scanned 500, matched 500, published 0",
        "[####....]  50%  scanned 1000, matched 1000, published 0",
        "[########] 100%  scanned 1200, matched 1200, published 0\n",
    ]


def test_a_log_gets_only_the_final_progress_line() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, width=4)
    for scanned in (100, 200):
        bar.draw(_progress("running", scanned))
    bar.draw(_progress("failed", 250))
    assert out.getvalue() == "failed: scanned 250, matched 250, published 0\n"


def test_dry_run_results_read_as_a_table() -> None:
    results = [
        {
            "event_id": "e1",
            "type": "cli.ping",
            "rules": [
                {
                    "rule": "on_ping",
                    "outcome": "fired",
                    "workflow": "note",
                    "input": {"who": "h" * 80},
                    "reason": None,
                }
            ],
        },
        {"event_id": "e2", "type": "other", "rules": []},
    ]
    out = io.StringIO()
    report(_progress("done", 3, matched=3, results=results), out)
    summary, head, first, second, more = out.getvalue().splitlines()
    assert summary == "replay r1: done: scanned 3, matched 3, published 0"
    assert head.split() == ["EVENT", "TYPE", "RULE", "OUTCOME", "WORKFLOW", "INPUT", "REASON"]
    assert first.split()[:5] == ["e1", "cli.ping", "on_ping", "fired", "note"]
    assert '{"who": "hhh' in first and first.rstrip().endswith("…")
    assert second.split() == ["e2", "other", "no", "rule", "matched"]
    assert more == "(the first 2 of 3 events)"


async def test_a_dry_run_prints_a_table_and_the_final_bar_or_json(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running(settings, {"api", "engine", "executor"}) as api:
        await api.apply(RULE)
        before = datetime.now(UTC) - timedelta(seconds=1)
        status, body = await api.request(
            "POST", "/v1/events", json={"type": "cli.ping", "source": "cli"}
        )
        assert status == 202, body
        await api.caused(body["id"])
        after = datetime.now(UTC) + timedelta(seconds=1)
        replay = ("event", "replay", "--from", before.isoformat(), "--to", after.isoformat())
        code, out, err = await run(capsys, *replay, "--dry-run", "--url", api.base)
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0].endswith(": done: scanned 1, matched 1, published 0")
        assert lines[1].split()[:4] == ["EVENT", "TYPE", "RULE", "OUTCOME"]
        assert lines[2].split()[:5] == [body["id"], "cli.ping", "on_ping", "fired", "note"]
        assert '{"who": "cli"}' in lines[2]
        assert err == "[##############################] 100%  scanned 1, matched 1, published 0\n"

        code, out, err = await run(capsys, *replay, "--dry-run", "--url", api.base, "--json")
    assert (code, err) == (0, "")
    progress = json.loads(out)
    assert (progress["state"], progress["scanned"], progress["published"]) == ("done", 1, 0)
    assert progress["results"][0]["rules"][0]["input"] == {"who": "cli"}
