"""Cron expressions with the classic (Vixie) cron meaning, computed by APScheduler 3.

APScheduler 3 differs from crontab in three ways that matter to operators, so each is
bridged here rather than passed on:

- weekday numbers: crontab counts 0 (or 7) = Sunday, APScheduler 0 = Monday;
- day of month *and* day of week both restricted: crontab fires when *either* matches,
  APScheduler only when both do;
- the repeated hour when clocks go back: crontab runs a job with a fixed hour once,
  APScheduler runs it at both wall-clock occurrences.

A wall-clock time that does not exist (clocks go forward) fires once, at the same UTC
offset as before the change (02:30 becomes 03:30 summer time), as APScheduler computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from triggers.timers.errors import TimerError

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_SECOND = timedelta(seconds=1)
_FIELDS = ("minute", "hour", "day", "month", "day_of_week", "second")


def _day_number(text: str, expression: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text.lower() in _DAY_NAMES:
        return _DAY_NAMES.index(text.lower())
    raise TimerError("cron", f"day of week {text!r} is not 0-7 or sun-sat", expression)


def _cron_days(field: str, expression: str) -> set[int]:
    """The weekdays (0 = Sunday) a crontab day-of-week field selects."""
    days: set[int] = set()
    for atom in field.split(","):
        base, slash, step_text = atom.partition("/")
        if slash and not (step_text.isdigit() and int(step_text) > 0):
            raise TimerError("cron", f"day-of-week step {step_text!r} is not a positive number")
        step = int(step_text) if slash else 1
        if base in ("*", "?"):
            low, high = 0, 6
        else:
            bounds = base.split("-")
            if len(bounds) > 2:
                raise TimerError("cron", f"day-of-week range {base!r} has too many '-'")
            low = _day_number(bounds[0], expression)
            high = _day_number(bounds[1], expression) if len(bounds) == 2 else low
            if slash and len(bounds) == 1:
                high = 6
            if high < low:
                raise TimerError("cron", f"day-of-week range {base!r} runs backwards", expression)
        days.update(day % 7 for day in range(low, high + 1, step))
    return days


def _apscheduler_days(field: str, expression: str) -> str:
    days = _cron_days(field, expression)
    if len(days) == 7:
        return "*"
    return ",".join(str((day - 1) % 7) for day in sorted(days))


def _restricted(field: str) -> bool:
    # As in Vixie cron, a field starting with '*' counts as unrestricted even with a step.
    return not field.startswith(("*", "?"))


def _second_of_repeated_hour(at: datetime, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone)
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


@dataclass(frozen=True)
class CronSchedule:
    """A parsed cron expression in a time zone."""

    triggers: tuple[CronTrigger, ...]
    zone: ZoneInfo
    once_in_repeated_hour: bool

    @classmethod
    def parse(cls, expression: str, zone: ZoneInfo) -> CronSchedule:
        """Parse 5 fields (minute hour day month weekday) or 6 (the last one seconds)."""
        parts = expression.split()
        if len(parts) not in (5, 6):
            raise TimerError("cron", "expected 5 fields (or 6, the last one seconds)", expression)
        fields = dict(zip(_FIELDS, [*parts, "0"] if len(parts) == 5 else parts, strict=True))
        fields = {name: "*" if value == "?" else value for name, value in fields.items()}
        weekday = fields["day_of_week"]
        fields["day_of_week"] = _apscheduler_days(weekday, expression)
        variants = [fields]
        if _restricted(fields["day"]) and _restricted(weekday):
            variants = [{**fields, "day_of_week": "*"}, {**fields, "day": "*"}]
        try:
            triggers = tuple(CronTrigger(timezone=zone, **variant) for variant in variants)
        except ValueError as exc:
            raise TimerError("cron", str(exc), expression) from None
        return cls(triggers, zone, once_in_repeated_hour=_restricted(fields["hour"]))

    def after(self, moment: datetime) -> datetime | None:
        """The first fire strictly after ``moment`` (aware), in UTC; None if there is none."""
        while True:
            # APScheduler must get the moment in the trigger's own zone: given UTC, it
            # can answer the same instant again inside a repeated hour.
            local = moment.astimezone(self.zone)
            found = [t.get_next_fire_time(local, local) for t in self.triggers]
            candidates = [at.astimezone(UTC) for at in found if at is not None and at > moment]
            if len(candidates) < len([at for at in found if at is not None]):
                # Never answer a moment that is not later: step past it instead of looping.
                candidates += [c for c in [self.after(moment + _SECOND)] if c is not None]
            if not candidates:
                return None
            moment = min(candidates)
            if not (self.once_in_repeated_hour and _second_of_repeated_hour(moment, self.zone)):
                return moment
