"""Mistral's ``/v2/cron_triggers`` (as Squall timers) and ``/v2/event_triggers`` (as rules)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from schemas.base import utcnow
from schemas.definitions import Rule, Timer
from squall.api.context import project, services
from squall.api.errors import ApiError, not_found
from squall.api.stored import StoredDefinitions, definition_id
from squall.api.v2.executions import workflow_name_of
from squall.api.v2.format import answer, decoded, encoded, json_body, stamp
from triggers.timers import TimerError, next_fire_times

routes = web.RouteTableDef()
Doc = dict[str, Any]


def _invalid(exc: ValidationError) -> ApiError:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return ApiError(400, "invalid_input", f"Invalid input: {where}: {err['msg']}", where or None)


def _next_fire(timer: Timer) -> str | None:
    try:
        times = next_fire_times(timer, after=utcnow(), count=1)
    except TimerError:
        return None
    return stamp(times[0]) if times else None


def cron_view(doc: Doc) -> Doc:
    """A stored timer as Mistral's cron trigger."""
    timer = Timer.model_validate(doc["body"])
    owner = doc["project"]
    return {
        "id": definition_id(owner, "timer", doc["name"]),
        "name": doc["name"],
        "pattern": timer.cron,
        "workflow_name": timer.workflow,
        "workflow_id": definition_id(owner, "workflow", timer.workflow or ""),
        "workflow_input": encoded(timer.input),
        "workflow_params": encoded(timer.params),
        "first_execution_time": stamp(timer.first_execution or timer.date),
        "next_execution_time": _next_fire(timer),
        "remaining_executions": timer.count,
        "scope": "private",
        "project_id": owner,
        "created_at": stamp(doc.get("created_at") or doc["updated_at"]),
        "updated_at": stamp(doc["updated_at"]),
    }


@routes.post("/v2/cron_triggers")
async def create_cron_trigger(request: web.Request) -> web.Response:
    """Create a cron trigger: a Squall timer (UTC) that starts a workflow."""
    svc, owner = services(request), project(request)
    body = await json_body(request)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "invalid_input", "name is required", "name")
    store = StoredDefinitions(svc.db)
    if await store.get(owner, "timer", name) is not None:
        raise ApiError(409, "conflict", f"Duplicate entry for cron trigger: {name}")
    await svc.definitions.refresh()
    spec: Doc = {
        "name": name,
        "workflow": workflow_name_of(svc, owner, body),
        "input": decoded(body.get("workflow_input") or {}, "workflow_input"),
        "params": decoded(body.get("workflow_params") or {}, "workflow_params"),
    }
    first = body.get("first_execution_time")
    if body.get("pattern"):
        spec["cron"] = body["pattern"]
        if first:
            spec["first-execution"] = first
    elif first:
        spec["date"] = first
    else:
        raise ApiError(400, "invalid_input", "pattern or first_execution_time is required")
    if body.get("remaining_executions") is not None:
        spec["count"] = body["remaining_executions"]
    try:
        timer = Timer.model_validate(spec)
    except ValidationError as exc:
        raise _invalid(exc) from None
    doc = await store.put(owner, "timer", name, timer.model_dump(mode="json", by_alias=True))
    await svc.definitions.refresh()
    return answer(cron_view(doc), 201)


@routes.get("/v2/cron_triggers")
async def list_cron_triggers(request: web.Request) -> web.Response:
    """The project's timers that start workflows with a cron pattern or a date."""
    docs = await StoredDefinitions(services(request).db).list(project(request), "timer")
    views = [
        cron_view(d) for d in docs if d["body"].get("workflow") and not d["body"].get("interval")
    ]
    return answer({"cron_triggers": views})


@routes.get("/v2/cron_triggers/{name}")
async def get_cron_trigger(request: web.Request) -> web.Response:
    """One cron trigger by name or id."""
    ident = request.match_info["name"]
    doc = await StoredDefinitions(services(request).db).by_id(project(request), "timer", ident)
    if doc is None:
        raise not_found("Cron trigger", ident)
    return answer(cron_view(doc))


