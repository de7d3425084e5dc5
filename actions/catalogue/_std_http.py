"""std.http and std.mistral_http: HTTP requests with Mistral's inputs and result shape."""

from __future__ import annotations

import base64
import json
import ssl
import time
from collections.abc import Iterator, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
from pydantic import Field, field_validator

from actions.catalogue._errors import ActionFailed
from actions.catalogue._model import Action, ActionContext, ActionInput
from actions.catalogue._netguard import GuardedConnector
from schemas.masking import mask_secrets

#: Mistral counts any status in range(200, 307) as success, redirects included.
_SUCCESS: Final = range(200, 307)
_EXCERPT_CHARS: Final = 500
_CHUNK: Final = 64 * 1024


class HttpInput(ActionInput):
    """Inputs of std.http, in Mistral's order and with Mistral's defaults."""

    url: str
    method: str = "GET"
    params: dict[str, Any] | list[Any] | str | None = None
    body: Any = None
    json_body: Any = Field(default=None, alias="json")
    headers: dict[str, Any] | None = None
    cookies: dict[str, Any] | None = None
    auth: tuple[str, str] | None = None
    timeout: float | None = Field(default=None, gt=0)
    allow_redirects: bool | None = None
    verify: bool | str | None = None

    @field_validator("auth", mode="before")
    @classmethod
    def _split_auth(cls, value: Any) -> Any:
        """Accept Mistral's ``"user:password"`` string as well as a pair."""
        if isinstance(value, str):
            user, sep, password = value.partition(":")
            if not sep or ":" in password:
                raise ValueError("auth must be 'user:password' or [user, password]")
            return (user, password)
        return value


def _query_pairs(params: dict[str, Any] | list[Any] | str) -> str | list[tuple[str, str]]:
    """Query parameters the way requests encodes them: None dropped, lists repeated."""
    if isinstance(params, str):
        return params
    items = params.items() if isinstance(params, dict) else params
    pairs: list[tuple[str, str]] = []
    for item in items:
        key, value = item
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((str(key), _text(v)) for v in values if v is not None)
    return pairs


def _text(value: Any) -> str:
    return (
        value
        if isinstance(value, str)
        else json.dumps(value)
        if isinstance(value, dict | list)
        else str(value)
    )


def _request_headers(params: HttpInput) -> dict[str, str]:
    headers = {k: _text(v) for k, v in (params.headers or {}).items() if v is not None}
    if params.auth:
        headers["Authorization"] = _basic_auth(*params.auth)
    if params.cookies:
        jar = "; ".join(f"{k}={_text(v)}" for k, v in params.cookies.items())
        existing = headers.get("Cookie")
        headers["Cookie"] = f"{existing}; {jar}" if existing else jar
    return headers


def _basic_auth(user: str, password: str) -> str:
    # Latin-1 as requests does; UTF-8 (RFC 7617) for anything Latin-1 cannot carry.
    pair = f"{user}:{password}"
    try:
        raw = pair.encode("latin-1")
    except UnicodeEncodeError:
        raw = pair.encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _ssl_option(url: str, verify: bool | str | None) -> bool | ssl.SSLContext:
    # As in Mistral, ``verify`` only matters for https URLs.
    if urlsplit(url).scheme != "https" or verify is None or verify is True:
        return True
    if verify is False:
        return False
    try:
        return ssl.create_default_context(cafile=verify)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ActionFailed(
            f"Failed to send HTTP request: verify: cannot read the CA bundle {verify}: {reason}"
        ) from exc


def _untrusted(exc: aiohttp.ClientConnectorCertificateError) -> str:
    """Why the server's certificate was refused, and the two ways to accept it."""
    cause = exc.certificate_error
    detail = getattr(cause, "verify_message", None) or str(cause)
    return (
        f"Failed to send HTTP request: certificate verify failed for {exc.host}:{exc.port}: "
        f"{detail}; set verify to the CA bundle that signed it (or false to skip the check)"
    )


def _decode(raw: bytes, charset: str | None) -> Any:
    """The body as JSON when it parses as JSON (as Mistral does), else as text."""
    text = raw.decode(charset or "utf-8", errors="replace")
    if text.strip():
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


