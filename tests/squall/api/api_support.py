"""Shared helpers for the API tests: tokens and a running Squall with authentication on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pymongo import AsyncMongoClient

from squall.auth import TokenStore
from squall.settings import Settings
from tests.harness import Api, running

WORKFLOW = """\
version: '2.0'
greet:
  input:
    - name
    - greeting: hello
  tasks:
    say:
      action: std.echo output="<% $.greeting %> <% $.name %>"
      publish:
        said: <% task().result %>
"""


def secured(settings: Settings) -> Settings:
    """The same settings with API tokens required."""
    return settings.model_copy(update={"auth_disabled": False})


async def make_token(settings: Settings, project: str, role: str) -> str:
    """A fresh token, created the way `squall token create` does."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_uri, tz_aware=True)
    try:
        token, _ = await TokenStore(client[settings.mongo_db]).create(project, role)
    finally:
        await client.close()
    return token


def bearer(token: str) -> dict[str, str]:
    """Headers carrying ``token``."""
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def squall(settings: Settings, roles: set[str] | None = None) -> AsyncIterator[Api]:
    """Squall running with ``roles`` (all but the timer by default)."""
    async with running(settings, roles or {"api", "engine", "executor"}) as api:
        yield api
