"""Who may call what: the token check, the role each request needs, the body size limit.

Reads need a viewer, running things (executions, tasks, action results, events) an
operator, changing definitions and tokens an admin. With authentication disabled every
request acts as admin of the project it names (``?project=`` or ``X-Project-Id``).
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Middleware

from squall.api.errors import ApiError, Handler
from squall.auth import PROJECT_PATTERN, Principal, Role, TokenStore

log = logging.getLogger(__name__)

MAX_BODY_KEY = web.AppKey("max_body", int)

PRINCIPAL = web.RequestKey("principal", Principal)
#: Endpoints that need no token: webhooks carry their own secret.
PUBLIC_PREFIXES = ("/hooks/",)
PUBLIC_PATHS = frozenset(
    {"/", "/healthz", "/metrics", "/openapi.json", "/v2", "/v2/", "/v3", "/v3/auth/tokens"}
)
#: Writes under these paths run or steer work; an operator may make them.
OPERATOR_PREFIXES = (
    "/v1/executions",
    "/v1/events",
    "/v1/replays",
    "/v1/deadletters",
    "/v2/executions",
    "/v2/tasks",
    "/v2/action_executions",
)
#: Reading these is an admin's business too.
ADMIN_READ_PREFIXES = ("/v1/tokens",)


def needed_role(method: str, path: str) -> Role:
    """The least role that may make this request."""
    if path.startswith(ADMIN_READ_PREFIXES):
        return Role.ADMIN
    if method in ("GET", "HEAD", "OPTIONS"):
        return Role.VIEWER
    if path.startswith(OPERATOR_PREFIXES):
        return Role.OPERATOR
    return Role.ADMIN


def principal(request: web.Request) -> Principal:
    """The principal the access middleware attached to ``request``."""
    found = request.get(PRINCIPAL)
    if not isinstance(found, Principal):
        raise ApiError(401, "unauthenticated", "this endpoint needs an API token")
    return found


def _token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("X-Auth-Token") or None


def _named_project(request: web.Request) -> str | None:
    return request.query.get("project") or request.headers.get("X-Project-Id") or None


def access_middleware(tokens: TokenStore | None, max_body: int) -> Middleware:
    """The middleware checking tokens (``tokens`` None: authentication disabled)."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return await handler(request)
        length = request.content_length
        if length is not None and length > max_body:
            raise ApiError(413, "too_large", f"request body over {max_body} bytes")
        named = _named_project(request)
        if tokens is None:
            project = named or "default"
            if not PROJECT_PATTERN.match(project):
                raise ApiError(400, "invalid_request", f"invalid project '{project}'", "project")
            request[PRINCIPAL] = Principal(project=project, role=Role.ADMIN)
            return await handler(request)
        token = _token(request)
        if token is None:
            raise ApiError(401, "unauthenticated", "missing API token (Authorization: Bearer …)")
        found = await tokens.verify(token)
        if found is None:
            raise ApiError(401, "unauthenticated", "invalid or revoked API token")
        if named is not None and named != found.project:
            raise ApiError(
                403, "forbidden", f"this token acts in project '{found.project}' only", "project"
            )
        needed = needed_role(request.method, path)
        if not found.may(needed):
            raise ApiError(
                403,
                "forbidden",
                f"role '{found.role.name.lower()}' may not {request.method} {path}; "
                f"needs '{needed.name.lower()}'",
            )
        request[PRINCIPAL] = found
        return await handler(request)

    return check


async def read_body(request: web.Request) -> bytes:
    """The request body, refused with 413 beyond the configured limit."""
    limit = request.app[MAX_BODY_KEY]
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", f"request body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