async def _read_limited(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    if resp.content_length is not None and resp.content_length > limit:
        raise ActionFailed(f"HTTP response of {resp.content_length} bytes exceeds {limit} bytes")
    buffer = bytearray()
    async for chunk in resp.content.iter_chunked(_CHUNK):
        buffer.extend(chunk)
        if len(buffer) > limit:
            raise ActionFailed(f"HTTP response body exceeds {limit} bytes")
    return bytes(buffer)


def _excerpt(content: Any) -> str:
    text = content if isinstance(content, str) else json.dumps(content)
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "..."


class HttpAction(Action[HttpInput]):
    """Send an HTTP request and return the response as a dictionary.

    The result is ``{content, status, headers, url, history, encoding, reason,
    cookies, elapsed}``; ``content`` is parsed JSON when the body is JSON. A status
    outside 200-306 fails the action with that dictionary as error data.
    """

    name = "std.http"
    input_model = HttpInput

    async def run(self, params: HttpInput, ctx: ActionContext) -> Any:
        """Send the request, refusing forbidden addresses before connecting."""
        if params.body is not None and params.json_body is not None:
            raise ActionFailed("Only one of the parameters 'json' and 'body' can be passed")
        scheme = urlsplit(params.url).scheme
        if scheme not in ("http", "https"):
            raise ActionFailed(f"Failed to send HTTP request: unsupported URL scheme {scheme!r}")
        result = await self._send(params, self._extra_headers(ctx), ctx)
        if result["status"] not in _SUCCESS:
            shown = mask_secrets(params.url)
            raise ActionFailed(
                f"HTTP {params.method.upper()} {shown} returned {result['status']} "
                f"{result['reason']}: {_excerpt(result['content'])}",
                data=result,
            )
        return result

    def _extra_headers(self, ctx: ActionContext) -> Mapping[str, str]:
        """Headers added to every request (none for plain std.http)."""
        return {}

    async def _send(
        self, params: HttpInput, extra: Mapping[str, str], ctx: ActionContext
    ) -> dict[str, Any]:
        settings = ctx.settings
        timeout_s = params.timeout or settings.http_timeout_s
        body = params.body
        if isinstance(body, dict | list):
            body = json.dumps(body)
        elif body is not None and not isinstance(body, str | bytes):
            body = str(body)
        tls = _ssl_option(params.url, params.verify)
        connector = GuardedConnector(allow_private=settings.allow_private_networks)
        started = time.monotonic()
        try:
            async with (
                aiohttp.ClientSession(
                    connector=connector,
                    timeout=aiohttp.ClientTimeout(total=timeout_s),
                    cookie_jar=aiohttp.DummyCookieJar(),
                ) as session,
                session.request(
                    params.method.upper(),
                    params.url,
                    params=_query_pairs(params.params) if params.params is not None else None,
                    data=body,
                    json=params.json_body,
                    headers={**_request_headers(params), **extra},
                    allow_redirects=bool(params.allow_redirects),
                    ssl=tls,
                ) as resp,
            ):
                raw = await _read_limited(resp, settings.http_max_response_bytes)
                return {
                    "content": _decode(raw, resp.charset),
                    "status": resp.status,
                    "headers": dict(resp.headers.items()),
                    "url": str(resp.url),
                    "history": [{"status": r.status, "url": str(r.url)} for r in resp.history],
                    "encoding": resp.charset,
                    "reason": resp.reason,
                    "cookies": {k: m.value for k, m in resp.cookies.items()},
                    "elapsed": round(time.monotonic() - started, 6),
                }
        except TimeoutError as exc:
            raise ActionFailed(
                "Failed to send HTTP request: no complete response from "
                f"{mask_secrets(params.url)} within {timeout_s:g} s"
            ) from exc
        except aiohttp.ClientConnectorCertificateError as exc:
            raise ActionFailed(_untrusted(exc)) from exc
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise ActionFailed(f"Failed to send HTTP request: {_describe(exc)}") from exc


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if type(exc).__name__ in text else f"{type(exc).__name__}: {text}"


class MistralHttpAction(HttpAction):
    """Send an HTTP request carrying Mistral's execution headers; the result comes later.

    The receiving service reports the result by calling the URL in the
    ``Mistral-Callback-URL`` header (``PUT /v2/action_executions/<id>``).
    """

    name = "std.mistral_http"
    is_async = True

    def _extra_headers(self, ctx: ActionContext) -> Mapping[str, str]:
        return dict(_mistral_headers(ctx))


def _mistral_headers(ctx: ActionContext) -> Iterator[tuple[str, str]]:
    callback = f"/v2/action_executions/{ctx.action_execution_id}"
    if ctx.settings.api_url:
        callback = ctx.settings.api_url.rstrip("/") + callback
    yield "Mistral-Workflow-Name", ctx.workflow_name
    yield "Mistral-Workflow-Execution-Id", ctx.execution_id
    yield "Mistral-Task-Id", ctx.task_id
    yield "Mistral-Action-Execution-Id", ctx.action_execution_id
    yield "Mistral-Callback-URL", callback
