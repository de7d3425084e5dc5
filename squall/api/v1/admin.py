"""``/v1/actions`` (the catalogue and the project's ad-hoc actions) and ``/v1/tokens``."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from actions.catalogue import ActionCatalogue, ActionInfo, adhoc_info
from schemas.definitions import AdHocAction
from squall.api.context import TOKENS, project, services
from squall.api.errors import ApiError
from squall.api.stored import StoredDefinitions
from squall.api.v1.common import body_as, model_response, registry
from squall.auth import TokenInfo


class ActionList(BaseModel):
    """Every action the project can call, by name: the catalogue's, then its ad-hoc ones."""

    actions: list[ActionInfo]


class TokenRequest(BaseModel):
    """Body of ``POST /v1/tokens``: a token for the caller's project."""

    role: Literal["admin", "operator", "viewer"]
    description: str = Field(default="", max_length=1000)


class TokenView(BaseModel):
    """A token as listed: never the token itself."""

    id: str
    project: str
    role: str
    description: str
    created_at: datetime


class TokenCreated(TokenView):
    """A new token: ``token`` is shown this once and stored only as a hash."""

    token: str


class TokenList(BaseModel):
    """The project's tokens, oldest first."""

    tokens: list[TokenView]


@functools.cache
def _catalogue() -> dict[str, ActionInfo]:
    return {info.name: info for info in ActionCatalogue.default().list()}


def _adhoc(doc: dict[str, Any]) -> ActionInfo:
    return adhoc_info(doc["name"], AdHocAction.model_validate(doc["body"]))


@registry.route("GET", "/v1/actions", "The action catalogue", response=ActionList)
async def list_actions(request: web.Request) -> web.Response:
    """Name, description and input signature of each action the project can call:
    the built-in and plugin actions, then the project's ad-hoc actions."""
    stored = await StoredDefinitions(services(request).db).list(project(request), "action")
    adhoc = [_adhoc(doc) for doc in stored]
    return model_response(ActionList(actions=[*_catalogue().values(), *adhoc]))


@registry.route("GET", "/v1/actions/{name}", "One action", response=ActionInfo, errors=(404,))
async def get_action(request: web.Request) -> web.Response:
    """One action: of the catalogue, or else one of the project's ad-hoc actions."""
    name = request.match_info["name"]
    info = _catalogue().get(name)
    if info is None:
        doc = await StoredDefinitions(services(request).db).get(project(request), "action", name)
        if doc is None:
            raise ApiError(404, "not_found", f"no action named '{name}'")
        info = _adhoc(doc)
    return model_response(info)


def _view(info: TokenInfo) -> TokenView:
    return TokenView(
        id=info.id,
        project=info.project,
        role=info.role,
        description=info.description,
        created_at=info.created_at,
    )


@registry.route(
    "POST",
    "/v1/tokens",
    "Create a token for the caller's project (shown once)",
    request=TokenRequest,
    response=TokenCreated,
    status=201,
)
async def create_token(request: web.Request) -> web.Response:
    """Create a token for the caller's project; the answer is the only time it is shown."""
    body = await body_as(request, TokenRequest)
    token, info = await request.app[TOKENS].create(project(request), body.role, body.description)
    created = TokenCreated(token=token, **_view(info).model_dump())
    return model_response(created, 201)


@registry.route("GET", "/v1/tokens", "The project's tokens", response=TokenList)
async def list_tokens(request: web.Request) -> web.Response:
    """The project's tokens (ids, roles, descriptions; never the tokens)."""
    found = await request.app[TOKENS].list(project(request))
    return model_response(TokenList(tokens=[_view(i) for i in found]))


@registry.route("DELETE", "/v1/tokens/{id}", "Revoke a token", status=204, errors=(404,))
async def revoke_token(request: web.Request) -> web.Response:
    """Revoke a token of the project; requests with it fail within seconds."""
    token_id = request.match_info["id"]
    if not await request.app[TOKENS].revoke(project(request), token_id):
        raise ApiError(404, "not_found", f"no token with id '{token_id}'")
    return web.Response(status=204)
