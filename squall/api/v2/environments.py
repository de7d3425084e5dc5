"""Mistral's ``/v2/environments``: named variables an execution can take as its ``env``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from schemas.base import utcnow
from squall.api.context import project, services
from squall.api.errors import ApiError, not_found
from squall.api.stored import definition_id
from squall.api.v2.format import answer, decoded, encoded, json_body, stamp

routes = web.RouteTableDef()
Doc = dict[str, Any]


def _view(doc: Doc) -> Doc:
    return {
        "id": definition_id(doc["project"], "environment", doc["name"]),
        "name": doc["name"],
        "description": doc.get("description") or "",
        "variables": encoded(doc["variables"]),
        "scope": doc.get("scope", "private"),
        "project_id": doc["project"],
        "created_at": stamp(doc["created_at"]),
        "updated_at": stamp(doc["updated_at"]),
    }


async def _save(request: web.Request, *, create: bool) -> Doc:
    svc, owner = services(request), project(request)
    body = await json_body(request)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "invalid_input", "name is required", "name")
    variables = decoded(body.get("variables") or {}, "variables")
    if not isinstance(variables, dict):
        raise ApiError(400, "invalid_input", "variables must be a JSON object", "variables")
    envs = svc.db["environments"]
    key = f"{owner}/{name}"
    exists = await envs.find_one({"_id": key}, {"_id": 1}) is not None
    if create and exists:
        raise ApiError(409, "conflict", f"Duplicate entry for Environment: {name}")
    if not create and not exists:
        raise not_found("Environment", name)
    now = utcnow()
    fields = {"project": owner, "name": name, "variables": variables, "updated_at": now}
    for optional in ("description", "scope"):
        if body.get(optional) is not None:
            fields[optional] = str(body[optional])
    await envs.update_one(
        {"_id": key}, {"$set": fields, "$setOnInsert": {"created_at": now}}, upsert=True
    )
    doc = await envs.find_one({"_id": key})
    assert doc is not None
    return _view(doc)


@routes.post("/v2/environments")
async def create_environment(request: web.Request) -> web.Response:
    """Create an environment."""
    return answer(await _save(request, create=True), 201)


@routes.put("/v2/environments")
async def update_environment(request: web.Request) -> web.Response:
    """Replace an environment's variables or description."""
    return answer(await _save(request, create=False))


@routes.get("/v2/environments")
async def list_environments(request: web.Request) -> web.Response:
    """The project's environments."""
    envs = services(request).db["environments"]
    cursor = envs.find({"project": project(request)}).sort("name", 1)
    return answer({"environments": [_view(doc) async for doc in cursor]})


@routes.get("/v2/environments/{name}")
async def get_environment(request: web.Request) -> web.Response:
    """One environment."""
    name = request.match_info["name"]
    doc = await services(request).db["environments"].find_one({"_id": f"{project(request)}/{name}"})
    if doc is None:
        raise not_found("Environment", name)
    return answer(_view(doc))


@routes.delete("/v2/environments/{name}")
async def delete_environment(request: web.Request) -> web.Response:
    """Delete an environment."""
    name = request.match_info["name"]
    envs = services(request).db["environments"]
    result = await envs.delete_one({"_id": f"{project(request)}/{name}"})
    if not result.deleted_count:
        raise not_found("Environment", name)
    return web.Response(status=204)
