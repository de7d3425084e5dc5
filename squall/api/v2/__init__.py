"""OpenStack Mistral's v2 REST API under ``/v2``, enough for python-mistralclient."""

from __future__ import annotations

from aiohttp import web

from squall.api.v2 import (
    actions,
    environments,
    executions,
    reports,
    tasks,
    triggers,
    workflows,
)

#: Mistral's version document, which clients may read first.
ROOT = {"version": {"id": "v2.0", "status": "CURRENT", "links": [{"href": "/v2", "rel": "self"}]}}


async def _root(request: web.Request) -> web.Response:
    return web.json_response({**ROOT["version"], "uri": str(request.url)})


def add_routes(app: web.Application) -> None:
    """Register every ``/v2`` route on ``app``."""
    app.router.add_get("/v2", _root)
    app.router.add_get("/v2/", _root)
    for module in (workflows, executions, reports, tasks, actions, triggers, environments):
        app.add_routes(module.routes)
