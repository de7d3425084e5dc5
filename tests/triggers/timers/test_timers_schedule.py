"""Fire times as the API lists them: cron, interval and one-shot, in time zones, across DST."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.definitions import Timer
from triggers.timers import TimerError, next_fire_times

PARIS = ZoneInfo("Europe/Paris")


def timer(**spec: Any) -> Timer:
    return Timer.model_validate({"name": "t", "event": {"type": "tick"}, **spec})


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(times: list[datetime]) -> list[str]:
    return [t.astimezone(PARIS).strftime("%a %m-%d %H:%M%z") for t in times]


def test_daily_0230_fires_once_on_the_spring_forward_day_an_hour_later() -> None:
    fires = next_fire_times(
        timer(cron="30 2 * * *", timezone="Europe/Paris"), after=utc(2024, 3, 29), count=4
    )
    # 02:30 does not exist on 31 March; it fires once, at 03:30 summer time.
    assert local(fires) == [
        "Fri 03-29 02:30+0100",
        "Sat 03-30 02:30+0100",
        "Sun 03-31 03:30+0200",
        "Mon 04-01 02:30+0200",
    ]


def test_daily_0230_fires_once_on_the_fall_back_day() -> None:
    fires = next_fire_times(
        timer(cron="30 2 * * *", timezone="Europe/Paris"), after=utc(2024, 10, 26), count=3
    )
    assert [t.astimezone(UTC) for t in fires] == [
        utc(2024, 10, 26, 0, 30),
        utc(2024, 10, 27, 0, 30),  # the first 02:30 only, as crontab does
        utc(2024, 10, 28, 1, 30),
    ]


def test_hourly_cron_fires_in_both_repeated_hours_and_skips_the_missing_one() -> None:
    hourly = timer(cron="30 * * * *", timezone="Europe/Paris")
    autumn = next_fire_times(hourly, after=utc(2024, 10, 26, 22), count=26)
    assert len({t.astimezone(UTC) for t in autumn}) == 26
    assert [t for t in autumn if t.astimezone(PARIS).day == 27].__len__() == 25
    spring = next_fire_times(hourly, after=utc(2024, 3, 30, 23), count=23)
    assert all(t.astimezone(PARIS).day == 31 for t in spring)
    assert "02:30" not in [t.astimezone(PARIS).strftime("%H:%M") for t in spring]


def test_weekday_20h_follows_the_operators_clock_across_the_change() -> None:
    fires = next_fire_times(
        timer(cron="0 20 * * 1-5", timezone="Europe/Paris"), after=utc(2024, 3, 29), count=3
    )
    assert [t.astimezone(UTC) for t in fires] == [
        utc(2024, 3, 29, 19),  # Friday, winter time
        utc(2024, 4, 1, 18),  # Monday, summer time: same 20:00 on the wall
        utc(2024, 4, 2, 18),
    ]
    assert all(t.tzinfo is not None and t.astimezone(PARIS).hour == 20 for t in fires)


@pytest.mark.parametrize("weekdays", ["1-5", "mon-fri", "MON-FRI", "1,2,3,4,5"])
def test_weekday_numbers_and_names_mean_what_crontab_means(weekdays: str) -> None:
    fires = next_fire_times(timer(cron=f"0 20 * * {weekdays}"), after=utc(2024, 6, 1), count=10)
    assert {t.strftime("%a") for t in fires} == {"Mon", "Tue", "Wed", "Thu", "Fri"}


@pytest.mark.parametrize("sunday", ["0", "7", "sun"])
def test_sunday_is_0_or_7(sunday: str) -> None:
    fires = next_fire_times(timer(cron=f"0 9 * * {sunday}"), after=utc(2024, 6, 1), count=3)
    assert {t.strftime("%a") for t in fires} == {"Sun"}


def test_day_of_month_or_weekday_as_in_crontab() -> None:
    fires = next_fire_times(timer(cron="0 12 13 * 5"), after=utc(2024, 9, 1), count=6)
    assert all(t.day == 13 or t.strftime("%a") == "Fri" for t in fires)
    assert utc(2024, 9, 13, 12) in fires and utc(2024, 9, 6, 12) in fires


def test_six_fields_add_seconds() -> None:
    fires = next_fire_times(timer(cron="*/20 * * * * 15"), after=utc(2024, 1, 1), count=3)
    assert fires == [
        utc(2024, 1, 1, 0, 0, 15),
        utc(2024, 1, 1, 0, 20, 15),
        utc(2024, 1, 1, 0, 40, 15),
    ]


def test_interval_counts_elapsed_time_across_dst() -> None:
    fires = next_fire_times(
        timer(interval={"hours": 1}, timezone="Europe/Paris"), after=utc(2024, 10, 26, 23), count=4
    )
    assert [b - a for a, b in itertools.pairwise(fires)] == [timedelta(hours=1)] * 3
    assert local(fires)[:2] == ["Sun 10-27 02:00+0200", "Sun 10-27 02:00+0100"]


def test_interval_without_start_is_aligned_to_the_clock() -> None:
    fires = next_fire_times(timer(interval=600), after=utc(2024, 5, 5, 10, 3, 7), count=2)
    assert fires == [utc(2024, 5, 5, 10, 10), utc(2024, 5, 5, 10, 20)]


def test_interval_counts_from_start_in_the_timers_zone() -> None:
    spec = timer(interval=90, start="2024-05-05T10:00:10", timezone="Europe/Paris")
    fires = next_fire_times(spec, after=utc(2024, 1, 1), count=2)
    assert fires == [utc(2024, 5, 5, 8, 0, 10), utc(2024, 5, 5, 8, 1, 40)]


def test_one_shot_date_fires_once_and_only_in_the_future() -> None:
    spec = timer(date="2030-01-02T08:00:00", timezone="America/New_York")
    assert next_fire_times(spec, after=utc(2029, 1, 1), count=5) == [utc(2030, 1, 2, 13)]
    assert next_fire_times(spec, after=utc(2030, 1, 2, 13), count=5) == []


def test_start_end_and_count_bound_the_schedule() -> None:
    spec = timer(cron="0 * * * *", start="2024-01-01T05:30:00Z", end="2024-01-01T09:00:00Z")
    assert next_fire_times(spec, after=utc(2024, 1, 1), count=10) == [
        utc(2024, 1, 1, h) for h in (6, 7, 8, 9)
    ]
    capped = timer(cron="0 * * * *", count=2)
    assert len(next_fire_times(capped, after=utc(2024, 1, 1), count=10)) == 2


def test_first_execution_comes_first_then_the_schedule() -> None:
    spec = timer(cron="0 0 * * *", **{"first-execution": "2024-01-01T07:45:00Z"})
    assert next_fire_times(spec, after=utc(2024, 1, 1), count=3) == [
        utc(2024, 1, 1, 7, 45),
        utc(2024, 1, 2),
        utc(2024, 1, 3),
    ]


def test_a_disabled_timer_has_no_fire_times() -> None:
    assert next_fire_times(timer(interval=5, enabled=False), after=utc(2024, 1, 1), count=3) == []


def test_naive_after_and_negative_count_are_refused() -> None:
    with pytest.raises(TimerError) as naive:
        next_fire_times(timer(interval=5), after=datetime(2024, 1, 1), count=1)
    assert naive.value.field == "after"
    with pytest.raises(TimerError) as negative:
        next_fire_times(timer(interval=5), after=utc(2024, 1, 1), count=-1)
    assert negative.value.field == "count"


def test_a_backwards_weekday_range_names_the_field() -> None:
    with pytest.raises(TimerError) as caught:
        next_fire_times(timer(cron="0 8 * * fri-mon"), after=utc(2024, 1, 1), count=1)
    assert caught.value.field == "cron" and "backwards" in str(caught.value)


ZONES = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]


@settings(max_examples=60, deadline=None)
@given(
    minutes=st.sets(st.integers(0, 59), min_size=1, max_size=4),
    hours=st.sets(st.integers(0, 23), min_size=1, max_size=4) | st.none(),
    zone=st.sampled_from(ZONES),
    start=st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
)
def test_cron_fire_times_increase_and_match_the_wall_clock(
    minutes: set[int], hours: set[int] | None, zone: str, start: datetime
) -> None:
    hour_field = "*" if hours is None else ",".join(map(str, sorted(hours)))
    expression = f"{','.join(map(str, sorted(minutes)))} {hour_field} * * *"
    fires = next_fire_times(timer(cron=expression, timezone=zone), after=start, count=30)
    assert len(fires) == 30
    assert all(a < b for a, b in zip([start, *fires], fires, strict=False))
    for fire in fires:
        wall = fire.astimezone(ZoneInfo(zone))
        assert wall.minute in minutes and wall.second == 0
    # Listing from any fire gives the same continuation.
    assert (
        next_fire_times(timer(cron=expression, timezone=zone), after=fires[9], count=5)
        == (fires[10:15])
    )


@settings(max_examples=40, deadline=None)
@given(
    seconds=st.integers(1, 10 * 86400),
    start=st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
)
def test_interval_fire_times_are_evenly_spaced(seconds: int, start: datetime) -> None:
    fires = next_fire_times(timer(interval=seconds, timezone="Europe/Paris"), after=start, count=5)
    assert fires[0] > start and fires[0] - start <= timedelta(seconds=seconds)
    assert {b - a for a, b in itertools.pairwise(fires)} == {timedelta(seconds=seconds)}
