"""Just enough of Keystone's identity v3 API for OpenStack clients to use a Squall token.

``python-mistralclient`` and ``openstack workflow …`` always authenticate through
Keystone when given a token. Pointing ``--os-auth-url`` at Squall's ``/v3`` lets them
exchange a Squall API token (the ``token`` method, or the token as ``password``) for
itself plus a catalogue naming Squall's ``/v2`` as the ``workflowv2`` endpoint.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from schemas.base import utcnow
from squall.api.context import SERVICES, TOKENS
from squall.api.errors import ApiError
from squall.auth import Principal, Role

routes = web.RouteTableDef()
Doc = dict[str, Any]


def _offered(body: Doc) -> str | None:
    identity = (body.get("auth") or {}).get("identity") or {}
    methods = identity.get("methods") or []
    if "token" in methods:
        token = (identity.get("token") or {}).get("id")
        return token if isinstance(token, str) else None
    if "password" in methods:
        secret = ((identity.get("password") or {}).get("user") or {}).get("password")
        return secret if isinstance(secret, str) else None
    return None


def _token_body(found: Principal, base: str) -> Doc:
    now = utcnow()
    project = {"id": found.project, "name": found.project, "domain": {"id": "default"}}
    return {
        "token": {
            "methods": ["token"],
            "issued_at": now.isoformat().replace("+00:00", "Z"),
            "expires_at": (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            "project": project,
            "user": {
                "id": found.token_id or "squall",
                "name": "squall",
                "domain": {"id": "default"},
            },
            "roles": [{"id": found.role.name.lower(), "name": found.role.name.lower()}],
            "catalog": [
                {
                    "type": "workflowv2",
                    "name": "mistral",
                    "id": "squall",
                    "endpoints": [
                        {
                            "id": f"squall-{iface}",
                            "interface": iface,
                            "region": "RegionOne",
                            "region_id": "RegionOne",
                            "url": f"{base}/v2",
                        }
                        for iface in ("public", "internal", "admin")
                    ],
                }
            ],
        }
    }


@routes.get("/v3")
async def versions(request: web.Request) -> web.Response:
    """Keystone's version document for v3."""
    return web.json_response(
        {
            "version": {
                "id": "v3.14",
                "status": "stable",
                "links": [{"rel": "self", "href": f"{request.url.origin()}/v3/"}],
                "media-types": [
                    {
                        "base": "application/json",
                        "type": "application/vnd.openstack.identity-v3+json",
                    }
                ],
            }
        }
    )


@routes.post("/v3/auth/tokens")
async def issue(request: web.Request) -> web.Response:
    """Exchange a Squall API token for itself, with a service catalogue."""
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "invalid_request", "body is not JSON") from None
    offered = _offered(body) if isinstance(body, dict) else None
    services = request.app[SERVICES]
    if services.settings.auth_disabled:
        found: Principal | None = Principal(project="default", role=Role.ADMIN)
        offered = offered or "unused"
    else:
        found = await request.app[TOKENS].verify(offered) if offered else None
    if found is None or offered is None:
        raise ApiError(401, "unauthenticated", "The request you have made requires authentication.")
    response = web.json_response(_token_body(found, str(request.url.origin())), status=201)
    response.headers["X-Subject-Token"] = offered
    return response
