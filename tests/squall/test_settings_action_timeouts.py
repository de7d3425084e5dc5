"""Action timeouts: a finite default, per-name values, and clear refusals of bad ones."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from squall.settings import SettingsError, load_settings, parse_action_timeouts

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}(\.[a-z][a-z0-9_]{0,8}){0,2}", fullmatch=True)
SECONDS = st.floats(min_value=0.001, max_value=1e6, allow_nan=False, allow_infinity=False)


def test_actions_have_a_finite_timeout_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SQUALL_ACTION_TIMEOUT_S", raising=False)
    monkeypatch.delenv("SQUALL_ACTION_TIMEOUTS", raising=False)
    settings = load_settings()
    assert settings.action_timeout_s == 3600
    assert settings.action_timeout_by_name() == {}


def test_per_action_timeouts_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SQUALL_ACTION_TIMEOUTS", "std.ssh=600, nova.servers_create=120.5,")
    settings = load_settings()
    assert settings.action_timeout_by_name() == {"std.ssh": 600.0, "nova.servers_create": 120.5}


@pytest.mark.parametrize(
    "value", ["std.ssh=0", "std.ssh=-5", "std.ssh=soon", "std.ssh", "=30", "std.ssh=nan", "a=inf"]
)
def test_a_bad_per_action_timeout_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SQUALL_ACTION_TIMEOUTS", value)
    with pytest.raises(SettingsError, match="SQUALL_ACTION_TIMEOUTS") as caught:
        load_settings()
    assert "S seconds > 0" in str(caught.value)


def test_a_bad_default_timeout_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SQUALL_ACTION_TIMEOUT_S", "0")
    with pytest.raises(SettingsError, match="SQUALL_ACTION_TIMEOUT_S"):
        load_settings()


@given(st.dictionaries(NAMES, SECONDS, max_size=6))
def test_written_timeouts_parse_back(timeouts: dict[str, float]) -> None:
    spec = ",".join(f"{name}={seconds!r}" for name, seconds in timeouts.items())
    assert parse_action_timeouts(spec) == timeouts
