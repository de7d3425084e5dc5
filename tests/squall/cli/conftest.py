"""Fixtures of the CLI tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from squall.settings import Settings
from tests.harness import Api, running
from tests.squall.cli.cli_support import WORKFLOWS


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    """A running Squall (API, engine, executor) with ``WORKFLOWS`` applied."""
    async with running(settings, {"api", "engine", "executor"}) as api:
        await api.apply(WORKFLOWS)
        yield api
