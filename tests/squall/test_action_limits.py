"""SQUALL_ACTION_CONCURRENCY: per-action limits written as ``name=N,name=N``."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from squall.settings import SettingsError, load_settings, parse_action_limits

names = st.from_regex(r"[a-z][a-z0-9_]{0,12}(\.[a-z][a-z0-9_]{0,12}){0,2}", fullmatch=True)


@given(st.dictionaries(names, st.integers(min_value=1, max_value=100_000), max_size=8))
def test_every_written_limit_is_read_back(limits: dict[str, int]) -> None:
    spec = ",".join(f"{name}={count}" for name, count in limits.items())
    assert parse_action_limits(spec) == limits


@given(st.dictionaries(names, st.integers(min_value=1, max_value=999), min_size=1, max_size=5))
def test_spaces_and_empty_entries_are_tolerated(limits: dict[str, int]) -> None:
    spec = " , ".join(f" {name} = {count} " for name, count in limits.items()) + ", ,"
    assert parse_action_limits(spec) == limits


def test_nothing_means_no_limits() -> None:
    assert parse_action_limits("") == {}
    assert parse_action_limits(" , ") == {}


@pytest.mark.parametrize(
    "entry", ["std.http", "std.http=0", "std.http=-1", "std.http=ten", "=5", "std.http=2.5"]
)
def test_a_bad_entry_is_named(entry: str) -> None:
    with pytest.raises(
        ValueError, match=re.escape("expected `action.name=N` with N >= 1")
    ) as caught:
        parse_action_limits(f"std.echo=3,{entry}")
    assert repr(entry) in str(caught.value)


def test_the_variable_configures_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQUALL_ACTION_CONCURRENCY", "std.http=20, nova.servers_create=5")
    settings = load_settings()
    assert settings.action_limits() == {"std.http": 20, "nova.servers_create": 5}


def test_a_bad_variable_is_refused_at_start_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQUALL_ACTION_CONCURRENCY", "std.http=lots")
    with pytest.raises(SettingsError, match=r"SQUALL_ACTION_CONCURRENCY.*'std\.http=lots'"):
        load_settings()
