"""The REST API: Mistral's ``/v2``, Squall's ``/v1``, webhooks under ``/hooks``, health."""

from __future__ import annotations

import logging

from aiohttp import web

from squall.api import keystone, v1, v1_events, v2
from squall.api.access import MAX_BODY_KEY, access_middleware
from squall.api.context import SERVICES, TOKENS
from squall.api.errors import error_middleware
from squall.api.openapi import Endpoint, openapi_document
from squall.api.v1 import MAX_BODY
from squall.api.v1.core import OPENAPI
from squall.auth import TokenStore
from squall.services import Services
from triggers.webhooks.receiver import WebhookReceiver

log = logging.getLogger(__name__)

#: The webhook receiver lives in triggers/; its documentation lives here.
HOOK_ENDPOINT = Endpoint(
    method="POST",
    path="/hooks/{name}",
    summary="Deliver a webhook payload; 202 once Kafka has acknowledged its events",
    body="any",
    status=202,
    errors=(400, 401, 404, 413, 502),
    tag="hooks",
    public=True,
)

#: aiohttp's own cap on any body; each hook enforces its smaller limit itself.
CLIENT_MAX_SIZE = 16 * 1024 * 1024 + MAX_BODY


def auth_enabled(services: Services) -> bool:
    """Whether API requests need a token (always, unless explicitly disabled)."""
    return not services.settings.auth_disabled


def create_app(services: Services) -> web.Application:
    """The aiohttp application serving every HTTP endpoint of one process."""
    tokens = TokenStore(services.db)
    if not auth_enabled(services):
        log.warning(
            "API AUTHENTICATION IS DISABLED: anyone who reaches this port may act in any "
            "project. Set SQUALL_AUTH_DISABLED=false outside development."
        )
    app = web.Application(
        middlewares=[
            error_middleware,
            access_middleware(
                tokens if auth_enabled(services) else None, services.settings.max_request_body
            ),
        ],
        client_max_size=CLIENT_MAX_SIZE,
    )
    app[SERVICES] = services
    app[TOKENS] = tokens
    app[MAX_BODY_KEY] = services.settings.max_request_body
    v1.install(app)
    v1_events.install(app)
    v2.add_routes(app)
    app.add_routes(keystone.routes)
    receiver = WebhookReceiver(
        services.definitions.hook,
        services.publisher,
        services.topics,
        services.db["webhook_deliveries"],
    )
    app.router.add_post("/hooks/{name}", receiver.handle)
    app[OPENAPI] = openapi_document(
        [*v1.registry.endpoints, *v1_events.registry.endpoints, HOOK_ENDPOINT],
        app.router.routes(),
    )
    return app
