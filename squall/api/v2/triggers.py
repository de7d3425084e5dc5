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
from squall.services import Services
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


#: What Mistral refuses to change in an event trigger (delete and create it instead).
FIXED_SOURCE = ("exchange", "topic", "event")


async def _save_event_trigger(
    svc: Services, owner: str, name: str, body: Doc, source: dict[str, str]
) -> Doc:
    """Store the rule an event trigger stands for: events of type ``event`` from
    ``exchange`` start the workflow."""
    try:
        rule = Rule.model_validate(
            {
                "name": name,
                "pattern": {"source": [source["exchange"]], "type": [source["event"]]},
                "workflow": workflow_name_of(svc, owner, body),
                "input": decoded(body.get("workflow_input") or {}, "workflow_input"),
                "params": decoded(body.get("workflow_params") or {}, "workflow_params"),
            }
        )
    except ValidationError as exc:
        raise _invalid(exc) from None
    doc = await StoredDefinitions(svc.db).put(
        owner, "rule", name, rule.model_dump(mode="json", by_alias=True), mistral=source
    )
    await svc.definitions.refresh()
    return doc


@routes.post("/v2/event_triggers")
async def create_event_trigger(request: web.Request) -> web.Response:
    """Create an event trigger: a rule matching events of type ``event`` from ``exchange``."""
    svc, owner = services(request), project(request)
    body = await json_body(request)
    missing = [k for k in ("name", *FIXED_SOURCE) if not body.get(k)]
    if missing:
        raise ApiError(400, "invalid_input", f"missing {', '.join(missing)}", missing[0])
    name = str(body["name"])
    if await StoredDefinitions(svc.db).get(owner, "rule", name) is not None:
        raise ApiError(409, "conflict", f"Duplicate entry for event trigger: {name}")
    await svc.definitions.refresh()
    source = {k: str(body[k]) for k in FIXED_SOURCE}
    return answer(event_view(await _save_event_trigger(svc, owner, name, body, source)), 201)


@routes.put("/v2/event_triggers/{id}")
async def update_event_trigger(request: web.Request) -> web.Response:
    """Change the workflow an event trigger starts, or its input or params (Mistral
    refuses changes to exchange, topic and event, and so does Squall)."""
    svc, owner = services(request), project(request)
    body = await json_body(request)
    if any(body.get(k) for k in FIXED_SOURCE):
        raise ApiError(
            400, "invalid_input", f"Can not update fields {list(FIXED_SOURCE)} of event trigger."
        )
    doc = await _event_trigger(svc, owner, request.match_info["id"])
    if body.get("name") not in (None, doc["name"]):
        raise ApiError(400, "invalid_input", "an event trigger cannot be renamed", "name")
    rule = Rule.model_validate(doc["body"])
    await svc.definitions.refresh()
    merged = {
        "workflow_name": rule.workflow,
        "workflow_input": rule.input,
        "workflow_params": rule.params,
        **{k: v for k, v in body.items() if v is not None},
    }
    if body.get("workflow_id"):
        merged.pop("workflow_name")
    updated = await _save_event_trigger(svc, owner, doc["name"], merged, doc["mistral"])
    return answer(event_view(updated))


async def _event_trigger(svc: Services, owner: str, ident: str) -> Doc:
    doc = await StoredDefinitions(svc.db).by_id(owner, "rule", ident)
    if doc is None or not doc.get("mistral"):
        raise not_found("Event trigger", ident)
    return doc


@routes.get("/v2/event_triggers")
async def list_event_triggers(request: web.Request) -> web.Response:
    """The project's event triggers."""
    docs = await StoredDefinitions(services(request).db).list(project(request), "rule")
    return answer({"event_triggers": [event_view(d) for d in docs if d.get("mistral")]})


@routes.get("/v2/event_triggers/{id}")
async def get_event_trigger(request: web.Request) -> web.Response:
    """One event trigger by id or name."""
    svc = services(request)
    return answer(event_view(await _event_trigger(svc, project(request), request.match_info["id"])))


@routes.delete("/v2/event_triggers/{id}")
async def delete_event_trigger(request: web.Request) -> web.Response:
    """Delete an event trigger."""
    svc, owner = services(request), project(request)
    doc = await _event_trigger(svc, owner, request.match_info["id"])
    await StoredDefinitions(svc.db).delete(owner, "rule", doc["name"])
    await svc.definitions.refresh()
    return web.Response(status=204)
