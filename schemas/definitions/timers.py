"""Squall timers: a cron, interval or one-shot schedule that starts a workflow or emits an event."""

from __future__ import annotations

import contextlib
import math
import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from schemas.definitions.values import Name, Spec, expected

_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_DAYS = "sun|mon|tue|wed|thu|fri|sat"
# (low, high, names) per field: minute, hour, day of month, month, day of week, second.
_CRON_FIELDS = ((0, 59, ""), (0, 23, ""), (1, 31, ""), (1, 12, _MONTHS), (0, 7, _DAYS), (0, 59, ""))
_INTERVAL_UNITS = ("weeks", "days", "hours", "minutes", "seconds")


def _cron_atom_ok(atom: str, low: int, high: int, names: str) -> bool:
    base, _, step = atom.partition("/")
    if step and not (step.isdigit() and int(step) > 0):
        return False
    if base in ("*", "?"):
        return True
    bounds = base.split("-")
    if len(bounds) > 2:
        return False
    for bound in bounds:
        if bound.isdigit():
            if not low <= int(bound) <= high:
                return False
        elif not (names and re.fullmatch(names, bound.lower())):
            return False
    return True


def _cron(value: Any) -> Any:
    fields = value.split() if isinstance(value, str) else []
    if len(fields) not in (5, 6):
        raise expected("a cron expression of 5 fields (or 6, the last one seconds)", value)
    for text, (low, high, names) in zip(fields, _CRON_FIELDS, strict=False):
        if not all(_cron_atom_ok(atom, low, high, names) for atom in text.split(",")):
            raise expected(f"a cron field within {low}-{high}", text)
    return value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _interval(value: Any) -> Any:
    units = isinstance(value, dict) and value and set(value) <= set(_INTERVAL_UNITS)
    if units and all(_number(v) and v >= 0 for v in value.values()):
        with contextlib.suppress(OverflowError):  # reported below as not a valid interval
            value = timedelta(**value).total_seconds()
    if _number(value) and value > 0:
        return float(value)
    raise expected("seconds > 0 or a mapping of weeks/days/hours/minutes/seconds", value)


def _timezone(value: Any) -> Any:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise expected("an IANA time zone name such as 'Europe/Paris'", value) from None
    return value


_INTERVAL_SCHEMA = {
    "oneOf": [
        {"type": "number", "exclusiveMinimum": 0},
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {u: {"type": "number", "minimum": 0} for u in _INTERVAL_UNITS},
        },
    ]
}


class Misfire(Spec):
    """What to do with fires missed while no timer process ran.

    ``skip`` drops them; ``catch_up`` runs them (at most ``max``); ``window`` runs the
    latest one only if it is at most ``window`` seconds late.
    """

    mode: Literal["skip", "catch_up", "window"] = "skip"
    max: PositiveInt | None = None
    window: PositiveFloat | None = None

    @model_validator(mode="after")
    def _window_given(self) -> Misfire:
        if self.mode == "window" and self.window is None:
            raise PydanticCustomError("misfire", "mode 'window' needs 'window' (seconds)")
        return self


class TimerEvent(Spec):
    """The event a timer emits instead of starting a workflow."""

    type: Name
    data: Any = None
    source: str | None = None
    subject: str | None = None


class Timer(Spec):
    """``timers.<name>``: exactly one of ``cron``, ``interval`` (seconds) or ``date``,
    and exactly one target, ``workflow`` (with ``input``, ``params``) or ``event``.
    """

    name: Name
    description: str | None = None
    enabled: bool = True
    cron: Annotated[str, BeforeValidator(_cron)] | None = None
    interval: (
        Annotated[float, BeforeValidator(_interval), WithJsonSchema(_INTERVAL_SCHEMA)] | None
    ) = None
    date: datetime | None = None
    timezone: Annotated[str, BeforeValidator(_timezone)] = "UTC"
    start: datetime | None = None
    end: datetime | None = None
    count: NonNegativeInt | None = None
    first_execution: datetime | None = Field(default=None, alias="first-execution")
    misfire: Misfire = Field(default_factory=Misfire)
    workflow: Name | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    event: TimerEvent | None = None

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        schedules = [k for k in ("cron", "interval", "date") if data.get(k) is not None]
        if len(schedules) != 1:
            raise PydanticCustomError(
                "schedule",
                "expected exactly one of 'cron', 'interval' or 'date', got {got}",
                {"got": ", ".join(schedules) or "none"},
            )
        targets = [k for k in ("workflow", "event") if data.get(k) is not None]
        if len(targets) != 1:
            raise PydanticCustomError(
                "target",
                "expected exactly one of 'workflow' or 'event', got {got}",
                {"got": ", ".join(targets) or "none"},
            )
        if targets == ["event"] and (data.get("input") or data.get("params")):
            raise PydanticCustomError(
                "target", "'input' and 'params' go with 'workflow', not 'event'"
            )
        return data

    @model_validator(mode="after")
    def _window(self) -> Timer:
        if self.start and self.end:
            try:
                ordered = self.start < self.end
            except TypeError:
                message = "'start' and 'end' must both have a UTC offset, or neither"
                raise PydanticCustomError("window", message) from None
            if not ordered:
                raise PydanticCustomError("window", "'end' must be after 'start'")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The timer's time zone."""
        return ZoneInfo(self.timezone)
