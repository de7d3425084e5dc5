"""/openapi.json: valid OpenAPI 3.1 that Redocly's linter accepts, describing every
route, and no request generated from it gets a server error."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from aiohttp import web
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from squall.api import keystone, v2
from squall.api.openstack_spec import OPERATIONS
from squall.settings import Settings
from tests.harness import ROOT, Api, running, wait_for
from tests.squall.api.api_support import bearer, make_token, secured

REDOCLY = "@redocly/cli@2.77.0"
#: Examples per operation and generation mode (valid and invalid requests).
EXAMPLES = 8
#: Seconds of requests per operation: some wait by design (a re-run waits for the
#: engine, listing dead letters reads Kafka), and the fuzz must stay under a minute.
BUDGET_S = 3.0

SEED_WORKFLOW = """\
version: '2.0'
fuzz_seed:
  tasks:
    broken:
      action: std.fail
"""


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with running(settings, {"api"}) as api:
        yield api


@pytest.fixture(scope="session")
def redocly(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Redocly's CLI, installed with npm once per pytest cache (or once per session)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: Redocly's OpenAPI linter cannot be installed")
    cache = getattr(request.config, "cache", None)
    name = "redocly-cli-" + REDOCLY.rsplit("@", 1)[1]
    home = Path(cache.mkdir(name)) if cache is not None else tmp_path_factory.mktemp(name)
    binary = home / "node_modules" / ".bin" / "redocly"
    if not binary.exists():
        subprocess.run(
            [npm, "install", "--prefix", str(home), "--no-audit", "--no-fund", REDOCLY],
            check=True,
            timeout=600,
            capture_output=True,
        )
    return binary


async def document(api: Api) -> dict[str, Any]:
    status, body = await api.request("GET", "/openapi.json")
    assert status == 200
    assert isinstance(body, dict)
    return body


async def test_the_document_is_valid_openapi_3_1(api: Api) -> None:
    doc = await document(api)
    validate(doc)
    assert doc["openapi"].startswith("3.1")


async def test_the_document_lints_clean_with_redocly(
    api: Api, redocly: Path, tmp_path: Path
) -> None:
    served = tmp_path / "openapi.json"
    served.write_text(json.dumps(await document(api), indent=1))
    linted = await asyncio.to_thread(
        subprocess.run,
        [
            str(redocly),
            "lint",
            "--config",
            str(ROOT / "redocly.yaml"),
            "--format=json",
            str(served),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )
    report = json.loads(linted.stdout)
    problems = [
        f"{p['ruleId']} at {p['location'][0]['pointer']}: {p['message']}"
        for p in report["problems"]
    ]
    assert problems == [], "\n".join(problems)
    assert linted.returncode == 0, linted.stderr


async def test_the_document_covers_v1_hooks_health_v2_and_v3(api: Api) -> None:
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
        ("/v3/auth/tokens", "post"),
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


async def test_mistral_operations_take_mistral_queries_and_bodies(api: Api) -> None:
    doc = await document(api)
    paths, schemas = doc["paths"], doc["components"]["schemas"]
    listing = {p["name"]: p for p in paths["/v2/executions"]["get"]["parameters"]}
    assert set(listing) >= {"marker", "limit", "sort_keys", "sort_dirs", "fields", "state"}
    assert listing["limit"]["schema"]["type"] == "integer"
    assert listing["limit"]["in"] == "query" and not listing["limit"]["required"]
    create = paths["/v2/executions"]["post"]["requestBody"]["content"]["application/json"]
    assert create["schema"] == {"$ref": "#/components/schemas/ExecutionCreate"}
    assert {"workflow_name", "workflow_id", "input", "params", "id"} <= set(
        schemas["ExecutionCreate"]["properties"]
    )
    update = schemas["ExecutionUpdate"]["properties"]["state"]
    assert "PAUSED" in json.dumps(update)
    workflow = paths["/v2/workflows"]["post"]["requestBody"]["content"]
    assert workflow == {"text/plain": {"schema": {"type": "string"}}}
    for path in ("/v2/cron_triggers", "/v2/event_triggers", "/v2/environments"):
        assert "application/json" in paths[path]["post"]["requestBody"]["content"], path
    fault = paths["/v2/executions/{id}"]["get"]["responses"]["404"]["content"]
    assert fault["application/json"]["schema"] == {"$ref": "#/components/schemas/MistralFault"}
    token = paths["/v3/auth/tokens"]["post"]
    assert token["security"] == []
    assert token["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/KeystoneAuthRequest"
    }
    assert token["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/KeystoneFault"
    }


def test_every_mistral_and_keystone_route_is_described() -> None:
    app = web.Application()
    v2.add_routes(app)
    app.add_routes(keystone.routes)
    routes = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    assert routes - set(OPERATIONS) == set(), "describe these in squall.api.openstack_spec"
    assert set(OPERATIONS) - routes == set(), "no such routes: remove them from the table"


async def test_every_operation_with_input_or_a_token_declares_its_4xx(api: Api) -> None:
    # Redocly's operation-4xx-response rule is off for the input-less public documents.
    for path, operations in (await document(api))["paths"].items():
        for method, operation in operations.items():
            takes_input = "parameters" in operation or "requestBody" in operation
            if takes_input or operation.get("security") != []:
                assert any(code.startswith("4") for code in operation["responses"]), (method, path)


@pytest.fixture
async def secured_api(settings: Settings) -> AsyncIterator[tuple[Api, dict[str, str]]]:
    """Squall with authentication on, and an admin's headers."""
    safe = secured(settings)
    token = await make_token(safe, "fuzz", "admin")
    async with running(safe, {"api", "engine", "executor"}) as api:
        yield api, bearer(token)


