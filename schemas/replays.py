"""Replays: re-sending archived events through the current rules, or a dry run of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class ReplayRequest(BaseModel):
    """Body of ``POST /v1/replays``: which archived events, and whether to start anything.

    Events are chosen by the time they were received, ``[start, end)``, optionally only
    those from ``sources``, of ``types`` or matching one of ``rules`` (then only those
    rules see the replayed events). A ``dry_run`` starts nothing: it reports, per event,
    which rules would fire with what input (policies are not applied in a dry run).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: AwareDatetime
    end: AwareDatetime
    sources: list[str] = Field(default_factory=list)
    types: list[str] = Field(default_factory=list)
    rules: list[str] = Field(default_factory=list)
    dry_run: bool = False
    max_events: int = Field(default=100_000, ge=1, le=10_000_000)

    @model_validator(mode="after")
    def _ordered(self) -> ReplayRequest:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end.isoformat()}) must be after start")
        return self


ReplayState = Literal["running", "done", "failed"]


class ReplayProgress(BaseModel):
    """A replay as ``GET /v1/replays/{id}`` shows it.

    ``owner`` is the API process running it (host, pid and a per-start tag), which
    renews its lease until ``lease_until``; ``progressed_at`` is when the last page was
    recorded; ``resumes`` counts takeovers after an owner stopped renewing its lease.
    """

    id: str
    project: str
    state: ReplayState
    request: dict[str, Any]
    scanned: int = 0
    matched: int = 0
    published: int = 0
    created_at: datetime
    finished_at: datetime | None = None
    error: str | None = None
    owner: str | None = None
    lease_until: datetime | None = None
    progressed_at: datetime | None = None
    resumes: int = 0
    #: When the last event scanned was received: how far through the requested time
    #: range the replay has got (None before the first page).
    position: datetime | None = None
    #: Dry run only: per event, the rules that would fire (the first ``RESULTS_SHOWN``).
    results: list[dict[str, Any]] = Field(default_factory=list)
