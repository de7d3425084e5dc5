"""/v1/actions: the catalogue plus the calling project's ad-hoc actions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from squall.settings import Settings
from tests.harness import Api, running

ALPHA = """\
version: '2.0'
name: alpha_tools
actions:
  greet:
    description: Say hello to someone
    base: std.echo
    base-input:
      output: Hello <% $.who %><% $.punctuation %>
    input:
      - who
      - punctuation: "!"
      - times: 1
      - extra: null
  shout:
    base: std.echo output="HEY"
"""

BETA = """\
version: '2.0'
name: beta_tools
actions:
  page_oncall:
    description: Page whoever is on call
    base: std.http
    base-input:
      url: https://pager.example.com
    input: [message]
"""


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with running(settings, {"api"}) as api:
        for project, text in (("alpha", ALPHA), ("beta", BETA)):
            status, body = await api.request(
                "POST",
                f"/v1/apply?project={project}",
                data=text,
                headers={"Content-Type": "application/yaml"},
            )
            assert status == 200, body
        yield api


async def _listed(api: Api, project: str) -> dict[str, dict[str, object]]:
    status, body = await api.request("GET", f"/v1/actions?project={project}")
    assert status == 200, body
    return {a["name"]: a for a in body["actions"]}


async def test_each_project_lists_its_own_adhoc_actions_after_the_catalogue(api: Api) -> None:
    alpha, beta = await _listed(api, "alpha"), await _listed(api, "beta")
    assert alpha["greet"] == {
        "name": "greet",
        "description": "Say hello to someone",
        "input": 'who, punctuation="!", times=1, extra=null',
        "is_async": False,
        "base": "std.echo",
    }
    assert alpha["shout"]["input"] == "" and alpha["shout"]["base"] == "std.echo"
    assert "page_oncall" not in alpha
    assert beta["page_oncall"]["input"] == "message"
    assert beta["page_oncall"]["description"] == "Page whoever is on call"
    assert "greet" not in beta and "shout" not in beta
    assert list(alpha)[-2:] == ["greet", "shout"]
    for listing in (alpha, beta):
        assert listing["std.http"]["base"] is None and "url" in str(listing["std.http"]["input"])
    default = await _listed(api, "default")
    assert not {"greet", "shout", "page_oncall"} & set(default)


async def test_one_adhoc_action_is_found_in_its_project_only(api: Api) -> None:
    status, body = await api.request("GET", "/v1/actions/greet?project=alpha")
    assert status == 200 and body["base"] == "std.echo"
    assert body["input"].startswith("who, ")
    status, body = await api.request("GET", "/v1/actions/greet?project=beta")
    assert status == 404, body
    status, body = await api.request("GET", "/v1/actions/std.echo?project=beta")
    assert status == 200 and body["base"] is None
