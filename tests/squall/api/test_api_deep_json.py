"""JSON nested deeper than the parser can follow is bad input: a 400, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from squall.settings import Settings
from tests.harness import Api, running

DEEP = "[" * 100_000 + "]" * 100_000
JSON = {"Content-Type": "application/json"}
WORKFLOW = """\
version: '2.0'
name: deep
workflows:
  noop:
    tasks:
      only:
        action: std.noop
"""


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with running(settings, {"api"}) as api:
        yield api


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("PUT", "/v1/rules/deep", "message"),
        ("POST", "/v2/executions", "faultstring"),
        ("POST", "/v3/auth/tokens", "error"),
    ],
)
async def test_a_body_nested_too_deeply_is_a_400(
    api: Api, method: str, path: str, key: str
) -> None:
    status, body = await api.request(method, path, data=DEEP, headers=JSON)
    assert status == 400, body
    assert "nested too deeply" in str(body[key])


async def test_a_json_encoded_field_nested_too_deeply_is_a_400_naming_it(api: Api) -> None:
    await api.apply(WORKFLOW)
    status, body = await api.request(
        "POST", "/v2/executions", json={"workflow_name": "noop", "input": DEEP}
    )
    assert status == 400, body
    assert "input" in body["faultstring"] and "nested too deeply" in body["faultstring"]
