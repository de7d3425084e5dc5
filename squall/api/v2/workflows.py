"""Mistral's ``/v2/workflows`` and ``/v2/workbooks``: YAML in as text/plain, JSON out."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml
from aiohttp import web

from engine.expressions import validate_expressions
from schemas.base import utcnow
from schemas.definitions import DefinitionError, Workflow, load_workbook, load_workflows
from squall.api.context import project, services
from squall.api.errors import ApiError, not_found
from squall.api.stored import StoredDefinitions, definition_id
from squall.api.v2.format import answer, stamp, text_body
from squall.definitions import ApplyError

routes = web.RouteTableDef()
Doc = dict[str, Any]


def _definition_error(exc: DefinitionError | ApplyError) -> ApiError:
    first = exc.issues[0] if exc.issues else None
    where = f" (line {first.line}, {first.path})" if first else ""
    message = first.message if first else str(exc)
    return ApiError(400, "invalid_definition", f"Invalid DSL: {message}{where}")


def _signature(workflow: Workflow) -> str:
    return ", ".join(
        f"{p.name}={json.dumps(p.default)}" if p.has_default else p.name for p in workflow.input
    )


def workflow_view(doc: Doc) -> Doc:
    """A stored workflow as Mistral shows it."""
    body = doc["body"]
    workflow = Workflow.model_validate(body)
    text = doc.get("definition") or yaml.safe_dump(
        {"version": "2.0", doc["name"]: {k: v for k, v in body.items() if k != "name"}},
        sort_keys=False,
    )
    return {
        "id": definition_id(doc["project"], "workflow", doc["name"]),
        "name": doc["name"],
        "namespace": "",
        "input": _signature(workflow),
        "interface": {
            "input": [{p.name: p.default} if p.has_default else p.name for p in workflow.input],
            "output": list((workflow.output or {}).keys()),
        },
        "definition": text,
        "checksum": hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(),
        "tags": list(workflow.tags or []),
        "scope": "private",
        "project_id": doc["project"],
        "created_at": stamp(doc.get("created_at") or doc.get("updated_at")),
        "updated_at": stamp(doc.get("updated_at")),
    }


def _parse_workflows(text: str) -> dict[str, tuple[Workflow, str]]:
    try:
        workflows = load_workflows(text, "<request>")
    except DefinitionError as exc:
        raise _definition_error(exc) from None
    problems = [
        f"{name}: {problem}"
        for name, wf in workflows.items()
        for problem in validate_expressions(wf.model_dump(mode="json", by_alias=True))
    ]
    if problems:
        raise ApiError(400, "invalid_definition", f"Invalid DSL: {problems[0]}")
    if len(workflows) == 1:
        return {name: (wf, text) for name, wf in workflows.items()}
    raw = yaml.safe_load(text)
    return {
        name: (wf, yaml.safe_dump({"version": "2.0", name: raw[name]}, sort_keys=False))
        for name, wf in workflows.items()
    }


async def _store_workflows(request: web.Request, *, create: bool) -> list[Doc]:
    store = StoredDefinitions(services(request).db)
    owner = project(request)
    parsed = _parse_workflows(await text_body(request))
    for name in parsed:
        exists = await store.get(owner, "workflow", name) is not None
        if create and exists:
            raise ApiError(
                409,
                "conflict",
                f"Duplicate entry for WorkflowDefinition ['name', 'namespace', 'project_id']: "
                f"{name}, , {owner}",
            )
        if not create and not exists:
            raise not_found("Workflow", name)
    docs = []
    for name, (workflow, text) in parsed.items():
        body = workflow.model_dump(mode="json", by_alias=True)
        docs.append(await store.put(owner, "workflow", name, body, text=text))
    await services(request).definitions.refresh()
    return [workflow_view(doc) for doc in docs]


@routes.post("/v2/workflows")
async def create_workflows(request: web.Request) -> web.Response:
    """Create the workflows of a YAML document."""
    return answer({"workflows": await _store_workflows(request, create=True)}, 201)


@routes.put("/v2/workflows")
async def update_workflows(request: web.Request) -> web.Response:
    """Replace existing workflows with the ones in a YAML document."""
    return answer({"workflows": await _store_workflows(request, create=False)})


@routes.post("/v2/workflows/validate")
async def validate_workflows(request: web.Request) -> web.Response:
    """Check a workflows document without storing it."""
    try:
        _parse_workflows(await text_body(request))
    except ApiError as exc:
        return answer({"valid": False, "error": exc.body.message})
    return answer({"valid": True})


@routes.get("/v2/workflows")
async def list_workflows(request: web.Request) -> web.Response:
    """Every workflow of the project."""
    docs = await StoredDefinitions(services(request).db).list(project(request), "workflow")
    return answer({"workflows": [workflow_view(d) for d in docs if not d.get("hidden")]})


@routes.get("/v2/workflows/{identifier}")
async def get_workflow(request: web.Request) -> web.Response:
    """One workflow by name or id."""
    ident = request.match_info["identifier"]
    doc = await StoredDefinitions(services(request).db).by_id(project(request), "workflow", ident)
    if doc is None:
        raise not_found("Workflow", ident)
    return answer(workflow_view(doc))


@routes.delete("/v2/workflows/{identifier}")
async def delete_workflow(request: web.Request) -> web.Response:
    """Delete one workflow by name or id."""
    store = StoredDefinitions(services(request).db)
    ident = request.match_info["identifier"]
    doc = await store.by_id(project(request), "workflow", ident)
    if doc is None:
        raise not_found("Workflow", ident)
    await store.delete(project(request), "workflow", doc["name"])
    await services(request).definitions.refresh()
    return web.Response(status=204)


def _workbook_view(doc: Doc) -> Doc:
    return {
        "id": definition_id(doc["project"], "workbook", doc["name"]),
        "name": doc["name"],
        "namespace": "",
        "definition": doc["definition"],
        "tags": doc.get("tags", []),
        "scope": "private",
        "project_id": doc["project"],
        "created_at": stamp(doc["created_at"]),
        "updated_at": stamp(doc["updated_at"]),
    }


async def _store_workbook(request: web.Request, *, create: bool) -> Doc:
    svc = services(request)
    owner = project(request)
    text = await text_body(request)
    try:
        workbook = load_workbook(text, "<request>")
    except DefinitionError as exc:
        raise _definition_error(exc) from None
    books = svc.db["workbooks"]
    key = f"{owner}/{workbook.name}"
    existing = await books.find_one({"_id": key})
    if create and existing is not None:
        raise ApiError(409, "conflict", f"Duplicate entry for Workbook: {workbook.name}")
    if not create and existing is None:
        raise not_found("Workbook", workbook.name)
    from schemas.definitions import load_definitions

    try:
        await svc.definitions_store.apply(load_definitions(text, "<request>"), owner)
    except ApplyError as exc:
        raise _definition_error(exc) from None
    now = utcnow()
    await books.update_one(
        {"_id": key},
        {
            "$set": {
                "project": owner,
                "name": workbook.name,
                "definition": text,
                "tags": list(workbook.tags or []),
                "updated_at": now,
            },
            "$setOnInsert": {"created_at": now},
        },
        upsert=True,
    )
    await svc.definitions.refresh()
    doc = await books.find_one({"_id": key})
    assert doc is not None
    return _workbook_view(doc)


@routes.post("/v2/workbooks")
async def create_workbook(request: web.Request) -> web.Response:
    """Create a workbook and the workflows it holds."""
    return answer(await _store_workbook(request, create=True), 201)


@routes.put("/v2/workbooks")
async def update_workbook(request: web.Request) -> web.Response:
    """Replace a workbook (workflows it no longer holds are removed)."""
    return answer(await _store_workbook(request, create=False))


@routes.post("/v2/workbooks/validate")
async def validate_workbook(request: web.Request) -> web.Response:
    """Check a workbook without storing it."""
    try:
        load_workbook(await text_body(request), "<request>")
    except DefinitionError as exc:
        return answer({"valid": False, "error": _definition_error(exc).body.message})
    return answer({"valid": True})


@routes.get("/v2/workbooks")
async def list_workbooks(request: web.Request) -> web.Response:
    """Every workbook of the project."""
    cursor = services(request).db["workbooks"].find({"project": project(request)}).sort("name", 1)
    return answer({"workbooks": [_workbook_view(doc) async for doc in cursor]})


@routes.get("/v2/workbooks/{name}")
async def get_workbook(request: web.Request) -> web.Response:
    """One workbook by name."""
    name = request.match_info["name"]
    doc = await services(request).db["workbooks"].find_one({"_id": f"{project(request)}/{name}"})
    if doc is None:
        raise not_found("Workbook", name)
    return answer(_workbook_view(doc))


@routes.delete("/v2/workbooks/{name}")
async def delete_workbook(request: web.Request) -> web.Response:
    """Delete a workbook and the definitions it brought."""
    svc = services(request)
    owner, name = project(request), request.match_info["name"]
    result = await svc.db["workbooks"].delete_one({"_id": f"{owner}/{name}"})
    if not result.deleted_count:
        raise not_found("Workbook", name)
    await svc.db["definitions"].delete_many({"project": owner, "workbook": name})
    await svc.db["meta"].update_one({"_id": "definitions"}, {"$inc": {"revision": 1}}, upsert=True)
    await svc.definitions.refresh()
    return web.Response(status=204)
