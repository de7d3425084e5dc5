"""Which fires to run for time when no timer process was running (the misfire policy)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from schemas.definitions import Misfire
from triggers.timers.schedule import Schedule

#: ``catch_up`` without ``max`` runs at most this many missed fires (the latest ones).
MAX_CATCH_UP = 1000
#: How many missed fires at most are enumerated to find the latest ones.
MAX_SCAN = 100_000
#: How many of the earliest missed fires are checked for a claim a dead process left.
PROBE = 16


@dataclass(frozen=True)
class Plan:
    """Where a timer's schedule resumes after ``last``.

    ``fire_now``: missed fires the policy runs now (oldest first). ``probe``: other
    missed fires, which a process that died may have claimed; the caller looks them up
    so that such a claim is finished rather than lost. ``resume``: the first fire that
    is not missed (it may already be due, if less than the grace period late).
    """

    fire_now: list[datetime]
    probe: list[datetime]
    resume: datetime | None


def fires_between(schedule: Schedule, low: datetime, high: datetime) -> Iterator[datetime]:
    """Fire times in ``(low, high]``, oldest first."""
    found = schedule.after(low)
    while found is not None and found <= high:
        yield found
        found = schedule.after(found)


def plan(
    schedule: Schedule,
    misfire: Misfire,
    *,
    last: datetime,
    now: datetime,
    grace: timedelta,
) -> Plan:
    """Apply ``misfire`` to the fires after ``last`` that are more than ``grace`` late.

    ``skip`` runs none; ``catch_up`` runs the latest ``max`` of them; ``window`` runs the
    latest one if it is at most ``window`` seconds late at ``now``.
    """
    cutoff = now - grace
    missed = list(islice(fires_between(schedule, last, cutoff), PROBE))
    fire_now: list[datetime] = []
    if misfire.mode == "catch_up":
        latest = deque(
            islice(fires_between(schedule, last, cutoff), MAX_SCAN),
            maxlen=misfire.max or MAX_CATCH_UP,
        )
        fire_now = list(latest)
    elif misfire.mode == "window" and misfire.window is not None:
        oldest_allowed = max(last, now - timedelta(seconds=misfire.window, microseconds=1))
        fire_now = list(deque(fires_between(schedule, oldest_allowed, cutoff), maxlen=1))
    chosen = set(fire_now)
    return Plan(
        fire_now=fire_now,
        probe=[at for at in missed if at not in chosen],
        resume=schedule.after(max(last, cutoff)),
    )
