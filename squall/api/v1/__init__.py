"""Squall's own API under ``/v1``: definitions, executions, actions, tokens, events.

Each module registers its routes, with their documentation, on one ``registry``;
``install`` adds them to an application.
"""

from __future__ import annotations

from aiohttp import web

from squall.api.v1 import admin, core, definitions, events, executions
from squall.api.v1.common import registry

#: Largest definitions file or request body the API reads.
MAX_BODY = 4 * 1024 * 1024

__all__ = [
    "MAX_BODY",
    "admin",
    "core",
    "definitions",
    "events",
    "executions",
    "install",
    "registry",
]


def install(app: web.Application) -> None:
    """Add every ``/v1`` route (and ``/healthz``, ``/openapi.json``) to ``app``."""
    registry.add_to(app)
