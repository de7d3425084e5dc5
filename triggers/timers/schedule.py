"""A timer's fire times: when it fires next, and the next N fires the API shows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from schemas.definitions import Timer
from triggers.timers.cron import CronSchedule
from triggers.timers.errors import TimerError

#: Where an interval timer without ``start`` or ``first-execution`` counts from. Every
#: process must compute the same fire times, so the anchor cannot be "now"; the epoch
#: also lines intervals up with the clock (every 10 minutes fires at :00, :10, ...).
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TICK = timedelta(microseconds=1)


def _aware(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A definition's datetime in UTC; one written without an offset is in the timer's zone."""
    if value is None:
        return None
    return (value if value.tzinfo is not None else value.replace(tzinfo=zone)).astimezone(UTC)


def _require_aware(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TimerError(field, "expected a datetime with a UTC offset", moment.isoformat())
    return moment.astimezone(UTC)


class Schedule:
    """The fire times of one timer: ``first-execution``, then its cron, interval or date,
    within ``start`` and ``end``. ``count`` is not applied here (it depends on what has
    already fired); :func:`next_fire_times` applies it to a fresh timer.
    """

    def __init__(self, timer: Timer) -> None:
        zone = timer.zone
        self._start = _aware(timer.start, zone)
        self._end = _aware(timer.end, zone)
        self._first = _aware(timer.first_execution, zone)
        self._next: Callable[[datetime], datetime | None]
        if timer.cron is not None:
            self._next = CronSchedule.parse(timer.cron, zone).after
        elif timer.interval is not None:
            anchor = self._first or self._start or EPOCH
            interval = IntervalTrigger(seconds=timer.interval, start_date=anchor, timezone=UTC)
            self._next = lambda moment: interval.get_next_fire_time(None, moment + _TICK)
        elif timer.date is not None:
            run_date = DateTrigger(_aware(timer.date, zone), timezone=UTC).run_date
            self._next = lambda moment: run_date if run_date > moment else None
        else:
            raise TimerError("timer", "expected one of 'cron', 'interval' or 'date'")

    def after(self, moment: datetime) -> datetime | None:
        """The first fire strictly after ``moment`` (aware), in UTC; None once it is over."""
        moment = _require_aware(moment, "after")
        if self._first is not None and moment < self._first:
            found: datetime | None = self._first
        else:
            if self._start is not None and moment < self._start:
                moment = self._start - _TICK
            found = self._next(moment)
        if found is None or (self._end is not None and found > self._end):
            return None
        return found.astimezone(UTC)


def next_fire_times(timer: Timer, *, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` fire times of ``timer`` strictly after ``after``, in UTC.

    They are UTC on purpose: Python compares and subtracts two datetimes of the same zone
    by wall clock, so the two 02:30 of a fall-back night would look equal. Show them with
    ``.astimezone(timer.zone)``.

    Args:
        timer: the definition; its ``count``, if set, caps the answer, and a disabled
            timer has no fire times.
        after: an aware datetime.
        count: how many fire times to list at most.

    Raises:
        TimerError: ``after`` has no UTC offset, ``count`` is negative, or the schedule
            cannot be computed (e.g. a cron field APScheduler refuses).
    """
    if count < 0:
        raise TimerError("count", "expected 0 or more", count)
    _require_aware(after, "after")
    schedule = Schedule(timer)
    if not timer.enabled:
        return []
    limit = count if timer.count is None else min(count, timer.count)
    found: list[datetime] = []
    moment: datetime | None = after
    while len(found) < limit and moment is not None:
        moment = schedule.after(moment)
        if moment is not None:
            found.append(moment)
    return found
