"""Mistral's /v2 workflows, workbooks and ad-hoc actions: update, delete, validate."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from squall.settings import Settings
from tests.harness import Api
from tests.squall.api.api_support import WORKFLOW
from tests.squall.api.v2_support import SHOUT, TEXT, reaches, start, v2

WORKBOOK = """\
version: '2.0'
name: ops
workflows:
  first:
    tasks:
      one:
        action: std.echo output=1
  second:
    tasks:
      two:
        action: std.noop
"""
USES_SHOUT = """
version: '2.0'
loud:
  tasks:
    say:
      action: shout word=hi
"""


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with v2(settings) as api:
        yield api


async def test_a_workflow_is_updated_validated_and_deleted(api: Api) -> None:
    changed = WORKFLOW.replace("greeting: hello", "greeting: hi")
    status, body = await api.request("PUT", "/v2/workflows", data=changed, headers=TEXT)
    assert status == 200, body
    (updated,) = body["workflows"]
    assert updated["input"] == 'name, greeting="hi"'
    assert updated["definition"] == changed
    done = await reaches(api, (await start(api, input={"name": "ops"}))["id"])
    assert json.loads(done["output"]) == {"said": "hi ops"}
    status, valid = await api.request("POST", "/v2/workflows/validate", data=changed, headers=TEXT)
    assert (status, valid) == (200, {"valid": True})
    unknown = changed.replace("greet:", "nobody:")
    status, _ = await api.request("PUT", "/v2/workflows", data=unknown, headers=TEXT)
    assert status == 404
    status, _ = await api.request("DELETE", f"/v2/workflows/{updated['id']}")
    assert status == 204
    status, _ = await api.request("GET", "/v2/workflows/greet")
    assert status == 404
    status, _ = await api.request("DELETE", "/v2/workflows/greet")
    assert status == 404
    status, _ = await api.request("POST", "/v2/executions", json={"workflow_name": "greet"})
    assert status == 404


async def test_a_workbook_is_read_listed_updated_validated_and_deleted(api: Api) -> None:
    status, created = await api.request("POST", "/v2/workbooks", data=WORKBOOK, headers=TEXT)
    assert status == 201, created
    status, got = await api.request("GET", "/v2/workbooks/ops")
    assert (status, got["name"], got["definition"]) == (200, "ops", WORKBOOK)
    _, listed = await api.request("GET", "/v2/workbooks")
    assert [w["name"] for w in listed["workbooks"]] == ["ops"]
    _, workflows = await api.request("GET", "/v2/workflows")
    assert {"first", "second"} <= {w["name"] for w in workflows["workflows"]}
    smaller = WORKBOOK.split("  second:")[0]
    status, updated = await api.request("PUT", "/v2/workbooks", data=smaller, headers=TEXT)
    assert (status, updated["definition"]) == (200, smaller)
    status, _ = await api.request("GET", "/v2/workflows/second")
    assert status == 404
    status, valid = await api.request("POST", "/v2/workbooks/validate", data=smaller, headers=TEXT)
    assert (status, valid) == (200, {"valid": True})
    status, invalid = await api.request(
        "POST", "/v2/workbooks/validate", data="version: '2.0'\nname: [x]\n", headers=TEXT
    )
    assert status == 200 and invalid["valid"] is False and invalid["error"]
    status, _ = await api.request("DELETE", "/v2/workbooks/ops")
    assert status == 204
    for path in ("/v2/workbooks/ops", "/v2/workflows/first"):
        status, _ = await api.request("GET", path)
        assert status == 404, path
    status, _ = await api.request("DELETE", "/v2/workbooks/ops")
    assert status == 404


async def test_a_deleted_ad_hoc_action_is_gone_for_the_workflows_that_used_it(api: Api) -> None:
    status, _ = await api.request("POST", "/v2/actions", data=SHOUT, headers=TEXT)
    assert status == 201
    status, _ = await api.request("POST", "/v2/workflows", data=USES_SHOUT, headers=TEXT)
    assert status == 201
    done = await reaches(api, (await start(api, "loud"))["id"])
    assert done["state"] == "SUCCESS"
    status, _ = await api.request("DELETE", "/v2/actions/shout")
    assert status == 204
    status, _ = await api.request("GET", "/v2/actions/shout")
    assert status == 404
    status, _ = await api.request(
        "POST", "/v2/action_executions", json={"name": "shout", "input": {"word": "x"}}
    )
    assert status == 404
    failed = await reaches(api, (await start(api, "loud"))["id"])
    assert failed["state"] == "ERROR"
    assert "shout" in failed["state_info"]
