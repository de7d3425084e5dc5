"""Access control: tokens, roles and projects, as an attacker would probe them."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest

from squall.settings import Settings, load_settings
from tests.harness import Api, environment
from tests.squall.api.api_support import WORKFLOW, bearer, make_token, secured, squall

TEXT = {"Content-Type": "text/plain"}
CHUNK = 256 * 1024
HOOK = {"adapter": "generic", "secret": "hook-secret-1234"}


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with squall(secured(settings)) as api:
        yield api


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


async def test_a_token_of_bytes_that_are_not_utf8_is_refused_with_401(api: Api) -> None:
    host, port = api.base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"GET /v1/executions HTTP/1.1\r\nHost: squall\r\nConnection: close\r\n"
        b"Authorization: Bearer sqt_\xff\xfe\r\n\r\n"
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert status_line.split()[1] == b"401", status_line


async def test_health_and_webhooks_need_no_api_token(api: Api, settings: Settings) -> None:
    status, body = await api.request("GET", "/healthz")
    assert (status, body) == (200, {"status": "ok"})
    status, body = await api.request("GET", "/openapi.json")
    assert status == 200 and body["openapi"].startswith("3.1")
    status, body = await api.request("POST", "/hooks/unknown", data=b"{}")
    assert status == 404 and body["code"] == "not_found"
    # A hook checks its own secret, never an API token.
    admin = bearer(await make_token(settings, "alpha", "admin"))
    status, _ = await api.request("PUT", "/v1/hooks/alerts", json=HOOK, headers=admin)
    assert status == 200
    status, body = await api.request("POST", "/hooks/alerts?token=wrong-secret", json={})
    assert status == 401 and body["code"] == "unauthorized"
    status, body = await api.request("POST", "/hooks/alerts", json={}, headers=admin)
    assert status == 401
    status, body = await api.request("POST", f"/hooks/alerts?token={HOOK['secret']}", json={})
    assert status == 202 and len(body["event_ids"]) == 1


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


@pytest.mark.parametrize(
    "path", ["/v1/replays", "/v1/deadletters/redrive", "/v1/rules", "/v2/workflows"]
)
async def test_an_oversized_chunked_body_is_refused_with_413(
    api: Api, settings: Settings, path: str
) -> None:
    admin = bearer(await make_token(settings, "alpha", "admin"))

    async def chunks() -> AsyncIterator[bytes]:
        # JSON whitespace: read whole, it would be refused as invalid JSON (400) instead.
        for _ in range(settings.max_request_body // CHUNK + 2):
            yield b" " * CHUNK

    status, body = await api.request("POST", path, data=chunks(), headers=admin)
    assert status == 413, body
    assert f"over {settings.max_request_body} bytes" in (body.get("message") or body["faultstring"])


async def test_settings_from_an_environment_that_does_not_disable_auth_require_tokens(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("SQUALL_")]:
        monkeypatch.delenv(name)
    for name, value in environment(settings).items():
        if name.startswith("SQUALL_") and name != "SQUALL_AUTH_DISABLED":
            monkeypatch.setenv(name, value)
    loaded = load_settings()
    assert (loaded.mongo_db, loaded.auth_disabled) == (settings.mongo_db, False)
    async with squall(loaded, {"api"}) as api:
        status, body = await api.request("GET", "/v1/rules")
        assert status == 401 and body["code"] == "unauthenticated"
        token = await make_token(loaded, "alpha", "viewer")
        status, body = await api.request("GET", "/v1/rules", headers=bearer(token))
        assert (status, body) == (200, {"rules": []})
