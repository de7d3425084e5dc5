"""The one JSON shape of every error Squall's HTTP endpoints return."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    """An error for a client: a stable code, a precise message, and the field at fault."""

    code: str
    message: str
    field: str | None = None
    #: Every problem found, for inputs that can have many (a definitions file).
    details: list[dict[str, Any]] | None = None
