"""What every handler reaches through the application: the services and the tokens."""

from __future__ import annotations

from aiohttp import web

from squall.api.access import principal
from squall.auth import Principal, TokenStore
from squall.services import Services

SERVICES = web.AppKey("services", Services)
TOKENS = web.AppKey("tokens", TokenStore)


def services(request: web.Request) -> Services:
    """The process's shared services."""
    return request.app[SERVICES]


def project(request: web.Request) -> str:
    """The project the request acts in (from its token, or named when auth is off)."""
    return principal(request).project


def who(request: web.Request) -> Principal:
    """The request's principal."""
    return principal(request)
