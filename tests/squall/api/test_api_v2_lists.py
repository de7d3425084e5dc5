"""Mistral's list parameters on /v2: filters with operators, sort_dirs, fields, paging."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from squall.settings import Settings
from tests.harness import Api
from tests.squall.api.v2_support import NAPPER, reaches, start, v2


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with v2(settings, NAPPER) as api:
        yield api


async def ids(api: Api, query: str, key: str = "executions") -> list[str]:
    status, body = await api.request("GET", f"/v2/{key}?{query}")
    assert status == 200, body
    return [item["id"] for item in body[key]]


async def test_executions_filter_with_operators_sort_and_show_only_the_fields_asked(
    api: Api,
) -> None:
    greeted = [
        (await reaches(api, (await start(api, input={"name": str(i)}))["id"])) for i in range(2)
    ]
    napping = await start(api, "napper")
    first, second = (g["id"] for g in greeted)
    assert await ids(api, "sort_keys=created_at,id&sort_dirs=desc") == [
        napping["id"],
        second,
        first,
    ]
    assert set(await ids(api, "state=eq:SUCCESS")) == {first, second}
    assert set(await ids(api, "state=in:RUNNING,PAUSED")) == {napping["id"]}
    assert set(await ids(api, "state=neq:SUCCESS")) == {napping["id"]}
    assert await ids(api, f"workflow_id={napping['workflow_id']}") == [napping["id"]]
    assert set(await ids(api, "workflow_name=greet")) == {first, second}
    _, listed = await api.request("GET", "/v2/executions?fields=state,workflow_name&limit=1")
    assert set(listed["executions"][0]) == {"id", "state", "workflow_name"}
    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    assert len(await ids(api, f"created_at=gt:{past}")) == 3
    assert await ids(api, f"created_at=lt:{past}") == []


async def test_outputs_are_listed_only_when_asked(api: Api) -> None:
    await reaches(api, (await start(api, input={"name": "out"}))["id"])
    _, plain = await api.request("GET", "/v2/executions")
    assert "output" not in plain["executions"][0]
    _, full = await api.request("GET", "/v2/executions?include_output=true")
    assert json.loads(full["executions"][0]["output"]) == {"said": "hello out"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("executions?limit=abc", "limit"),
        ("executions?include_output=perhaps", "include_output"),
        ("executions?created_at=gt:yesterday", "created_at"),
        ("executions?sort_dirs=sideways", "sort_dirs"),
        ("tasks?limit=1.5", "limit"),
        ("action_executions?limit=abc", "limit"),
        ("action_executions?include_output=perhaps", "include_output"),
        ("action_executions?sort_keys=name", "sort_keys"),
    ],
)
async def test_a_malformed_list_parameter_is_a_400_naming_it(
    api: Api, query: str, field: str
) -> None:
    status, body = await api.request("GET", f"/v2/{query}")
    assert status == 400, body
    assert field in body["faultstring"]


@pytest.mark.parametrize(
    "query", ["executions?params={}", "executions?tags=a", "tasks?result=1", "tasks?env={}"]
)
async def test_a_mistral_filter_squall_does_not_support_is_refused_plainly(
    api: Api, query: str
) -> None:
    status, body = await api.request("GET", f"/v2/{query}")
    assert status == 400
    assert "is not supported" in body["faultstring"]


async def test_tasks_filter_by_workflow_name_or_id_and_state(api: Api) -> None:
    done = await reaches(api, (await start(api))["id"])
    napping = await start(api, "napper")

    async def names(query: str) -> list[str]:
        _, body = await api.request("GET", f"/v2/tasks?{query}")
        return [t["name"] for t in body["tasks"]]

    assert await names("workflow_name=greet") == ["say"]
    assert await names(f"workflow_id={napping['workflow_id']}") == ["nap"]
    assert await names("workflow_name=napper&state=SUCCESS") == []
    assert await names(f"workflow_execution_id={done['id']}&processed=true") == ["say"]
    status, _ = await api.request(
        "GET", f"/v2/tasks?workflow_name=greet&workflow_id={napping['workflow_id']}"
    )
    assert status == 400
