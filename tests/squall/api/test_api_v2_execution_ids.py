"""Client-chosen execution ids on /v2 and /v1: idempotent in a project, refused across."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from squall.settings import Settings
from tests.harness import Api, wait_for
from tests.squall.api.api_support import WORKFLOW, bearer, make_token, secured, squall
from tests.squall.api.v2_support import TEXT

CHOSEN = "5b0e1b9a-8d51-4d3e-9d8c-0f4a2c6e7d11"


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with squall(secured(settings)) as api:
        yield api


async def test_another_projects_id_is_a_conflict_on_v1_and_v2(api: Api, settings: Settings) -> None:
    alpha = bearer(await make_token(secured(settings), "alpha", "admin"))
    beta = bearer(await make_token(secured(settings), "beta", "admin"))
    for headers in (alpha, beta):
        status, _ = await api.request(
            "POST", "/v2/workflows", data=WORKFLOW, headers=headers | TEXT
        )
        assert status == 201
    start = {"workflow_name": "greet", "input": {"name": "a"}, "id": CHOSEN}
    status, _ = await api.request("POST", "/v1/executions", json=start, headers=alpha)
    assert status == 201
    status, again = await api.request("POST", "/v1/executions", json=start, headers=alpha)
    assert (status, again["id"]) == (201, CHOSEN)

    async def created() -> Any:
        status, body = await api.request("GET", f"/v2/executions/{CHOSEN}", headers=alpha)
        return body if status == 200 else None

    assert (await wait_for(created))["project_id"] == "alpha"
    for path in ("/v1/executions", "/v2/executions"):
        status, body = await api.request("POST", path, json=start, headers=beta)
        assert status == 409, (path, body)
    status, _ = await api.request("GET", f"/v1/executions/{CHOSEN}", headers=beta)
    assert status == 404
