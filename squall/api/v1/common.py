"""What every ``/v1`` module shares: the route registry and the request parsing helpers."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from schemas.base import parse_json
from schemas.definitions import Issue
from squall.api.access import read_body
from squall.api.errors import ApiError, invalid_body
from squall.api.openapi import Registry

M = TypeVar("M", bound=BaseModel)

#: Every documented ``/v1`` route (and ``/healthz``, ``/openapi.json``) registers here.
registry = Registry()


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; 400 for anything else."""
    raw = await read_body(request)
    try:
        data = parse_json(raw or b"{}")
    except ValueError as exc:
        raise ApiError(400, "invalid_request", f"body: expected JSON, got error {exc}") from None
    if not isinstance(data, dict):
        got = type(data).__name__
        raise ApiError(400, "invalid_request", f"body: expected a JSON object, got {got}")
    return data


def validated(model: type[M], data: Any) -> M:
    """``data`` as ``model``; 400 naming the first invalid field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_body(exc) from None


async def body_as(request: web.Request, model: type[M]) -> M:
    """The JSON body validated as ``model``."""
    return validated(model, await json_object(request))


def query_as(request: web.Request, model: type[M]) -> M:
    """The query string validated as ``model`` (unknown parameters are ignored)."""
    return validated(model, dict(request.query))


def model_response(model: BaseModel, status: int = 200) -> web.Response:
    """``model`` as JSON, with the names its schema documents."""
    return web.json_response(text=model.model_dump_json(by_alias=True), status=status)


def invalid_definitions(issues: list[Issue]) -> ApiError:
    """A 400 listing every problem of submitted definitions."""
    shown = "; ".join(f"{i.file}:{i.line}:{i.column} {i.path}: {i.message}" for i in issues[:5])
    error = ApiError(
        400,
        "invalid_definitions",
        f"{len(issues)} problem(s): {shown}",
        issues[0].path if issues else None,
    )
    error.body.details = [dataclasses.asdict(i) for i in issues]
    return error
