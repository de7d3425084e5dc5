"""``/v1/apply``, health and the OpenAPI document."""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from schemas.definitions import DefinitionError, load_definitions
from squall.api.access import read_body
from squall.api.context import project, services
from squall.api.errors import ApiError
from squall.api.v1.common import invalid_definitions, model_response, registry
from squall.definitions import ApplyError, check_references

OPENAPI = web.AppKey("openapi", dict[str, Any])


class ApplyResult(BaseModel):
    """What ``/v1/apply`` stored, by kind, and what it removed."""

    workbook: str | None
    applied: dict[str, list[str]]
    removed: list[str]


class Health(BaseModel):
    """The answer of ``/healthz``."""

    status: str


@registry.route(
    "POST",
    "/v1/apply",
    "Load a definitions file (a Mistral workbook plus hooks, rules and timers)",
    body="yaml",
    response=ApplyResult,
    errors=(400, 413),
)
async def apply(request: web.Request) -> web.Response:
    """Load a definitions file (a Mistral workbook plus hooks, rules and timers)."""
    svc = services(request)
    raw = await read_body(request)
    filename = request.query.get("filename", "<request>")
    try:
        text = raw.decode()
        definitions = load_definitions(text, filename)
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_request", "body: expected UTF-8 YAML text") from None
    except DefinitionError as exc:
        raise invalid_definitions(exc.issues) from None
    problems = check_references(definitions, filename, text)
    if problems:
        raise invalid_definitions(problems)
    try:
        report = await svc.definitions_store.apply(definitions, project(request))
    except ApplyError as exc:
        raise invalid_definitions(exc.issues) from None
    await svc.definitions.refresh()
    return model_response(ApplyResult(**dataclasses.asdict(report)))


@registry.route(
    "GET",
    "/healthz",
    "Liveness: the process answers and MongoDB answers it",
    response=Health,
    public=True,
)
async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers and MongoDB answers it."""
    await services(request).db.command("ping")
    return model_response(Health(status="ok"))


@registry.route("GET", "/openapi.json", "This API's OpenAPI 3.1 document", public=True)
async def openapi(request: web.Request) -> web.Response:
    """This API's OpenAPI 3.1 document."""
    return web.json_response(request.app[OPENAPI])
