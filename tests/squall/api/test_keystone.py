"""Keystone's /v3/auth/tokens: a Squall token is exchanged, anything malformed gets 400."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st

from squall.settings import Settings
from tests.harness import Api, running
from tests.squall.api.api_support import make_token, secured

TOKENS = "/v3/auth/tokens"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
#: Bodies shaped like a token request, with any value anywhere.
token_requests = st.fixed_dictionaries(
    {
        "auth": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {
                    "identity": st.one_of(
                        json_values,
                        st.fixed_dictionaries(
                            {
                                "methods": st.one_of(
                                    json_values, st.lists(st.sampled_from(["token", "password"]))
                                ),
                                "token": st.one_of(
                                    json_values, st.fixed_dictionaries({"id": json_values})
                                ),
                                "password": json_values,
                            }
                        ),
                    )
                }
            ),
        )
    }
)


@pytest.fixture
async def keystone(settings: Settings) -> AsyncIterator[tuple[Api, str]]:
    """Squall with authentication on, and a valid operator token."""
    safe = secured(settings)
    token = await make_token(safe, "p1", "operator")
    async with running(safe, {"api"}) as api:
        yield api, token


def token_request(token: Any, method: str = "token") -> dict[str, Any]:
    """The body keystoneauth sends for the ``token`` or ``password`` method."""
    data = {"id": token} if method == "token" else {"user": {"name": "u", "password": token}}
    return {"auth": {"identity": {"methods": [method], method: data}}}


def assert_keystone_fault(status: int, body: Any, expected: int) -> None:
    assert status == expected, body
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert body["error"]["code"] == expected
    assert body["error"]["title"] and body["error"]["message"]


@pytest.mark.parametrize("method", ["token", "password"])
async def test_a_squall_token_is_exchanged_for_a_catalogue(
    keystone: tuple[Api, str], method: str
) -> None:
    api, token = keystone
    async with api.session.post(api.base + TOKENS, json=token_request(token, method)) as answer:
        assert answer.status == 201
        assert answer.headers["X-Subject-Token"] == token
        body = await answer.json()
    assert body["token"]["project"]["id"] == "p1"
    assert body["token"]["roles"] == [{"id": "operator", "name": "operator"}]
    (service,) = body["token"]["catalog"]
    assert service["type"] == "workflowv2"
    assert {e["url"] for e in service["endpoints"]} == {api.base + "/v2"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"auth": "x"}, "auth"),
        ({"auth": {"identity": {"methods": 5}}}, "auth.identity.methods"),
        ({"auth": {"identity": {"methods": ["token"], "token": "abc"}}}, "auth.identity.token"),
        (
            {"auth": {"identity": {"methods": ["token"], "token": {"id": 7}}}},
            "auth.identity.token.id",
        ),
        ({"auth": {"identity": {"methods": ["token"]}}}, "auth.identity.token"),
        ({"auth": {"identity": {"methods": ["password"], "password": {}}}}, "password.user"),
        ({}, "auth"),
        ([], "body"),
    ],
)
async def test_a_malformed_request_gets_keystones_400_naming_the_field(
    keystone: tuple[Api, str], body: Any, field: str
) -> None:
    api, _ = keystone
    status, answer = await api.request("POST", TOKENS, json=body)
    assert_keystone_fault(status, answer, 400)
    assert field in answer["error"]["message"]


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe", b"[" * 100_000])
async def test_a_body_that_is_not_json_gets_400(keystone: tuple[Api, str], raw: bytes) -> None:
    api, _ = keystone
    status, answer = await api.request(
        "POST", TOKENS, data=raw, headers={"Content-Type": "application/json"}
    )
    assert_keystone_fault(status, answer, 400)


@pytest.mark.parametrize(
    "body",
    [
        token_request("not-a-squall-token"),
        token_request("\ud800"),
        token_request("forged", "password"),
        {"auth": {"identity": {"methods": ["totp"], "totp": {}}}},
    ],
)
async def test_an_unknown_token_or_method_gets_keystones_401(
    keystone: tuple[Api, str], body: Any
) -> None:
    api, _ = keystone
    status, answer = await api.request(
        "POST",
        TOKENS,
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert_keystone_fault(status, answer, 401)
    assert "requires authentication" in answer["error"]["message"]


async def test_an_oversized_body_gets_keystones_413(
    keystone: tuple[Api, str], settings: Settings
) -> None:
    api, _ = keystone
    padding = "x" * (settings.max_request_body + 1)
    status, answer = await api.request("POST", TOKENS, json={"auth": {}, "pad": padding})
    assert_keystone_fault(status, answer, 413)


async def test_no_json_body_gets_a_server_error(keystone: tuple[Api, str]) -> None:
    api, _ = keystone
    bodies: list[Any] = []

    # Drawn first, sent after: the server runs on this test's event loop.
    @hypothesis.settings(max_examples=150, deadline=None, database=None)
    @hypothesis.given(body=json_values | token_requests)
    def draw(body: Any) -> None:
        bodies.append(body)

    draw()
    for body in bodies:
        status, answer = await api.request(
            "POST", TOKENS, data=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        assert status in (400, 401), (body, answer)
        assert_keystone_fault(status, answer, status)
