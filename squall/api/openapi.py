"""The OpenAPI 3.1 document, generated from the routes and their pydantic models.

Handlers register through a ``Registry`` (``@registry.route(...)``) that records the
method, path, summary, request, query and response models and error codes next to
the handler; ``openapi_document`` turns those records into the document served at
``/openapi.json``. Routes registered elsewhere (Mistral's ``/v2``, Keystone's ``/v3``)
take their description from ``squall.api.openstack_spec``; any other route appears by
path and method with its handler's summary, so every endpoint is at least listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from squall.api.endpoint import TAGS, Body, Endpoint, Handler, tag_of
from squall.api.openstack_spec import OPERATIONS

__all__ = ["REASONS", "Endpoint", "Registry", "openapi_document"]

Doc = dict[str, Any]

#: Why a status is answered, for error codes an endpoint declares.
REASONS = {
    400: "invalid request (the error names the field)",
    401: "missing or invalid API token",
    403: "the token's role or project does not allow this",
    404: "not found in the caller's project",
    409: "conflicts with an existing resource",
    413: "request body too large",
    502: "the event bus did not acknowledge",
    504: "the engine did not answer in time",
}
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
_REF = "#/components/schemas/{model}"
_MEDIA = {"yaml": "application/yaml", "text": "text/plain"}


@dataclass
class Registry:
    """Routes with their documentation; ``add_to`` puts the handlers on an app."""

    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        summary: str,
        *,
        request: type[BaseModel] | None = None,
        body: Body = "json",
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        errors: Iterable[int] = (),
        public: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Decorate a handler: serve it at ``method path`` and document it."""

        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method=method.upper(),
                    path=path,
                    summary=summary,
                    handler=handler,
                    request=request,
                    body=body,
                    query=query,
                    response=response,
                    status=status,
                    errors=tuple(errors),
                    tag=tag_of(path),
                    public=public,
                )
            )
            return handler

        return register

    def add_to(self, app: web.Application) -> None:
        """Add every registered handler to ``app``'s router."""
        for endpoint in self.endpoints:
            assert endpoint.handler is not None
            app.router.add_route(endpoint.method, endpoint.path, endpoint.handler)


def _models(endpoints: list[Endpoint]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    found: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for e in endpoints:
        found[(e.fault, "serialization")] = None
        if e.request is not None:
            found[(e.request, "validation")] = None
        if e.response is not None:
            found[(e.response, "serialization")] = None
    return list(found)


def _json(schema: Doc) -> Doc:
    return {"application/json": {"schema": schema}}


def _query_schema(schema: Doc) -> Doc:
    """A parameter's schema without ``null``: an absent parameter is how a query says none."""
    kept = {k: v for k, v in schema.items() if k != "title"}
    options = [s for s in kept.pop("anyOf", []) if s.get("type") != "null"]
    if len(options) == 1:
        kept.update(options[0])
    elif options:
        kept["anyOf"] = options
    if kept.get("default", 0) is None:
        del kept["default"]
    return kept


def _parameters(endpoint: Endpoint, schemas: Doc) -> list[Doc]:
    params: list[Doc] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(endpoint.path)
    ]
    if endpoint.query is not None:
        props = endpoint.query.model_json_schema(ref_template=_REF)
        required = set(props.get("required", []))
        for name, schema in props.get("properties", {}).items():
            param: Doc = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": _query_schema(schema),
            }
            if "description" in schema:
                param["description"] = schema["description"]
            params.append(param)
        schemas.update(props.get("$defs", {}))
    return params


def _request_body(endpoint: Endpoint, refs: dict[Any, Doc]) -> Doc | None:
    if endpoint.request is not None:
        content = _json(refs[(endpoint.request, "validation")])
        return {"required": True, "content": content}
    if endpoint.body in _MEDIA:
        content = {_MEDIA[endpoint.body]: {"schema": {"type": "string"}}}
        return {"required": True, "content": content}
    if endpoint.body == "any" and endpoint.method in ("POST", "PUT", "PATCH"):
        return {"required": False, "content": _json({})}
    return None


def _operation(endpoint: Endpoint, refs: dict[Any, Doc], schemas: Doc) -> Doc:
    error = refs[(endpoint.fault, "serialization")]
    ok: Doc = {"description": endpoint.summary}
    if endpoint.response is not None:
        ok["content"] = _json(refs[(endpoint.response, "serialization")])
    responses: Doc = {str(endpoint.status): ok}
    codes = set(endpoint.errors)
    body = _request_body(endpoint, refs)
    if body is not None or endpoint.query is not None:
        codes.add(400)
    if not endpoint.public:
        codes.update((401, 403))
    for code in sorted(codes):
        responses[str(code)] = {"description": REASONS.get(code, "error"), "content": _json(error)}
    plain = _PARAM.sub(r"\1", endpoint.path).replace("/", "_").replace(".", "_")
    operation: Doc = {
        "summary": endpoint.summary,
        "operationId": f"{endpoint.method.lower()}{plain}",
        "tags": [endpoint.tag],
        "responses": responses,
    }
    if endpoint.public:
        operation["security"] = []
    parameters = _parameters(endpoint, schemas)
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = body
    return operation


def _described(routes: Iterable[web.AbstractRoute], known: set[tuple[str, str]]) -> list[Endpoint]:
    """Endpoints for routes not in the registry: from ``OPERATIONS``, or by path and method."""
    found: list[Endpoint] = []
    for route in routes:
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if not path or route.method in ("HEAD", "*") or (route.method, path) in known:
            continue
        key = (route.method, path)
        known.add(key)
        if key in OPERATIONS:
            found.append(OPERATIONS[key])
            continue
        doc = (route.handler.__doc__ or "").strip().splitlines()
        found.append(
            Endpoint(
                method=route.method,
                path=path,
                summary=doc[0] if doc else f"{route.method} {path}",
                body="any",
                tag=tag_of(path),
            )
        )
    return found


def openapi_document(
    endpoints: Iterable[Endpoint],
    routes: Iterable[web.AbstractRoute] = (),
    *,
    title: str = "Squall",
    version: str = "1",
) -> Doc:
    """The OpenAPI 3.1 document of ``endpoints``, plus ``routes`` not among them."""
    documented = list(endpoints)
    known = {(e.method, e.path) for e in documented}
    documented += _described(routes, known)
    refs, defs = models_json_schema(_models(documented), ref_template=_REF)
    schemas: Doc = dict(defs.get("$defs", {}))
    paths: Doc = {}
    for endpoint in sorted(documented, key=lambda e: (e.path, e.method)):
        operation = _operation(endpoint, refs, schemas)
        paths.setdefault(_PARAM.sub(r"{\1}", endpoint.path), {})[endpoint.method.lower()] = (
            operation
        )
    used = {e.tag for e in documented}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Squall's own API under /v1, Mistral's v2 API under /v2, webhooks.",
            "license": {"name": "Apache 2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "/", "description": "the server that answered this document"}],
        "tags": [
            {"name": name, "description": text} for name, text in TAGS.items() if name in used
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                # Mistral's clients send their (Keystone) token in this header.
                "token": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"},
            },
        },
        "security": [{"bearer": []}, {"token": []}],
    }
