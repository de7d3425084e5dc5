"""Access control on Squall's own /v1: roles on every write, tokens, and other projects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from schemas.base import utcnow
from squall.auth import hash_token
from squall.settings import Settings
from tests.harness import Api, wait_for
from tests.squall.api.api_support import bearer, make_token, secured, squall

Headers = dict[str, str]
RULE = {"pattern": {"type": ["order.paid"]}, "workflow": "ship"}
HOOK = {"adapter": "generic", "secret": "hook-secret-1234"}
TIMER = {"cron": "0 3 * * *", "workflow": "ship"}
APPLY = """\
version: '2.0'
name: shop
rules:
  other:
    pattern: {type: [x]}
    workflow: ship
"""
HOUR_AGO = (utcnow() - timedelta(hours=1)).isoformat()
REPLAY = {"start": HOUR_AGO, "end": utcnow().isoformat(), "dry_run": True}


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with squall(secured(settings)) as api:
        yield api


async def define(api: Api, admin: Headers) -> None:
    """A rule ``fix``, a hook ``alerts`` and a timer ``nightly``, as ``admin``."""
    for kind, body in (("rules/fix", RULE), ("hooks/alerts", HOOK), ("timers/nightly", TIMER)):
        status, answer = await api.request("PUT", f"/v1/{kind}", json=body, headers=admin)
        assert status == 200, answer


def writes(token_id: str) -> list[tuple[str, str, Any]]:
    """Every /v1 write, with a body the handler would accept."""
    found: list[tuple[str, str, Any]] = [
        ("POST", "/v1/apply", APPLY),
        ("POST", "/v1/events", {"source": "shop", "type": "order.paid"}),
        ("POST", "/v1/replays", REPLAY),
        ("POST", "/v1/deadletters/redrive", {"ids": ["0:0"]}),
        ("POST", "/v1/tokens", {"role": "admin"}),
        ("DELETE", f"/v1/tokens/{token_id}", None),
    ]
    for kind, body in (("rules", RULE), ("hooks", HOOK), ("timers", TIMER)):
        name = {"rules": "fix", "hooks": "alerts", "timers": "nightly"}[kind]
        found += [
            ("POST", f"/v1/{kind}", {"name": "second", **body}),
            ("PUT", f"/v1/{kind}/{name}", {**body, "enabled": False}),
            ("DELETE", f"/v1/{kind}/{name}", None),
        ]
    return found


async def send(api: Api, method: str, path: str, body: Any, headers: Headers) -> tuple[int, Any]:
    """One request, with ``body`` as YAML text or JSON."""
    if isinstance(body, str):
        yaml = headers | {"Content-Type": "application/yaml"}
        return await api.request(method, path, data=body, headers=yaml)
    return await api.request(method, path, json=body, headers=headers)


async def definitions(api: Api, admin: Headers) -> dict[str, Any]:
    """What the project has defined, and its tokens, as its admin sees them."""
    seen = {}
    for path in ("/v1/rules", "/v1/hooks", "/v1/timers", "/v1/tokens"):
        status, seen[path] = await api.request("GET", path, headers=admin)
        assert status == 200
    return seen


async def refused_writes(
    api: Api, settings: Settings, role: str, allowed: set[str]
) -> tuple[Headers, Headers]:
    """Try every /v1 write but ``allowed`` ones with a ``role`` token: each must be
    refused with 403 naming the role, and nothing may change. Returns the project's
    admin and ``role`` headers."""
    admin = bearer(await make_token(settings, "alpha", "admin"))
    caller = bearer(await make_token(settings, "alpha", role))
    await define(api, admin)
    _, tokens = await api.request("GET", "/v1/tokens", headers=admin)
    before = await definitions(api, admin)
    for method, path, body in writes(tokens["tokens"][0]["id"]):
        if path in allowed:
            continue
        status, answer = await send(api, method, path, body, caller)
        assert status == 403, (method, path, answer)
        assert answer["code"] == "forbidden" and f"role '{role}'" in answer["message"]
    assert await definitions(api, admin) == before
    return admin, caller


async def test_a_viewer_is_refused_every_v1_write_and_nothing_changes(
    api: Api, settings: Settings
) -> None:
    admin, _ = await refused_writes(api, settings, "viewer", set())
    status, events = await api.request("GET", "/v1/events", headers=admin)
    assert status == 200 and events["events"] == []


async def test_an_operator_runs_things_but_changes_no_definition_and_no_token(
    api: Api, settings: Settings
) -> None:
    running = {"/v1/events", "/v1/replays", "/v1/deadletters/redrive"}
    _, operator = await refused_writes(api, settings, "operator", running)
    status, _ = await api.request("GET", "/v1/tokens", headers=operator)
    assert status == 403
    for path in ("/v1/events", "/v1/replays"):
        body = {"source": "shop", "type": "order.paid"} if path == "/v1/events" else REPLAY
        status, answer = await api.request("POST", path, json=body, headers=operator)
        assert status == 202, (path, answer)


async def test_only_a_hash_of_a_token_is_stored(
    api: Api, settings: Settings, db: AsyncDatabase[dict[str, Any]]
) -> None:
    admin = bearer(await make_token(settings, "alpha", "admin"))
    status, created = await api.request(
        "POST", "/v1/tokens", json={"role": "viewer", "description": "ci"}, headers=admin
    )
    assert status == 201 and created["token"].startswith("sqt_")
    token = created["token"]
    docs = [doc async for doc in db["tokens"].find()]
    assert len(docs) == 2
    assert all(token not in repr(doc) for doc in docs)
    (stored,) = [doc for doc in docs if doc["id"] == created["id"]]
    assert stored["_id"] == hash_token(token) != token
    assert (stored["project"], stored["role"]) == ("alpha", "viewer")
    status, listing = await api.request("GET", "/v1/tokens", headers=admin)
    assert status == 200 and token not in str(listing)
    status, _ = await api.request("GET", "/v1/rules", headers=bearer(token))
    assert status == 200


async def test_a_revoked_token_stops_working_at_once(api: Api, settings: Settings) -> None:
    admin = bearer(await make_token(settings, "alpha", "admin"))
    _, created = await api.request("POST", "/v1/tokens", json={"role": "operator"}, headers=admin)
    operator = bearer(created["token"])
    status, _ = await api.request("GET", "/v1/rules", headers=operator)
    assert status == 200
    status, _ = await api.request("DELETE", f"/v1/tokens/{created['id']}", headers=admin)
    assert status == 204
    status, body = await api.request("GET", "/v1/rules", headers=operator)
    assert status == 401 and "revoked" in body["message"]
    status, _ = await api.request("DELETE", f"/v1/tokens/{created['id']}", headers=admin)
    assert status == 404


async def test_another_projects_v1_ids_are_not_found(api: Api, settings: Settings) -> None:
    alpha = bearer(await make_token(settings, "alpha", "admin"))
    beta = bearer(await make_token(settings, "beta", "admin"))
    await define(api, alpha)
    status, published = await api.request(
        "POST", "/v1/events", json={"source": "shop", "type": "order.paid"}, headers=alpha
    )
    assert status == 202
    event_id = published["id"]

    async def archived() -> Any:
        status, body = await api.request("GET", f"/v1/events/{event_id}", headers=alpha)
        return body if status == 200 else None

    await wait_for(archived, 30)
    status, replay = await api.request("POST", "/v1/replays", json=REPLAY, headers=alpha)
    assert status == 202
    for method, path in [
        ("GET", f"/v1/events/{event_id}"),
        ("GET", f"/v1/replays/{replay['id']}"),
        ("GET", "/v1/rules/fix"),
        ("GET", "/v1/timers/nightly"),
        ("GET", "/v1/hooks/alerts"),
        ("DELETE", "/v1/rules/fix"),
        ("DELETE", "/v1/timers/nightly"),
    ]:
        status, body = await api.request(method, path, headers=beta)
        assert status == 404 and body["code"] == "not_found", (method, path)
    for path, key in [
        ("/v1/events", "events"),
        ("/v1/rules", "rules"),
        ("/v1/timers", "timers"),
        (f"/v1/events/{event_id}/evaluations", "evaluations"),
    ]:
        status, body = await api.request("GET", path, headers=beta)
        assert status == 200 and body[key] == [], path
    for path in ("/v1/rules/fix", "/v1/timers/nightly", f"/v1/replays/{replay['id']}"):
        status, _ = await api.request("GET", path, headers=alpha)
        assert status == 200, path
