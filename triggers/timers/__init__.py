"""Timers: cron (with time zone), interval and one-shot schedules that fire exactly once,
however many timer processes run.
"""

from triggers.timers.errors import TimerError
from triggers.timers.schedule import next_fire_times
from triggers.timers.service import TimerService

__all__ = ["TimerError", "TimerService", "next_fire_times"]
