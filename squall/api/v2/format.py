"""Mistral's wire conventions: timestamps, JSON-encoded fields, list queries and paging."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from pymongo import ASCENDING, DESCENDING

from schemas.base import as_utc, parse_json
from squall.api.access import read_body
from squall.api.errors import ApiError

Doc = dict[str, Any]
UUID_LIKE = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
#: Mistral's filter operators, as ``?state=neq:ERROR``.
OPERATORS = {
    "eq": "$eq",
    "neq": "$ne",
    "in": "$in",
    "nin": "$nin",
    "gt": "$gt",
    "gte": "$gte",
    "lt": "$lt",
    "lte": "$lte",
}
MAX_LIMIT = 1000
RESERVED = frozenset({"marker", "limit", "sort_keys", "sort_dirs", "fields", "include_output"})
#: Filters on times: their operands are parsed, as stored times are compared as times.
TIMES = frozenset({"created_at", "updated_at"})
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def stamp(value: datetime | None) -> str | None:
    """Mistral's timestamp: ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else None


def encoded(value: Any) -> str:
    """A field Mistral sends as a JSON-encoded string."""
    return json.dumps(value, default=str)


def decoded(value: Any, name: str) -> Any:
    """A JSON-encoded request field (Mistral clients send some as strings, some as objects)."""
    if not isinstance(value, str):
        return value
    try:
        return parse_json(value)
    except ValueError as exc:
        raise ApiError(
            400, "invalid_input", f"Invalid input for field/attribute {name}: {exc}", name
        ) from None


def answer(body: Any, status: int = 200) -> web.Response:
    """A JSON response."""
    return web.json_response(text=json.dumps(body, default=str), status=status)


async def json_body(request: web.Request) -> Doc:
    """The request's JSON object."""
    raw = await read_body(request)
    try:
        body = parse_json(raw or b"{}")
    except ValueError as exc:
        raise ApiError(400, "invalid_request", f"body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "body must be a JSON object")
    return body


async def text_body(request: web.Request) -> str:
    """The request's text (a YAML definition)."""
    raw = await read_body(request)
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_request", "the definition is not UTF-8 text") from None


@dataclass
class ListQuery:
    """A parsed list request: filters on stored fields, order, page and projection."""

    filters: Doc = field(default_factory=dict)
    sort: list[tuple[str, int]] = field(default_factory=list)
    marker: str | None = None
    limit: int | None = None
    fields: list[str] = field(default_factory=list)


def invalid_field(name: str, value: Any, problem: str) -> ApiError:
    """Mistral's 400 for a request field or query parameter of the wrong type or value."""
    return ApiError(
        400,
        "invalid_input",
        f"Invalid input for field/attribute {name}. Value: '{value}'. {problem}",
        name,
    )


def query_int(request: web.Request, name: str, default: int) -> int:
    """An integer query parameter, or a 400 naming it."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid_field(name, raw, "unable to convert to int") from None


def query_flag(request: web.Request, name: str) -> bool:
    """A boolean query parameter (``true``/``false``, as WSME reads them), or a 400."""
    raw = request.query.get(name, "false").lower()
    if raw not in BOOLEANS:
        raise invalid_field(name, raw, "unable to convert to boolean")
    return BOOLEANS[raw]


def text_field(body: Doc, name: str) -> str | None:
    """An optional string field of a request body, or a 400 naming it."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid_field(
            name, value, f"Wrong type. Expected '<class 'str'>', got '{type(value)}'"
        )
    return value


def _timestamp(name: str, raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise invalid_field(name, raw, "expected a time as YYYY-MM-DD HH:MM:SS") from None
    return as_utc(value)


def _filter_value(name: str, raw: str, times: frozenset[str]) -> Any:
    op, sep, rest = raw.partition(":")
    if not sep or op not in OPERATORS:
        op, rest = "eq", raw
    texts = (rest.split(",") if rest else []) if op in ("in", "nin") else [rest]
    operands: list[Any] = [_timestamp(name, t) for t in texts] if name in times else texts
    if op in ("in", "nin"):
        return {OPERATORS[op]: operands}
    return operands[0] if op == "eq" else {OPERATORS[op]: operands[0]}


def list_query(
    request: web.Request,
    columns: dict[str, str],
    default_sort: str,
    refused: frozenset[str] = frozenset(),
) -> ListQuery:
    """Parse Mistral's list parameters; ``columns`` maps API fields to stored fields.

    ``refused`` names filters Mistral has but Squall does not support: asking for one
    is a 400 that says so, rather than a silently unfiltered list.
    """
    query = request.query
    parsed = ListQuery()
    for name, raw in query.items():
        if name in RESERVED or name == "project":
            continue
        if name in refused:
            raise ApiError(400, "invalid_input", f"filtering by {name} is not supported", name)
        if name not in columns:
            raise ApiError(400, "invalid_input", f'Unknown argument: "{name}"', name)
        parsed.filters[columns[name]] = _filter_value(name, raw, TIMES)
    keys = [k for k in query.get("sort_keys", default_sort).split(",") if k]
    dirs = [d for d in query.get("sort_dirs", "").split(",") if d]
    for i, key in enumerate(keys):
        if key not in columns:
            raise invalid_field("sort_keys", key, "Unknown sort key")
        direction = dirs[i] if i < len(dirs) else (dirs[0] if dirs else "asc")
        if direction not in ("asc", "desc"):
            raise invalid_field("sort_dirs", direction, "Value should be asc or desc")
        parsed.sort.append((columns[key], ASCENDING if direction == "asc" else DESCENDING))
    if not any(k == "_id" for k, _ in parsed.sort):
        parsed.sort.append(("_id", parsed.sort[0][1] if parsed.sort else ASCENDING))
    parsed.marker = query.get("marker") or None
    if query.get("limit"):
        parsed.limit = max(1, min(query_int(request, "limit", MAX_LIMIT), MAX_LIMIT))
    parsed.fields = [f for f in query.get("fields", "").split(",") if f]
    return parsed


def after_marker(marker: Doc, sort: list[tuple[str, int]]) -> Doc:
    """The condition selecting documents after ``marker`` in the ``sort`` order."""
    clauses: list[Doc] = []
    for i, (key, direction) in enumerate(sort):
        clause: Doc = {k: marker.get(k) for k, _ in sort[:i]}
        clause[key] = {"$gt" if direction == ASCENDING else "$lt": marker.get(key)}
        clauses.append(clause)
    return {"$or": clauses}


def page(
    request: web.Request, key: str, items: list[Doc], query: ListQuery, full: bool
) -> web.Response:
    """A list response with Mistral's ``next`` link when the page is full."""
    if query.fields:
        wanted = {"id", *query.fields}
        items = [{k: v for k, v in item.items() if k in wanted} for item in items]
    body: Doc = {key: items}
    if full and items and query.limit is not None:
        params = {k: v for k, v in request.query.items() if k != "marker"}
        params["marker"] = items[-1]["id"]
        body["next"] = str(request.url.with_query(params))
    return answer(body)