@routes.delete("/v2/cron_triggers/{name}")
async def delete_cron_trigger(request: web.Request) -> web.Response:
    """Delete a cron trigger (a timer)."""
    svc, owner = services(request), project(request)
    store = StoredDefinitions(svc.db)
    doc = await store.by_id(owner, "timer", request.match_info["name"])
    if doc is None:
        raise not_found("Cron trigger", request.match_info["name"])
    await store.delete(owner, "timer", doc["name"])
    await svc.definitions.refresh()
    return web.Response(status=204)


def event_view(doc: Doc) -> Doc:
    """A stored rule made from an event trigger, as Mistral shows it."""
    rule = Rule.model_validate(doc["body"])
    owner = doc["project"]
    source = doc.get("mistral") or {}
    return {
        "id": definition_id(owner, "rule", doc["name"]),
        "name": doc["name"],
        "workflow_id": definition_id(owner, "workflow", rule.workflow or ""),
        "workflow_input": encoded(rule.input),
        "workflow_params": encoded(rule.params),
        "exchange": source.get("exchange", ""),
        "topic": source.get("topic", ""),
        "event": source.get("event", ""),
        "scope": "private",
        "project_id": owner,
        "created_at": stamp(doc.get("created_at") or doc["updated_at"]),
        "updated_at": stamp(doc["updated_at"]),
    }


@routes.post("/v2/event_triggers")
async def create_event_trigger(request: web.Request) -> web.Response:
    """Create an event trigger: a rule matching events of type ``event`` from ``exchange``."""
    svc, owner = services(request), project(request)
    body = await json_body(request)
    missing = [k for k in ("name", "exchange", "topic", "event") if not body.get(k)]
    if missing:
        raise ApiError(400, "invalid_input", f"missing {', '.join(missing)}", missing[0])
    name = str(body["name"])
    store = StoredDefinitions(svc.db)
    if await store.get(owner, "rule", name) is not None:
        raise ApiError(409, "conflict", f"Duplicate entry for event trigger: {name}")
    await svc.definitions.refresh()
    try:
        rule = Rule.model_validate(
            {
                "name": name,
                "pattern": {"source": [str(body["exchange"])], "type": [str(body["event"])]},
                "workflow": workflow_name_of(svc, owner, body),
                "input": decoded(body.get("workflow_input") or {}, "workflow_input"),
                "params": decoded(body.get("workflow_params") or {}, "workflow_params"),
            }
        )
    except ValidationError as exc:
        raise _invalid(exc) from None
    source = {k: str(body[k]) for k in ("exchange", "topic", "event")}
    doc = await store.put(
        owner, "rule", name, rule.model_dump(mode="json", by_alias=True), mistral=source
    )
    await svc.definitions.refresh()
    return answer(event_view(doc), 201)


@routes.get("/v2/event_triggers")
async def list_event_triggers(request: web.Request) -> web.Response:
    """The project's event triggers."""
    docs = await StoredDefinitions(services(request).db).list(project(request), "rule")
    return answer({"event_triggers": [event_view(d) for d in docs if d.get("mistral")]})


@routes.get("/v2/event_triggers/{id}")
async def get_event_trigger(request: web.Request) -> web.Response:
    """One event trigger by id or name."""
    ident = request.match_info["id"]
    doc = await StoredDefinitions(services(request).db).by_id(project(request), "rule", ident)
    if doc is None or not doc.get("mistral"):
        raise not_found("Event trigger", ident)
    return answer(event_view(doc))


@routes.delete("/v2/event_triggers/{id}")
async def delete_event_trigger(request: web.Request) -> web.Response:
    """Delete an event trigger."""
    svc, owner = services(request), project(request)
    store = StoredDefinitions(svc.db)
    doc = await store.by_id(owner, "rule", request.match_info["id"])
    if doc is None or not doc.get("mistral"):
        raise not_found("Event trigger", request.match_info["id"])
    await store.delete(owner, "rule", doc["name"])
    await svc.definitions.refresh()
    return web.Response(status=204)
