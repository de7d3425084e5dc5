"""/openapi.json: a valid OpenAPI 3.1 document, and the /v1 API survives fuzzing from it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error

from squall.settings import Settings
from tests.harness import Api, running

#: Routes another module documents by name only; they are fuzzed by their own tests.
NOT_OURS = r"^/v1/(replays|deadletters|rules/\{name\}/evaluations|events/\{id\}/evaluations)"


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with running(settings, {"api"}) as api:
        yield api


async def document(api: Api) -> dict[str, Any]:
    status, body = await api.request("GET", "/openapi.json")
    assert status == 200
    assert isinstance(body, dict)
    return body


async def test_the_document_is_valid_openapi_3_1(api: Api) -> None:
    doc = await document(api)
    validate(doc)
    assert doc["openapi"].startswith("3.1")


async def test_the_document_covers_v1_hooks_health_and_v2(api: Api) -> None:
    paths = (await document(api))["paths"]
    for path, method in [
        ("/v1/rules", "post"),
        ("/v1/rules/{name}", "put"),
        ("/v1/hooks/{name}", "delete"),
        ("/v1/timers", "get"),
        ("/v1/executions", "get"),
        ("/v1/executions/{id}/graph", "get"),
        ("/v1/actions", "get"),
        ("/v1/tokens", "post"),
        ("/hooks/{name}", "post"),
        ("/healthz", "get"),
        ("/v2/executions", "post"),
        ("/v2/workflows", "get"),
    ]:
        assert method in paths.get(path, {}), (path, method)


async def test_request_and_response_models_come_from_pydantic(api: Api) -> None:
    doc = await document(api)
    create_rule = doc["paths"]["/v1/rules"]["post"]
    body = create_rule["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Rule"}
    rule = doc["components"]["schemas"]["Rule"]
    assert {"pattern", "correlate"} <= set(rule["properties"]) and "name" in rule["required"]
    assert "rate-limit" in str(doc["components"]["schemas"])
    hook_view = doc["components"]["schemas"]["HookView"]
    assert "secret" not in hook_view["properties"]
    assert set(create_rule["responses"]) >= {"201", "400", "401", "403", "409"}
    listing = doc["paths"]["/v1/executions"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"state", "limit", "marker", "rule"}


@pytest.mark.parametrize(
    ("include", "exclude"),
    [
        (r"^/(v1|healthz)", NOT_OURS),
        # Mistral's /v2 and the replay, dead-letter and evaluation routes are described
        # by path and method only: fuzzed with arbitrary ids, queries and JSON bodies.
        (r"^/v2/|" + NOT_OURS, None),
    ],
)
async def test_no_generated_request_gets_a_server_error(
    api: Api, include: str, exclude: str | None
) -> None:
    schema = schemathesis.openapi.from_dict(await document(api))
    ours = schema.include(path_regex=include)
    if exclude is not None:
        ours = ours.exclude(path_regex=exclude)
    operations = [op for op in ours.get_all_operations() if op.ok()]
    assert len(operations) >= 10
    strategy = ours.as_strategy() | ours.as_strategy(schemathesis.GenerationMode.NEGATIVE)

    @hypothesis.settings(
        max_examples=400,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.generate],
        database=None,
    )
    @hypothesis.given(case=strategy)
    def fuzz(case: Any) -> None:
        case.call_and_validate(base_url=api.base, checks=[not_a_server_error], timeout=30)

    await asyncio.to_thread(fuzz)


@pytest.mark.parametrize(
    "body",
    [
        {"pattern": {"source": ["x"]}, "workflow": "w", "input": {"n": 2**70}},
        {"pattern": {"source": ["x"]}, "workflow": "w", "input": {"$where": 1, "a.b": 2}},
        {"pattern": {"source": ["x"]}, "workflow": "w", "input": {"k": "\u0000"}},
        {"pattern": {"source": [{"numeric": [">", 1e308, "<", -1e308]}]}, "workflow": "w"},
    ],
)
async def test_awkward_values_are_stored_or_refused_never_a_server_error(
    api: Api, body: dict[str, Any]
) -> None:
    status, answer = await api.request("PUT", "/v1/rules/awkward", json=body)
    assert status in (200, 400), answer


@pytest.mark.parametrize(
    "body",
    [
        {"interval": 1e300, "workflow": "w"},
        {"date": "9999-12-31T23:59:59Z", "workflow": "w"},
        {"cron": "0 0 31 2 *", "workflow": "w"},
        {"cron": "0 20 * * 1-5", "timezone": "Europe/Paris", "workflow": "w", "count": 0},
    ],
)
async def test_awkward_schedules_are_stored_or_refused_never_a_server_error(
    api: Api, body: dict[str, Any]
) -> None:
    status, answer = await api.request("PUT", "/v1/timers/awkward", json=body)
    assert status in (200, 400), answer
    status, answer = await api.request("GET", "/v1/timers")
    assert status == 200, answer