async def seeded(api: Api, headers: dict[str, str]) -> dict[str, list[str]]:
    """Real ids by path prefix: an execution in ERROR, its task and action execution."""
    status, answer = await api.request(
        "POST",
        "/v2/workflows",
        data=SEED_WORKFLOW,
        headers={**headers, "Content-Type": "text/plain"},
    )
    assert status == 201, answer
    status, answer = await api.request(
        "POST", "/v2/executions", json={"workflow_name": "fuzz_seed"}, headers=headers
    )
    assert status == 201, answer
    execution = answer["id"]

    async def failed() -> bool:
        status, answer = await api.request("GET", f"/v2/executions/{execution}", headers=headers)
        return status == 200 and answer["state"] == "ERROR"

    await wait_for(failed)
    query = f"/v2/tasks?workflow_execution_id={execution}"
    status, answer = await api.request("GET", query, headers=headers)
    task = answer["tasks"][0]["id"]
    query = f"/v2/action_executions?task_execution_id={task}"
    status, answer = await api.request("GET", query, headers=headers)
    runs = [run["id"] for run in answer["action_executions"]]
    env = {"name": "fuzz_env", "variables": {"a": 1}}
    status, answer = await api.request("POST", "/v2/environments", json=env, headers=headers)
    assert status == 201, answer
    return {
        "/v1/executions/": [execution],
        "/v2/executions/": [execution],
        "/v2/tasks/": [task],
        "/v2/action_executions/": runs,
        "/v2/workflows/": ["fuzz_seed"],
        "/v2/environments/": ["fuzz_env"],
    }


def with_known_ids(strategy: Any, known: list[str]) -> Any:
    """Cases whose path parameters are, half of the time, ids that exist."""

    @st.composite
    def draw(data: Callable[..., Any]) -> Any:
        case = data(strategy)
        if known and case.path_parameters and data(st.booleans()):
            for name in case.path_parameters:
                case.path_parameters[name] = data(st.sampled_from(known))
        return case

    return draw()


def fuzz(strategy: Any, base: str, headers: dict[str, str], checks: list[Any]) -> None:
    """Send the requests ``strategy`` makes until EXAMPLES or BUDGET_S run out."""
    deadline = time.monotonic() + BUDGET_S

    @hypothesis.settings(
        max_examples=2 * EXAMPLES,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.generate],
        database=None,
    )
    @hypothesis.given(case=strategy)
    def send(case: Any) -> None:
        hypothesis.assume(time.monotonic() < deadline)
        case.call_and_validate(base_url=base, headers=headers, checks=checks, timeout=30)

    send()


# Schemathesis draws from the random module inside its strategies.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
@pytest.mark.parametrize(
    "include",
    [
        r"^/(v1|hooks|healthz|openapi)",
        # Mistral's and Keystone's routes are described in squall.api.openstack_spec,
        # so their answers are also checked against the document.
        r"^/v[23]",
    ],
)
async def test_no_generated_request_gets_a_server_error(
    secured_api: tuple[Api, dict[str, str]], include: str
) -> None:
    api, headers = secured_api
    known = await seeded(api, headers)
    schema = schemathesis.openapi.from_dict(await document(api)).include(path_regex=include)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) >= 10, "every operation can be generated"
    # Deleting comes last, so the other operations reach the seeded ids while they exist.
    operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))
    checks = [not_a_server_error]
    if include.startswith("^/v[23]"):
        checks += [status_code_conformance, content_type_conformance, response_schema_conformance]
    failures: list[str] = []
    for operation in operations:
        ids = next((v for prefix, v in known.items() if operation.path.startswith(prefix)), [])
        strategy = with_known_ids(
            operation.as_strategy() | operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
            ids,
        )
        try:
            await asyncio.to_thread(fuzz, strategy, api.base, headers, checks)
        except (AssertionError, BaseExceptionGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert failures == [], "\n\n".join(failures)


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
