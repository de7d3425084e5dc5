"""Squall's own API under ``/v1``: apply definitions, start and inspect executions, events."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from engine.queries import execution_view
from schemas import StartExecution
from schemas.bus import Outbound
from schemas.definitions import DefinitionError, load_definitions
from squall.api.context import SERVICES
from squall.api.context import project as _project
from squall.api.errors import ApiError, invalid_body
from squall.definitions import ApplyError, check_references

routes = web.RouteTableDef()

#: Largest definitions file or request body the API reads.
MAX_BODY = 4 * 1024 * 1024


class StartRequest(BaseModel):
    """Body of ``POST /v1/executions``."""

    workflow_name: str = Field(min_length=1)
    input: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    description: str = ""
    id: str | None = Field(default=None, description="client-chosen id: a retry is idempotent")


@routes.post("/v1/apply")
async def apply(request: web.Request) -> web.Response:
    """Load a definitions file (a Mistral workbook plus hooks, rules and timers)."""
    services = request.app[SERVICES]
    text = await request.text()
    filename = request.query.get("filename", "<request>")
    try:
        definitions = load_definitions(text, filename)
    except DefinitionError as exc:
        raise _invalid(exc.issues) from None
    problems = check_references(definitions, filename)
    if problems:
        raise _invalid(problems)
    try:
        report = await services.definitions_store.apply(definitions, _project(request))
    except ApplyError as exc:
        raise _invalid(exc.issues) from None
    await services.definitions.refresh()
    return web.json_response(dataclasses.asdict(report))


def _invalid(issues: list[Any]) -> ApiError:
    error = ApiError(
        400,
        "invalid_definitions",
        f"{len(issues)} problem(s): "
        + "; ".join(f"{i.file}:{i.line}:{i.column} {i.path}: {i.message}" for i in issues[:5]),
        issues[0].path if issues else None,
    )
    error.body.details = [dataclasses.asdict(i) for i in issues]
    return error


@routes.post("/v1/executions")
async def start_execution(request: web.Request) -> web.Response:
    """Start a workflow; the execution runs once the engine takes the command."""
    services = request.app[SERVICES]
    try:
        body = StartRequest.model_validate_json(await request.read())
    except ValidationError as exc:
        raise invalid_body(exc) from None
    project = _project(request)
    if services.definitions.workflow(project, body.workflow_name) is None:
        raise ApiError(
            404, "not_found", f"no workflow named '{body.workflow_name}'", "workflow_name"
        )
    execution_id = body.id or str(uuid.uuid4())
    command = StartExecution(
        command_id=f"start:{execution_id}",
        execution_id=execution_id,
        project=project,
        workflow_name=body.workflow_name,
        input=body.input,
        params=body.params,
        description=body.description,
    )
    await services.publisher.publish(
        [Outbound(services.topics.commands, execution_id, command.model_dump_json().encode())]
    )
    return web.json_response({"id": execution_id, "workflow_name": body.workflow_name}, status=201)


@routes.get("/v1/executions/{id}")
async def get_execution(request: web.Request) -> web.Response:
    """An execution with its state, tasks, results and history."""
    services = request.app[SERVICES]
    execution_id = request.match_info["id"]
    docs = await services.engine_store.load_executions([execution_id])
    doc = docs.get(execution_id)
    if doc is None or doc["project"] != _project(request):
        raise ApiError(404, "not_found", f"no execution with id '{execution_id}'")
    return web.json_response(text=execution_view(doc).model_dump_json())


@routes.get("/v1/events/{id}")
async def get_event(request: web.Request) -> web.Response:
    """An archived event and the executions it caused."""
    services = request.app[SERVICES]
    event_id = request.match_info["id"]
    doc = await services.engine_store.get_event(event_id)
    if doc is None or doc.get("project") != _project(request):
        raise ApiError(404, "not_found", f"no event with id '{event_id}'")
    return web.json_response(
        {
            "event": doc["event"],
            "received_at": doc["received_at"].isoformat(),
            "executions": doc.get("executions", []),
        }
    )


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers and MongoDB answers it."""
    services = request.app[SERVICES]
    await services.db.command("ping")
    return web.json_response({"status": "ok"})
