"""``/v1`` routes about events: rule evaluations, replays and dead letters.

Register with ``install(app)``: it adds the routes and the per-app replayer, which
sweeps for replays abandoned by dead API processes while the app runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import suppress
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from engine.evaluations import EvaluationStore, record_view
from engine.replay import Replayer
from schemas.replays import ReplayRequest
from squall.api.context import SERVICES, project, services
from squall.api.errors import ApiError, invalid_body
from triggers.kafka_sources import DeadLetterNotFound, list_dead_letters, redrive

routes = web.RouteTableDef()
MAX_LIMIT = 1000


class RedriveRequest(BaseModel):
    """Body of ``POST /v1/deadletters/redrive``: letters by ``<partition>:<offset>``."""

    ids: list[str] = Field(min_length=1, max_length=1000)


class _Replayers:
    """One replayer per application, made on first use (the app is frozen by then)."""

    def __init__(self) -> None:
        self.replayer: Replayer | None = None

    async def get(self, app: web.Application) -> Replayer:
        if self.replayer is None:
            svc = app[SERVICES]
            replayer = Replayer(svc.db, svc.publisher, svc.topics, lambda: svc.definitions.rules)
            await replayer.ensure_indexes()
            self.replayer = replayer
        return self.replayer


REPLAYERS = web.AppKey("replayers", _Replayers)


def install(app: web.Application) -> None:
    """Add this module's routes to ``app``, and the sweep for abandoned replays."""
    app[REPLAYERS] = _Replayers()
    app.add_routes(routes)
    app.cleanup_ctx.append(_sweeping)


async def _sweeping(app: web.Application) -> AsyncIterator[None]:
    """While the app runs, resume replays whose owner stopped renewing its lease; at
    shutdown, leave this process's own replays for another process to resume.
    """
    replayer = await app[REPLAYERS].get(app)
    sweeps = asyncio.create_task(replayer.run_sweeps())
    yield
    sweeps.cancel()
    with suppress(asyncio.CancelledError):
        await sweeps
    await replayer.stop()


def _limit(request: web.Request, default: int = 100) -> int:
    raw = request.query.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(
            400, "invalid_request", f"limit: expected 1..{MAX_LIMIT}, got {raw!r}", "limit"
        )
    return int(raw)


def _before(request: web.Request) -> datetime | None:
    raw = request.query.get("before")
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(
            400, "invalid_request", f"before: expected an ISO 8601 time, got {raw!r}", "before"
        ) from None


@routes.get("/v1/rules/{name}/evaluations")
async def rule_evaluations(request: web.Request) -> web.Response:
    """The latest evaluations of a rule, newest first (``?outcome=``, ``?before=``, ``?limit=``)."""
    store = EvaluationStore(services(request).db)
    docs = await store.for_rule(
        project(request),
        request.match_info["name"],
        limit=_limit(request),
        outcome=request.query.get("outcome"),
        before=_before(request),
    )
    return web.json_response({"evaluations": [record_view(d) for d in docs]})


@routes.get("/v1/events/{id}/evaluations")
async def event_evaluations(request: web.Request) -> web.Response:
    """Every rule whose pattern the event matched, and what each decided."""
    store = EvaluationStore(services(request).db)
    docs = await store.for_event(project(request), request.match_info["id"])
    return web.json_response({"evaluations": [record_view(d) for d in docs]})


@routes.post("/v1/replays")
async def start_replay(request: web.Request) -> web.Response:
    """Replay archived events of a time range through the current rules (or a dry run)."""
    try:
        body = ReplayRequest.model_validate_json(await request.read())
    except ValidationError as exc:
        raise invalid_body(exc) from None
    replayer = await request.app[REPLAYERS].get(request.app)
    replay_id = await replayer.start(body, project(request))
    return web.json_response({"id": replay_id, "state": "running"}, status=202)


@routes.get("/v1/replays/{id}")
async def get_replay(request: web.Request) -> web.Response:
    """A replay's progress and, for a dry run, its per-event results."""
    replayer = await request.app[REPLAYERS].get(request.app)
    progress = await replayer.get(project(request), request.match_info["id"])
    if progress is None:
        raise ApiError(404, "not_found", f"no replay with id '{request.match_info['id']}'")
    return web.json_response(text=progress.model_dump_json())


@routes.get("/v1/deadletters")
async def dead_letters(request: web.Request) -> web.Response:
    """The latest dead letters (per partition, ``?limit=``), newest first."""
    svc = services(request)
    letters = await list_dead_letters(
        svc.settings.kafka_bootstrap or "", svc.topics, _limit(request)
    )
    return web.json_response({"deadletters": letters})


@routes.post("/v1/deadletters/redrive")
async def redrive_letters(request: web.Request) -> web.Response:
    """Re-publish the named dead letters' original bytes to their original topics."""
    try:
        body = RedriveRequest.model_validate_json(await request.read())
    except ValidationError as exc:
        raise invalid_body(exc) from None
    svc = services(request)
    try:
        sent: list[dict[str, Any]] = await redrive(
            svc.settings.kafka_bootstrap or "", svc.topics, svc.publisher, body.ids
        )
    except DeadLetterNotFound as exc:
        raise ApiError(404, "not_found", str(exc), "ids") from None
    return web.json_response({"redriven": sent})
