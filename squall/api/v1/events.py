"""``/v1/events``: publish an event into the project, list and read archived events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from schemas.bus import Outbound
from schemas.events import CloudEvent
from squall.api.context import project, services
from squall.api.errors import ApiError
from squall.api.v1.common import body_as, model_response, query_as, registry

Doc = dict[str, Any]


class PublishRequest(BaseModel):
    """Body of ``POST /v1/events``: a CloudEvent; the project is the caller's."""

    source: str = Field(min_length=1, max_length=1024)
    type: str = Field(min_length=1, max_length=256)
    subject: str | None = Field(default=None, max_length=1024)
    data: Any = None
    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="client-chosen: a retry is idempotent",
    )
    dedupekey: str | None = Field(default=None, max_length=1024)


class Published(BaseModel):
    """The id of an event Kafka has acknowledged."""

    id: str


class EventView(BaseModel):
    """An archived event and the executions it caused."""

    id: str
    event: dict[str, Any]
    received_at: datetime
    executions: list[str] = Field(default_factory=list)


class EventQuery(BaseModel):
    """Filters and paging of ``GET /v1/events`` (newest first)."""

    type: str | None = None
    source: str | None = None
    received_after: datetime | None = None
    received_before: datetime | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    marker: str | None = Field(default=None, description="the last id of the previous page")


class EventPage(BaseModel):
    """One page of archived events; ``next_marker`` fetches the next one."""

    events: list[EventView]
    next_marker: str | None = None


def _view(doc: Doc) -> EventView:
    return EventView(
        id=doc["_id"],
        event=doc["event"],
        received_at=doc["received_at"],
        executions=doc.get("executions", []),
    )


@registry.route(
    "POST",
    "/v1/events",
    "Publish an event to the project's rules; 202 once Kafka has it",
    request=PublishRequest,
    response=Published,
    status=202,
)
async def publish_event(request: web.Request) -> web.Response:
    """Publish an event to the project's rules; answered once Kafka acknowledged it."""
    svc = services(request)
    body = await body_as(request, PublishRequest)
    fields = body.model_dump(exclude_none=True)
    event = CloudEvent(**fields, project=project(request))
    await svc.publisher.publish(
        [Outbound(svc.topics.events, event.subject or event.id, event.to_bytes())]
    )
    return model_response(Published(id=event.id), 202)


async def _owned(request: web.Request, event_id: str) -> Doc:
    doc = await services(request).engine_store.get_event(event_id)
    if doc is None or doc.get("project") != project(request):
        raise ApiError(404, "not_found", f"no event with id '{event_id}'")
    return doc


@registry.route(
    "GET",
    "/v1/events",
    "Archived events of the project, newest first, filtered and paged",
    query=EventQuery,
    response=EventPage,
    errors=(404,),
)
async def list_events(request: web.Request) -> web.Response:
    """Archived events of the project, newest first, filtered and paged."""
    query = query_as(request, EventQuery)
    condition: Doc = {"project": project(request)}
    if query.type is not None:
        condition["event.type"] = query.type
    if query.source is not None:
        condition["event.source"] = query.source
    received: Doc = {}
    if query.received_after is not None:
        received["$gt"] = query.received_after
    if query.received_before is not None:
        received["$lt"] = query.received_before
    if received:
        condition["received_at"] = received
    if query.marker is not None:
        marker = await _owned(request, query.marker)
        at = marker["received_at"]
        older = [{"received_at": {"$lt": at}}, {"received_at": at, "_id": {"$lt": marker["_id"]}}]
        condition = {"$and": [condition, {"$or": older}]}
    cursor = services(request).engine_store.events.find(condition)
    cursor = cursor.sort([("received_at", -1), ("_id", -1)]).limit(query.limit + 1)
    docs = [doc async for doc in cursor]
    items = [_view(d) for d in docs[: query.limit]]
    more = len(docs) > query.limit
    return model_response(EventPage(events=items, next_marker=items[-1].id if more else None))


@registry.route(
    "GET",
    "/v1/events/{id}",
    "An archived event and the executions it caused",
    response=EventView,
    errors=(404,),
)
async def get_event(request: web.Request) -> web.Response:
    """An archived event and the executions it caused."""
    return model_response(_view(await _owned(request, request.match_info["id"])))
