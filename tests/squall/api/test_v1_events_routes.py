"""The /v1 routes for evaluations, replays and dead letters, against the real servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from engine.policies import PolicyGate
from engine.replay import Replayer
from engine.store import EngineStore
from schemas.base import utcnow
from schemas.bus import Topics
from schemas.replays import ReplayRequest
from squall.api import v1_events
from squall.api.access import MAX_BODY_KEY, access_middleware
from squall.api.context import SERVICES
from squall.api.errors import error_middleware
from squall.kafka import KafkaPublisher
from squall.services import Services
from squall.settings import Settings
from tests.engine.policies.policies_support import alert, alert_rule, ruleset
from tests.harness import wait_for

RULES = ruleset(
    fix=alert_rule({"dedupe": {"key": "<% $.data.host %>", "window": 60}}),
    page=alert_rule(condition="<% $.data.host = 'db-1' %>"),
)


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[aiohttp.ClientSession, Services]]:
    """An app with these routes on the test's port, and a session to call it."""
    services = await Services.connect(settings)
    app = web.Application(middlewares=[error_middleware, access_middleware(None, 1 << 20)])
    app[SERVICES] = services
    app[MAX_BODY_KEY] = 1 << 20
    v1_events.install(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", settings.http_port)
    await site.start()
    base = f"http://127.0.0.1:{settings.http_port}"
    try:
        async with aiohttp.ClientSession(base) as session:
            yield session, services
    finally:
        await runner.cleanup()
        await services.close()


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[tuple[aiohttp.ClientSession, Services]]:
    async with serving(settings) as started:
        yield started


async def get(session: aiohttp.ClientSession, path: str) -> tuple[int, Any]:
    async with session.get(path) as response:
        return response.status, await response.json()


async def test_why_did_my_rule_not_fire(client: Any) -> None:
    session, services = client
    gate = PolicyGate(services.db)
    await gate.ensure_indexes()
    first, repeat = alert("web-1"), alert("web-1")
    await gate.admit(RULES, [first, repeat])

    status, body = await get(session, f"/v1/events/{repeat.id}/evaluations")
    assert status == 200
    assert {(e["rule"], e["outcome"]) for e in body["evaluations"]} == {
        ("fix", "dedupe"),
        ("page", "condition_false"),
    }
    status, body = await get(session, "/v1/rules/fix/evaluations?limit=10")
    assert sorted(e["outcome"] for e in body["evaluations"]) == ["dedupe", "fired"]
    status, body = await get(session, "/v1/rules/fix/evaluations?outcome=dedupe")
    assert [e["event_id"] for e in body["evaluations"]] == [repeat.id]
    status, body = await get(session, "/v1/rules/fix/evaluations?project=other")
    assert body["evaluations"] == []
    status, body = await get(session, "/v1/rules/fix/evaluations?limit=0")
    assert status == 400 and body["field"] == "limit"


async def test_a_dry_run_replay_reports_progress_and_results(client: Any) -> None:
    session, services = client
    now = utcnow()
    await EngineStore(services.db).archive(
        [alert("db-1")],
        {},
        received_at=now - timedelta(minutes=5),
        expires_at=now + timedelta(days=1),
    )
    # The route replays through the application's current rules: none are loaded.
    request = {
        "start": (now - timedelta(hours=1)).isoformat(),
        "end": now.isoformat(),
        "dry_run": True,
    }
    async with session.post("/v1/replays", json=request) as response:
        assert response.status == 202
        replay_id = (await response.json())["id"]

    async def done() -> Any:
        status, body = await get(session, f"/v1/replays/{replay_id}")
        return body if status == 200 and body["state"] == "done" else None

    body = await wait_for(done)
    assert (body["scanned"], body["published"]) == (1, 0)
    assert body["owner"] and body["resumes"] == 0
    created, progressed, finished = (
        datetime.fromisoformat(body[k]) for k in ("created_at", "progressed_at", "finished_at")
    )
    assert created <= progressed <= finished
    assert body["results"][0]["rules"] == []
    status, _ = await get(session, f"/v1/replays/{replay_id}?project=other")
    assert status == 404
    async with session.post("/v1/replays", json={**request, "end": request["start"]}) as response:
        assert response.status == 400


async def test_dead_letters_list_and_a_redrive_of_an_unknown_letter(client: Any) -> None:
    session, _ = client
    status, body = await get(session, "/v1/deadletters")
    assert status == 200 and body == {"deadletters": []}
    async with session.post("/v1/deadletters/redrive", json={"ids": ["0:12345"]}) as response:
        assert response.status == 404
        assert (await response.json())["message"] == "no dead letter 0:12345"
    status, body = await get(session, "/v1/deadletters/0:12345")
    assert status == 404 and body["message"] == "no dead letter 0:12345"
    status, body = await get(session, "/v1/deadletters/nonsense")
    assert status == 404 and "expected <partition>:<offset>" in body["message"]


async def test_an_api_process_resumes_a_replay_a_dead_process_left_running(
    settings: Settings, db: Any
) -> None:
    now = utcnow()
    await EngineStore(db).archive(
        [alert("db-1"), alert("db-2")],
        {},
        received_at=now - timedelta(minutes=5),
        expires_at=now + timedelta(days=1),
    )
    request = ReplayRequest(start=now - timedelta(hours=1), end=now, dry_run=True)
    # A dry run never publishes, so the dead process's publisher is never started.
    dead = Replayer(
        db,
        KafkaPublisher(settings.kafka_bootstrap or ""),
        Topics(settings.topic_prefix),
        lambda: ruleset(),
        owner="dead-host:1:abc",
        lease_s=0.1,
    )
    replay_id = await dead.start(request, "default")
    await dead.stop()
    left = await dead.get("default", replay_id)
    assert left is not None and (left.state, left.scanned) == ("running", 0)
    await asyncio.sleep(0.2)
    async with serving(settings) as (session, _):

        async def done() -> Any:
            status, body = await get(session, f"/v1/replays/{replay_id}")
            return body if status == 200 and body["state"] == "done" else None

        body = await wait_for(done)
    assert body["owner"] != "dead-host:1:abc" and body["resumes"] == 1
    assert (body["scanned"], len(body["results"])) == (2, 2)
