"""``POST /hooks/{name}``: authenticate, turn the payload into events, publish, answer.

The answer is 202 only once Kafka acknowledged every event of the delivery; when
Kafka cannot be reached the answer is 503 with Retry-After, so the sender retries
and nothing is lost. A delivery with an idempotency key (the ``Idempotency-Key``
header, or one the adapter derives) gets event ids derived from that key, and a
repeat of it is answered with the same ids without publishing again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aiohttp import web
from pymongo.asynchronous.collection import AsyncCollection

from schemas import CloudEvent
from schemas.base import utcnow
from schemas.bus import Outbound, Publisher, Topics
from schemas.definitions.hooks import Hook
from schemas.errors import ErrorBody
from schemas.ids import derive_id
from triggers.webhooks import WebhookError, authenticate, idempotency_key, to_events

log = logging.getLogger(__name__)

HookLookup = Callable[[str], Hook | None]

#: How long a sender may wait for Kafka before being told to retry.
PUBLISH_TIMEOUT_S = 10.0
#: How long a delivery's idempotency key is remembered.
DELIVERY_MEMORY = timedelta(days=1)


def error_response(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    """A JSON error in Squall's one error shape."""
    body = ErrorBody(code=code, message=message, field=field).model_dump_json()
    return web.Response(status=status, text=body, content_type="application/json")


class WebhookReceiver:
    """The aiohttp handler for every hook."""

    def __init__(
        self,
        hooks: HookLookup,
        publisher: Publisher,
        topics: Topics,
        deliveries: AsyncCollection[dict[str, Any]],
    ) -> None:
        self._hooks = hooks
        self._publisher = publisher
        self._topics = topics
        self._deliveries = deliveries

    async def handle(self, request: web.Request) -> web.Response:
        """Accept one delivery."""
        name = request.match_info["name"]
        hook = self._hooks(name)
        if hook is None:
            return error_response(404, "not_found", f"no hook named '{name}'")
        try:
            body = await _read_limited(request, hook.max_body_bytes)
            headers = {k.lower(): v for k, v in request.headers.items()}
            authenticate(hook, headers=headers, query=dict(request.query), body=body)
            events = to_events(hook, body=body, content_type=request.content_type, headers=headers)
            key = idempotency_key(hook, headers=headers, events=events)
        except WebhookError as exc:
            return error_response(exc.status, _code(exc.status), exc.message, exc.field)
        if key is not None:
            seen = await self._deliveries.find_one({"_id": f"{hook.project}/{hook.name}/{key}"})
            if seen is not None:
                return _accepted(seen["event_ids"], repeated=True)
        if key is not None and hook.adapter != "cloudevents":
            # Ids derived from the key make even two concurrent copies of one delivery
            # the same events; CloudEvents producers choose stable ids themselves.
            events = [
                e.model_copy(update={"id": derive_id(hook.project, hook.name, key, i)})
                for i, e in enumerate(events)
            ]
        try:
            await asyncio.wait_for(self._publish(events), PUBLISH_TIMEOUT_S)
        except Exception as exc:
            log.warning(
                "hook %s: events not published (%s); answering 503", name, type(exc).__name__
            )
            response = error_response(
                503, "unavailable", "events could not be stored right now; retry later"
            )
            response.headers["Retry-After"] = "5"
            return response
        ids = [e.id for e in events]
        if key is not None:
            now = utcnow()
            await self._deliveries.update_one(
                {"_id": f"{hook.project}/{hook.name}/{key}"},
                {
                    "$setOnInsert": {
                        "event_ids": ids,
                        "at": now,
                        "expires_at": now + DELIVERY_MEMORY,
                    }
                },
                upsert=True,
            )
        return _accepted(ids, repeated=False)

    async def _publish(self, events: list[CloudEvent]) -> None:
        await self._publisher.publish(
            [Outbound(self._topics.events, e.subject or e.id, e.to_bytes()) for e in events]
        )


async def _read_limited(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise WebhookError(
            413, f"body is {request.content_length} bytes; this hook accepts at most {limit}"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise WebhookError(413, f"body is larger than {limit} bytes, this hook's limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _accepted(ids: list[str], *, repeated: bool) -> web.Response:
    return web.json_response(
        {"event_ids": ids, "event_id": ids[0] if ids else None, "repeated": repeated}, status=202
    )


def _code(status: int) -> str:
    return {
        400: "invalid_payload",
        401: "unauthorized",
        413: "payload_too_large",
        415: "unsupported_media_type",
    }.get(status, "invalid_request")
