"""The misfire policy: what runs for the time no timer process was running (fake clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.definitions import Timer
from triggers.timers.misfire import Plan, plan
from triggers.timers.schedule import Schedule

GRACE = timedelta(seconds=5)
# The fake clock: the process comes back at 10:00:30; the timer fires every minute and
# last fired at 09:50, so 09:51 ... 10:00 (10 fires) were missed while nothing ran.
NOW = datetime(2024, 6, 3, 10, 0, 30, tzinfo=UTC)
LAST = datetime(2024, 6, 3, 9, 50, tzinfo=UTC)


def minute(m: int) -> datetime:
    return datetime(2024, 6, 3, 9, 0, tzinfo=UTC) + timedelta(minutes=m)


def replan(misfire: dict[str, Any], *, last: datetime = LAST, now: datetime = NOW) -> Plan:
    timer = Timer.model_validate(
        {"name": "t", "interval": 60, "misfire": misfire, "event": {"type": "tick"}}
    )
    return plan(Schedule(timer), timer.misfire, last=last, now=now, grace=GRACE)


def test_skip_runs_no_missed_fire_and_resumes_at_the_next_one() -> None:
    result = replan({"mode": "skip"})
    assert result.fire_now == []
    assert result.resume == minute(61)


def test_catch_up_runs_at_most_max_of_the_latest_missed_fires() -> None:
    result = replan({"mode": "catch_up", "max": 3})
    assert result.fire_now == [minute(58), minute(59), minute(60)]
    assert result.resume == minute(61)


def test_catch_up_without_max_runs_every_missed_fire_in_order() -> None:
    assert replan({"mode": "catch_up"}).fire_now == [minute(m) for m in range(51, 61)]


def test_window_runs_the_latest_missed_fire_only_when_recent_enough() -> None:
    assert replan({"mode": "window", "window": 30}).fire_now == [minute(60)]
    assert replan({"mode": "window", "window": 20}).fire_now == []
    assert replan({"mode": "window", "window": 3600}).fire_now == [minute(60)]


def test_a_fire_a_moment_late_is_on_time_not_missed() -> None:
    # Back at 10:00:02 after firing 09:59: 10:00 is 2 s late, within the grace period.
    result = replan({"mode": "skip"}, last=minute(59), now=minute(60) + timedelta(seconds=2))
    assert result.fire_now == [] and result.probe == []
    assert result.resume == minute(60)


def test_missed_fires_not_run_are_probed_for_claims_left_by_a_dead_process() -> None:
    result = replan({"mode": "catch_up", "max": 2})
    assert result.probe[:3] == [minute(51), minute(52), minute(53)]
    assert not set(result.probe) & set(result.fire_now)


def test_nothing_is_missed_when_the_schedule_ended() -> None:
    timer = Timer.model_validate(
        {
            "name": "t",
            "interval": 60,
            "end": "2024-06-03T09:55:30Z",
            "misfire": {"mode": "catch_up"},
            "event": {"type": "tick"},
        }
    )
    result = plan(Schedule(timer), timer.misfire, last=LAST, now=NOW, grace=GRACE)
    assert result.fire_now == [minute(m) for m in range(51, 56)]
    assert result.resume is None
