"""Input MongoDB cannot store is the client's error: a 400 that says why, never a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from squall.settings import Settings
from tests.harness import Api, running


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with running(settings, {"api"}) as api:
        yield api


async def test_a_key_with_a_nul_byte_is_refused_and_nothing_is_stored(api: Api) -> None:
    variables = json.dumps({"re\u0000gion": "gra"})
    status, body = await api.request(
        "POST", "/v2/environments", json={"name": "nul", "variables": variables}
    )
    assert status == 400, body
    assert "NULL byte" in body["faultstring"]
    status, _ = await api.request("GET", "/v2/environments/nul")
    assert status == 404


async def test_an_integer_wider_than_eight_bytes_is_refused(api: Api) -> None:
    variables = json.dumps({"region": 2**70})
    status, body = await api.request(
        "POST", "/v2/environments", json={"name": "wide", "variables": variables}
    )
    assert status == 400, body
    assert "8-byte ints" in body["faultstring"]
