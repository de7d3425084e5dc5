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
from pydantic import BaseModel, Field

from engine.evaluations import EvaluationStore, record_view
from engine.replay import Replayer
from schemas.replays import ReplayProgress, ReplayRequest
from squall.api.context import SERVICES, project, services, who
from squall.api.errors import ApiError
from squall.api.openapi import Registry
from squall.api.v1.common import body_as, model_response, query_as
from squall.auth import Role
from triggers.kafka_sources import (
    DeadLetterNotFound,
    LetterScope,
    letter_view,
    list_dead_letters,
    read_letters,
    redrive,
)

#: This module's routes, documented in the OpenAPI document beside ``/v1``'s others.
registry = Registry()
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
    registry.add_to(app)
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


class EvaluationQuery(BaseModel):
    """Filters and paging of a rule's evaluations (newest first)."""

    outcome: str | None = Field(default=None, description="only evaluations with this outcome")
    before: datetime | None = Field(default=None, description="only evaluations before this time")
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)


class LimitQuery(BaseModel):
    """How many items to show."""

    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)


class Evaluations(BaseModel):
    """Evaluation records, newest first: what each rule decided about an event and why."""

    evaluations: list[dict[str, Any]]


class ReplayStarted(BaseModel):
    """A replay accepted: follow it at ``GET /v1/replays/{id}``."""

    id: str
    state: str


class DeadLetters(BaseModel):
    """Dead letters, newest first, each with its reason and original record."""

    deadletters: list[dict[str, Any]]


class Redriven(BaseModel):
    """Where each re-driven letter's original bytes were sent again."""

    redriven: list[dict[str, Any]]


@registry.route(
    "GET",
    "/v1/rules/{name}/evaluations",
    "The latest evaluations of a rule, newest first",
    query=EvaluationQuery,
    response=Evaluations,
)
async def rule_evaluations(request: web.Request) -> web.Response:
    """The latest evaluations of a rule, newest first (``?outcome=``, ``?before=``, ``?limit=``)."""
    query = query_as(request, EvaluationQuery)
    store = EvaluationStore(services(request).db)
    docs = await store.for_rule(
        project(request),
        request.match_info["name"],
        limit=query.limit,
        outcome=query.outcome,
        before=query.before,
    )
    return model_response(Evaluations(evaluations=[record_view(d) for d in docs]))


@registry.route(
    "GET",
    "/v1/events/{id}/evaluations",
    "Every rule whose pattern the event matched, and what each decided",
    response=Evaluations,
)
async def event_evaluations(request: web.Request) -> web.Response:
    """Every rule whose pattern the event matched, and what each decided."""
    store = EvaluationStore(services(request).db)
    docs = await store.for_event(project(request), request.match_info["id"])
    return model_response(Evaluations(evaluations=[record_view(d) for d in docs]))


@registry.route(
    "POST",
    "/v1/replays",
    "Replay archived events of a time range through the current rules (or a dry run)",
    request=ReplayRequest,
    response=ReplayStarted,
    status=202,
    errors=(400, 413),
)
async def start_replay(request: web.Request) -> web.Response:
    """Replay archived events of a time range through the current rules (or a dry run)."""
    body = await body_as(request, ReplayRequest)
    replayer = await request.app[REPLAYERS].get(request.app)
    replay_id = await replayer.start(body, project(request))
    return model_response(ReplayStarted(id=replay_id, state="running"), status=202)


@registry.route(
    "GET",
    "/v1/replays/{id}",
    "A replay's progress and, for a dry run, its per-event results",
    response=ReplayProgress,
    errors=(404,),
)
async def get_replay(request: web.Request) -> web.Response:
    """A replay's progress and, for a dry run, its per-event results."""
    replayer = await request.app[REPLAYERS].get(request.app)
    progress = await replayer.get(project(request), request.match_info["id"])
    if progress is None:
        raise ApiError(404, "not_found", f"no replay with id '{request.match_info['id']}'")
    return model_response(progress)


def _scope(request: web.Request) -> LetterScope:
    """The caller's letters; an admin also sees those no project could be told for."""
    caller = who(request)
    return LetterScope(caller.project, unattributed=caller.may(Role.ADMIN))


@registry.route(
    "GET",
    "/v1/deadletters",
    "The project's latest dead letters (per partition), newest first",
    query=LimitQuery,
    response=DeadLetters,
)
async def dead_letters(request: web.Request) -> web.Response:
    """The project's latest dead letters (per partition, ``?limit=``), newest first."""
    svc = services(request)
    letters = await list_dead_letters(
        svc.settings.kafka_bootstrap or "",
        svc.topics,
        _scope(request),
        query_as(request, LimitQuery).limit,
    )
    return model_response(DeadLetters(deadletters=letters))


@registry.route(
    "GET",
    "/v1/deadletters/{id}",
    "One dead letter of the project, by <partition>:<offset>",
    errors=(404,),
)
async def dead_letter(request: web.Request) -> web.Response:
    """One dead letter of the project, by ``<partition>:<offset>``."""
    svc = services(request)
    ident = request.match_info["id"]
    try:
        found = await read_letters(
            svc.settings.kafka_bootstrap or "", svc.topics, [ident], _scope(request)
        )
    except DeadLetterNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return web.json_response(letter_view(ident, found[ident]))


@registry.route(
    "POST",
    "/v1/deadletters/redrive",
    "Re-publish the named dead letters' original bytes to their original topics",
    request=RedriveRequest,
    response=Redriven,
    errors=(400, 404, 413),
)
async def redrive_letters(request: web.Request) -> web.Response:
    """Re-publish the named dead letters' original bytes to their original topics."""
    body = await body_as(request, RedriveRequest)
    svc = services(request)
    try:
        sent: list[dict[str, Any]] = await redrive(
            svc.settings.kafka_bootstrap or "", svc.topics, svc.publisher, body.ids, _scope(request)
        )
    except DeadLetterNotFound as exc:
        raise ApiError(404, "not_found", str(exc), "ids") from None
    return model_response(Redriven(redriven=sent))
