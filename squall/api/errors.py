"""One JSON error shape per API, and never a stack trace.

Squall's own endpoints answer ``schemas.errors.ErrorBody``; Mistral's ``/v2`` answers
Mistral's ``{"faultcode", "faultstring", "debuginfo"}`` so its clients show the message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from bson.errors import InvalidDocument
from pydantic import ValidationError

from schemas.errors import ErrorBody

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """An error answered to the client as is."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.body = ErrorBody(code=code, message=message, field=field)
        self.status = status


def not_found(what: str, ident: str) -> ApiError:
    """A 404 for a resource that does not exist (or belongs to another project)."""
    return ApiError(404, "not_found", f"{what} not found [id={ident}]")


def json_error(status: int, body: ErrorBody, mistral: bool = False) -> web.Response:
    """The response for an error body, in Mistral's shape when ``mistral``."""
    if mistral:
        fault = {
            "faultcode": "Client" if status < 500 else "Server",
            "faultstring": body.message,
            "debuginfo": None,
        }
        return web.Response(status=status, text=json.dumps(fault), content_type="application/json")
    return web.Response(status=status, text=body.model_dump_json(), content_type="application/json")


def invalid_body(exc: ValidationError) -> ApiError:
    """A 400 naming the first invalid field of a request body."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or None
    return ApiError(400, "invalid_request", f"{where or 'body'}: {err['msg']}", where)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into the JSON error shape of the API the request addressed."""
    mistral = request.path == "/v2" or request.path.startswith("/v2/")
    try:
        return await handler(request)
    except ApiError as exc:
        return json_error(exc.status, exc.body, mistral)
    except (InvalidDocument, OverflowError, UnicodeEncodeError) as exc:
        # Input that passed validation but that BSON cannot hold (a key with a NUL byte,
        # an integer wider than 8 bytes, a lone surrogate): the client's to fix.
        body = ErrorBody(code="invalid_request", message=f"body: cannot be stored: {exc}")
        return json_error(400, body, mistral)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_")
        return json_error(exc.status, ErrorBody(code=code, message=exc.reason), mistral)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        body = ErrorBody(code="internal", message="internal server error")
        return json_error(500, body, mistral)
