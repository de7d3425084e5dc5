"""The REST API: Squall's ``/v1``, webhooks under ``/hooks``, health."""

from __future__ import annotations

from aiohttp import web

from squall.api.errors import error_middleware
from squall.api.v1 import MAX_BODY, SERVICES, routes
from squall.services import Services
from triggers.webhooks.receiver import WebhookReceiver

#: aiohttp's own cap on any body; each hook enforces its smaller limit itself.
CLIENT_MAX_SIZE = 16 * 1024 * 1024 + MAX_BODY


def create_app(services: Services) -> web.Application:
    """The aiohttp application serving every HTTP endpoint of one process."""
    app = web.Application(middlewares=[error_middleware], client_max_size=CLIENT_MAX_SIZE)
    app[SERVICES] = services
    app.add_routes(routes)
    receiver = WebhookReceiver(
        services.definitions.hook,
        services.publisher,
        services.topics,
        services.db["webhook_deliveries"],
    )
    app.router.add_post("/hooks/{name}", receiver.handle)
    return app
