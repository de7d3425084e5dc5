"""What the OpenAPI document says about one operation.

Kept apart from ``squall.api.openapi`` so that tables of operations served by plain
aiohttp routes (``squall.api.openstack_spec``) can be written without importing the
document generator that merges them in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from schemas.errors import ErrorBody

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: The request body: JSON (a model, or anything when none), YAML or plain text.
Body = Literal["json", "yaml", "text", "any"]

#: Top-level tags: the first segment of each path.
TAGS = {
    "v1": "Squall's own API: definitions, executions, events, replays, tokens",
    "v2": "OpenStack Mistral's v2 API, as python-mistralclient uses it",
    "v3": "Just enough of Keystone's identity v3 API for OpenStack clients",
    "hooks": "Webhook deliveries, authenticated by each hook's own secret",
    "service": "Health and this document",
}


def tag_of(path: str) -> str:
    """The tag of an operation on ``path``."""
    first = path.strip("/").split("/")[0]
    return first if first in TAGS else "service"


@dataclass(frozen=True)
class Endpoint:
    """One documented operation."""

    method: str
    path: str
    summary: str
    handler: Handler | None = None
    request: type[BaseModel] | None = None
    body: Body = "json"
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    tag: str = "v1"
    public: bool = False
    #: The shape of this operation's error answers.
    fault: type[BaseModel] = ErrorBody
