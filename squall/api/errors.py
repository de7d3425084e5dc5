"""One JSON error shape for every API failure, and never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
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


def json_error(status: int, body: ErrorBody) -> web.Response:
    """The response for an error body."""
    return web.Response(status=status, text=body.model_dump_json(), content_type="application/json")


def invalid_body(exc: ValidationError) -> ApiError:
    """A 400 naming the first invalid field of a request body."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or None
    return ApiError(400, "invalid_request", f"{where or 'body'}: {err['msg']}", where)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into the JSON error shape."""
    try:
        return await handler(request)
    except ApiError as exc:
        return json_error(exc.status, exc.body)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_")
        return json_error(exc.status, ErrorBody(code=code, message=exc.reason))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, ErrorBody(code="internal", message="internal server error"))
