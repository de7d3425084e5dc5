"""`squall event replay` and `squall dlq` against a running Squall."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer

from schemas.bus import Topics
from squall.settings import Settings
from tests.harness import running, wait_for
from tests.squall.cli.test_cli_remote import cli

RULE = """
version: '2.0'
name: replayed
workflows:
  note:
    tasks:
      only:
        action: std.noop
rules:
  on_ping:
    pattern: {type: [cli.ping]}
    workflow: note
"""


async def test_a_dry_run_replay_reports_what_would_fire(settings: Settings) -> None:
    async with running(settings, {"api", "engine", "executor"}) as api:
        await api.apply(RULE)
        before = datetime.now(UTC) - timedelta(seconds=1)
        status, body = await api.request(
            "POST", "/v1/events", json={"type": "cli.ping", "source": "cli"}
        )
        assert status == 202, body
        await api.caused(body["id"])
        after = datetime.now(UTC) + timedelta(seconds=1)
        code, out, err = await cli(
            settings,
            "event",
            "replay",
            "--from",
            before.isoformat(),
            "--to",
            after.isoformat(),
            "--dry-run",
            "--url",
            api.base,
            "--json",
        )
    assert code == 0, err
    progress = json.loads(out)
    assert progress["state"] == "done"
    assert progress["scanned"] >= 1 and progress["matched"] >= 1
    assert progress["published"] == 0


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
