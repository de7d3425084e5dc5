"""Just enough of Keystone's identity v3 API for OpenStack clients to use a Squall token.

``python-mistralclient`` and ``openstack workflow …`` always authenticate through
Keystone when given a token. Pointing ``--os-auth-url`` at Squall's ``/v3`` lets them
exchange a Squall API token (the ``token`` method, or the token as ``password``) for
itself plus a catalogue naming Squall's ``/v2`` as the ``workflowv2`` endpoint.
"""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.base import parse_json, utcnow
from squall.api.access import read_body
from squall.api.context import SERVICES, TOKENS
from squall.api.errors import ApiError
from squall.auth import Principal, Role

routes = web.RouteTableDef()
Doc = dict[str, Any]

#: Keystone's answer to a request it could not authenticate.
UNAUTHENTICATED = "The request you have made requires authentication."


class _Open(BaseModel):
    # Keystone's clients send more than Squall reads (domains, scopes): not an error.
    model_config = ConfigDict(extra="allow")


class TokenIdentity(_Open):
    """The ``token`` method: an existing token, here a Squall API token."""

    id: str


class PasswordUser(_Open):
    """The user of the ``password`` method; the password carries the Squall API token."""

    id: str | None = None
    name: str | None = None
    password: str


class PasswordIdentity(_Open):
    """The ``password`` method."""

    user: PasswordUser


class Identity(_Open):
    """How the client proves who it is: the methods it uses and each one's data."""

    methods: list[str]
    token: TokenIdentity | None = None
    password: PasswordIdentity | None = None


class Auth(_Open):
    """The ``auth`` object of a token request."""

    identity: Identity
    scope: dict[str, Any] | str | None = None


class KeystoneAuthRequest(_Open):
    """Body of ``POST /v3/auth/tokens``, as Keystone's identity API defines it."""

    auth: Auth


class KeystoneFaultDetail(BaseModel):
    """What went wrong, as Keystone says it."""

    code: int
    title: str
    message: str


class KeystoneFault(BaseModel):
    """Keystone's error body, which keystoneauth shows its user."""

    error: KeystoneFaultDetail


class Refused(Exception):
    """A token request answered with a Keystone error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> web.Response:
        """The answer in Keystone's error shape."""
        detail = KeystoneFaultDetail(
            code=self.status, title=HTTPStatus(self.status).phrase, message=self.message
        )
        return web.json_response(KeystoneFault(error=detail).model_dump(), status=self.status)


def _invalid(exc: ValidationError) -> Refused:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "body"
    return Refused(400, f"Invalid input for field '{where}': {err['msg']}")


async def _token_request(request: web.Request) -> KeystoneAuthRequest:
    try:
        raw = await read_body(request)
    except ApiError as exc:
        raise Refused(exc.status, exc.body.message) from None
    try:
        data = parse_json(raw)
    except ValueError as exc:
        raise Refused(400, f"The request body is not JSON: {exc}") from None
    try:
        return KeystoneAuthRequest.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from None


def _offered(identity: Identity) -> str | None:
    """The Squall API token the request offers, if it uses a method Squall knows."""
    if "token" in identity.methods:
        if identity.token is None:
            raise Refused(400, "Expecting to find token in identity: field 'auth.identity.token'")
        return identity.token.id
    if "password" in identity.methods:
        if identity.password is None:
            raise Refused(
                400, "Expecting to find password in identity: field 'auth.identity.password'"
            )
        return identity.password.user.password
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
        offered = _offered((await _token_request(request)).auth.identity)
    except Refused as exc:
        return exc.response()
    services = request.app[SERVICES]
    if services.settings.auth_disabled:
        found: Principal | None = Principal(project="default", role=Role.ADMIN)
        offered = offered or "unused"
    else:
        found = await request.app[TOKENS].verify(offered) if offered else None
    if found is None or offered is None:
        return Refused(401, UNAUTHENTICATED).response()
    response = web.json_response(_token_body(found, str(request.url.origin())), status=201)
    response.headers["X-Subject-Token"] = offered
    return response
