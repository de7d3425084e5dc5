"""``/v1/rules``, ``/v1/hooks``, ``/v1/timers``: one definition at a time.

Each is checked as ``/v1/apply`` checks it (the same models, then
``check_references``) and stored beside applied ones, bumping the revision every
role watches. A hook's secret is write-only: it is stored, never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from aiohttp import web
from bson.errors import InvalidDocument
from pydantic import BaseModel, ConfigDict, Field, create_model
from pymongo.errors import WriteError

from schemas.base import utcnow
from schemas.definitions import DefinitionsFile, Hook, Rule, Timer
from squall.api.context import project, services
from squall.api.errors import ApiError
from squall.api.stored import StoredDefinitions
from squall.api.v1.common import (
    invalid_definitions,
    json_object,
    model_response,
    query_as,
    registry,
    validated,
)
from squall.definitions import check_references
from triggers.timers import TimerError, next_fire_times

Doc = dict[str, Any]

#: How a hook is shown: every field but the secret.
HookView = cast(
    type[BaseModel],
    create_model(  # type: ignore[call-overload]
        "HookView",
        __config__=ConfigDict(populate_by_name=True),
        __doc__="A webhook as shown: its secret is write-only.",
        **{n: (f.annotation, f) for n, f in Hook.model_fields.items() if n != "secret"},
    ),
)


class TimerView(Timer):
    """A timer and its next fire times, in the timer's own time zone."""

    next_fires: list[datetime] = Field(default_factory=list)


class RuleList(BaseModel):
    """The project's rules, by name."""

    rules: list[Rule]


class HookList(BaseModel):
    """The project's webhooks, by name (secrets left out)."""

    hooks: list[HookView]  # type: ignore[valid-type]


class TimerList(BaseModel):
    """The project's timers, by name, with their next fire times."""

    timers: list[TimerView]


class FiresQuery(BaseModel):
    """How many next fire times a timer listing shows."""

    fires: int = Field(default=5, ge=0, le=100)


@dataclass(frozen=True)
class Kind:
    """One kind of definition served under ``/v1/<plural>``."""

    name: str
    plural: str
    model: type[BaseModel]


RULE = Kind("rule", "rules", Rule)
HOOK = Kind("hook", "hooks", Hook)
TIMER = Kind("timer", "timers", Timer)


def _store(request: web.Request) -> StoredDefinitions:
    return StoredDefinitions(services(request).db)


def _parse(kind: Kind, data: Doc, name: str | None) -> BaseModel:
    if name is not None:
        given = data.get("name", name)
        if given != name:
            raise ApiError(
                400, "invalid_request", f"name: expected '{name}' (the URL's), got {given!r}"
            )
        data = {**data, "name": name}
    model = validated(kind.model, data)
    name = _name(model)
    single = DefinitionsFile.model_construct(
        version="2.0",
        name=name,
        rules={name: model} if isinstance(model, Rule) else {},
        hooks={name: model} if isinstance(model, Hook) else {},
        timers={name: model} if isinstance(model, Timer) else {},
    )
    problems = check_references(single, "<request>")
    if problems:
        raise invalid_definitions(problems)
    if isinstance(model, Timer):
        _fires(model, 1)
    return model


def _name(model: BaseModel) -> str:
    return str(model.model_dump(include={"name"})["name"])


def _fires(timer: Timer, count: int) -> list[datetime]:
    try:
        return [
            t.astimezone(timer.zone) for t in next_fire_times(timer, after=utcnow(), count=count)
        ]
    except (TimerError, ValueError, OverflowError) as exc:
        raise ApiError(400, "invalid_schedule", f"schedule: {exc}") from None


def _stored_body(model: BaseModel, owner: str) -> Doc:
    body = model.model_dump(mode="json", by_alias=True)
    if isinstance(model, Hook):
        body["secret"] = model.secret.get_secret_value()
        body["project"] = owner
    return body


def _view(kind: Kind, body: Doc, fires: int) -> BaseModel:
    if kind is HOOK:
        return HookView.model_validate({k: v for k, v in body.items() if k != "secret"})
    if kind is TIMER:
        timer = Timer.model_validate(body)
        try:
            upcoming = _fires(timer, fires) if fires else []
        except ApiError:
            upcoming = []
        return TimerView.model_validate({**body, "next_fires": upcoming})
    return kind.model.model_validate(body)


async def _check_hook_name(request: web.Request, name: str) -> None:
    # Hooks are addressed by name alone (POST /hooks/{name}): one project per name.
    taken = (
        await services(request)
        .db["definitions"]
        .find_one({"kind": "hook", "name": name, "project": {"$ne": project(request)}})
    )
    if taken is not None:
        raise ApiError(409, "conflict", f"another project has a hook named '{name}'", "name")


async def _write(request: web.Request, kind: Kind, model: BaseModel) -> BaseModel:
    owner, name = project(request), _name(model)
    if kind is HOOK:
        await _check_hook_name(request, name)
    body = _stored_body(model, owner)
    try:
        doc = await _store(request).put(owner, kind.name, name, body)
    except (InvalidDocument, WriteError, OverflowError) as exc:
        raise ApiError(400, "invalid_request", f"cannot store this {kind.name}: {exc}") from None
    await services(request).definitions.refresh()
    return _view(kind, doc["body"], FiresQuery().fires)


def _crud(kind: Kind, view: type[BaseModel], listing: type[BaseModel]) -> None:
    """Register create, replace, get, list and delete for ``kind``."""
    collection, item = f"/v1/{kind.plural}", f"/v1/{kind.plural}/{{name}}"

    @registry.route(
        "POST",
        collection,
        f"Create a {kind.name}",
        request=kind.model,
        response=view,
        status=201,
        errors=(409,),
    )
    async def create(request: web.Request) -> web.Response:
        model = _parse(kind, await json_object(request), None)
        name = _name(model)
        if await _store(request).get(project(request), kind.name, name) is not None:
            raise ApiError(409, "conflict", f"a {kind.name} named '{name}' exists", "name")
        return model_response(await _write(request, kind, model), 201)

    @registry.route(
        "PUT", item, f"Create or replace a {kind.name}", request=kind.model, response=view
    )
    async def replace(request: web.Request) -> web.Response:
        model = _parse(kind, await json_object(request), request.match_info["name"])
        return model_response(await _write(request, kind, model))

    @registry.route("GET", item, f"One {kind.name}", query=FiresQuery, response=view, errors=(404,))
    async def get(request: web.Request) -> web.Response:
        fires = query_as(request, FiresQuery).fires
        name = request.match_info["name"]
        doc = await _store(request).get(project(request), kind.name, name)
        if doc is None:
            raise ApiError(404, "not_found", f"no {kind.name} named '{name}'")
        return model_response(_view(kind, doc["body"], fires))

    @registry.route(
        "GET", collection, f"Every {kind.name} of the project", query=FiresQuery, response=listing
    )
    async def list_all(request: web.Request) -> web.Response:
        fires = query_as(request, FiresQuery).fires
        docs = await _store(request).list(project(request), kind.name)
        items = [_view(kind, doc["body"], fires) for doc in docs]
        return model_response(listing.model_validate({kind.plural: items}))

    @registry.route("DELETE", item, f"Delete a {kind.name}", status=204, errors=(404,))
    async def delete(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if not await _store(request).delete(project(request), kind.name, name):
            raise ApiError(404, "not_found", f"no {kind.name} named '{name}'")
        await services(request).definitions.refresh()
        return web.Response(status=204)


_crud(RULE, Rule, RuleList)
_crud(HOOK, HookView, HookList)
_crud(TIMER, TimerView, TimerList)
