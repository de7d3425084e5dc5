"""Access control: tokens, roles and projects, as an attacker would probe them."""

from __future__ import annotations

import pytest

from squall.settings import Settings
from tests.harness import Api
from tests.squall.api.api_support import WORKFLOW, bearer, make_token, secured, squall

TEXT = {"Content-Type": "text/plain"}


@pytest.fixture
async def api(settings: Settings) -> Api:
    async with squall(secured(settings)) as api:
        yield api  # type: ignore[misc]


async def test_a_request_without_a_token_is_refused_with_401(api: Api) -> None:
    for path in ("/v2/workflows", "/v1/executions/x", "/v2/executions"):
        status, body = await api.request("GET", path)
        assert status == 401, path
    assert "token" in body["faultstring"]


async def test_a_forged_token_is_refused_with_401(api: Api, settings: Settings) -> None:
    status, _ = await api.request(
        "GET", "/v2/workflows", headers=bearer("sqt_forged-token-that-was-never-issued")
    )
    assert status == 401
    status, _ = await api.request("GET", "/v2/workflows", headers={"X-Auth-Token": "nope"})
    assert status == 401


async def test_health_and_webhooks_need_no_api_token(api: Api) -> None:
    status, _ = await api.request("GET", "/healthz")
    assert status == 200
    status, _ = await api.request("POST", "/hooks/unknown", data=b"{}")
    assert status != 401


async def test_a_viewer_reads_but_cannot_write(api: Api, settings: Settings) -> None:
    admin = bearer(await make_token(settings, "alpha", "admin"))
    viewer = bearer(await make_token(settings, "alpha", "viewer"))
    status, _ = await api.request("POST", "/v2/workflows", data=WORKFLOW, headers=admin | TEXT)
    assert status == 201
    status, body = await api.request("GET", "/v2/workflows", headers=viewer)
    assert status == 200 and [w["name"] for w in body["workflows"]] == ["greet"]
    status, body = await api.request(
        "POST", "/v2/executions", json={"workflow_name": "greet"}, headers=viewer
    )
    assert status == 403 and "viewer" in body["faultstring"]
    status, _ = await api.request("DELETE", "/v2/workflows/greet", headers=viewer)
    assert status == 403


async def test_an_operator_runs_workflows_but_cannot_change_definitions(
    api: Api, settings: Settings
) -> None:
    admin = bearer(await make_token(settings, "alpha", "admin"))
    operator = bearer(await make_token(settings, "alpha", "operator"))
    await api.request("POST", "/v2/workflows", data=WORKFLOW, headers=admin | TEXT)
    status, _ = await api.request("POST", "/v2/workflows", data=WORKFLOW, headers=operator | TEXT)
    assert status == 403
    status, body = await api.request(
        "POST",
        "/v2/executions",
        json={"workflow_name": "greet", "input": {"name": "x"}},
        headers=operator,
    )
    assert status == 201, body


async def test_another_projects_ids_are_not_found_rather_than_forbidden(
    api: Api, settings: Settings
) -> None:
    alpha = bearer(await make_token(settings, "alpha", "admin"))
    beta = bearer(await make_token(settings, "beta", "admin"))
    await api.request("POST", "/v2/workflows", data=WORKFLOW, headers=alpha | TEXT)
    status, created = await api.request(
        "POST",
        "/v2/executions",
        json={"workflow_name": "greet", "input": {"name": "a"}},
        headers=alpha,
    )
    assert status == 201
    execution_id = created["id"]
    for method, path in [
        ("GET", f"/v2/executions/{execution_id}"),
        ("PUT", f"/v2/executions/{execution_id}"),
        ("DELETE", f"/v2/executions/{execution_id}?force=true"),
        ("GET", f"/v2/executions/{execution_id}/tasks"),
        ("GET", f"/v1/executions/{execution_id}"),
        ("GET", "/v2/workflows/greet"),
    ]:
        status, _ = await api.request(method, path, headers=beta, json={"state": "PAUSED"})
        assert status == 404, (method, path)
    status, body = await api.request("GET", "/v2/executions", headers=beta)
    assert status == 200 and body["executions"] == []
    status, body = await api.request("GET", "/v2/workflows", headers=beta)
    assert body["workflows"] == []
    # The execution id is not reusable by the other project either.
    status, _ = await api.request(
        "POST",
        "/v2/executions",
        json={"workflow_name": "greet", "id": execution_id},
        headers=beta,
    )
    assert status in (404, 409)


async def test_a_token_cannot_name_another_project(api: Api, settings: Settings) -> None:
    alpha = bearer(await make_token(settings, "alpha", "admin"))
    status, _ = await api.request("GET", "/v1/executions/x?project=beta", headers=alpha)
    assert status == 403


async def test_an_oversized_body_is_refused_with_413(api: Api, settings: Settings) -> None:
    admin = bearer(await make_token(settings, "alpha", "admin"))
    huge = "#" * (settings.max_request_body + 10)
    status, body = await api.request("POST", "/v2/workflows", data=huge, headers=admin | TEXT)
    assert status == 413
    assert "Traceback" not in str(body)
