"""Mistral's /v2 resources, as python-mistralclient sees them (authentication off)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from squall.settings import Settings
from tests.harness import Api, wait_for
from tests.squall.api.api_support import WORKFLOW, squall

TEXT = {"Content-Type": "text/plain"}
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


@pytest.fixture
async def api(settings: Settings) -> Any:
    async with squall(settings) as api:
        status, _ = await api.request("POST", "/v2/workflows", data=WORKFLOW, headers=TEXT)
        assert status == 201
        yield api


async def start(api: Api, name: str = "x", **extra: Any) -> dict[str, Any]:
    status, body = await api.request(
        "POST", "/v2/executions", json={"workflow_name": "greet", "input": {"name": name}, **extra}
    )
    assert status == 201, body
    return dict(body)


async def test_a_workflow_is_shown_with_mistrals_fields(api: Api) -> None:
    status, body = await api.request("GET", "/v2/workflows/greet")
    assert status == 200
    assert body["definition"] == WORKFLOW
    assert body["input"] == 'name, greeting="hello"'
    assert body["interface"]["input"] == ["name", {"greeting": "hello"}]
    assert STAMP.match(body["created_at"])
    status, again = await api.request("GET", f"/v2/workflows/{body['id']}")
    assert again["name"] == "greet"


async def test_a_duplicate_workflow_is_a_conflict_in_mistrals_error_shape(api: Api) -> None:
    status, body = await api.request("POST", "/v2/workflows", data=WORKFLOW, headers=TEXT)
    assert status == 409
    assert set(body) == {"faultcode", "faultstring", "debuginfo"}
    assert body["faultcode"] == "Client" and "Duplicate entry" in body["faultstring"]


async def test_an_invalid_workflow_is_refused_and_validate_says_why(api: Api) -> None:
    broken = "version: '2.0'\nbad:\n  tasks:\n    t:\n      actionx: std.noop\n"
    status, body = await api.request("POST", "/v2/workflows", data=broken, headers=TEXT)
    assert status == 400 and body["faultstring"].startswith("Invalid DSL")
    assert "Traceback" not in body["faultstring"]
    status, body = await api.request("POST", "/v2/workflows/validate", data=broken, headers=TEXT)
    assert status == 200 and body["valid"] is False


async def test_an_execution_is_created_read_and_encoded_as_mistral_does(api: Api) -> None:
    created = await start(api, "ops")
    assert created["state"] in ("RUNNING", "SUCCESS")
    assert json.loads(created["input"])["name"] == "ops"

    async def done() -> Any:
        _, body = await api.request("GET", f"/v2/executions/{created['id']}")
        return body if body["state"] == "SUCCESS" else None

    shown = await wait_for(done)
    assert json.loads(shown["output"]) == {"said": "hello ops"}
    assert json.loads(shown["params"]) == {"namespace": "", "env": {}}
    assert STAMP.match(shown["updated_at"])
    _, tasks = await api.request("GET", f"/v2/executions/{created['id']}/tasks")
    (task,) = tasks["tasks"]
    assert "result" not in task
    _, full = await api.request("GET", f"/v2/tasks/{task['id']}")
    assert json.loads(full["result"]) == "hello ops"
    assert json.loads(full["published"]) == {"said": "hello ops"}


async def test_missing_or_unexpected_input_is_refused_as_mistral_does(api: Api) -> None:
    status, body = await api.request(
        "POST", "/v2/executions", json={"workflow_name": "greet", "input": {"zzz": 1}}
    )
    assert status == 400
    assert body["faultstring"] == (
        "Invalid input [name=greet, class=DirectWorkflowSpec, missing=['name'], unexpected=['zzz']]"
    )


async def test_a_client_chosen_id_makes_creation_idempotent(api: Api) -> None:
    first = await start(api, id="0b1c6c54-2f0e-4c59-8d5f-1f4d1c7f6f01")
    second = await start(api, id="0b1c6c54-2f0e-4c59-8d5f-1f4d1c7f6f01")
    assert first["id"] == second["id"] == "0b1c6c54-2f0e-4c59-8d5f-1f4d1c7f6f01"
    _, listed = await api.request("GET", "/v2/executions")
    assert len(listed["executions"]) == 1


async def test_executions_page_with_marker_and_limit_and_filter_by_state(api: Api) -> None:
    ids = {(await start(api, str(i)))["id"] for i in range(3)}
    _, first = await api.request("GET", "/v2/executions?limit=2&sort_keys=created_at")
    assert len(first["executions"]) == 2 and "next" in first
    marker = first["executions"][-1]["id"]
    _, rest = await api.request("GET", f"/v2/executions?limit=2&marker={marker}")
    seen = {e["id"] for e in first["executions"] + rest["executions"]}
    assert seen == ids
    _, none = await api.request("GET", "/v2/executions?state=PAUSED")
    assert none["executions"] == []
    status, _ = await api.request("GET", "/v2/executions?bogus=1")
    assert status == 400


async def test_environments_are_created_listed_and_deleted(api: Api) -> None:
    body = {"name": "prod", "variables": json.dumps({"region": "eu"})}
    status, created = await api.request("POST", "/v2/environments", json=body)
    assert status == 201 and json.loads(created["variables"]) == {"region": "eu"}
    status, _ = await api.request("POST", "/v2/environments", json=body)
    assert status == 409
    _, listed = await api.request("GET", "/v2/environments")
    assert [e["name"] for e in listed["environments"]] == ["prod"]
    status, _ = await api.request("DELETE", "/v2/environments/prod")
    assert status == 204
    status, _ = await api.request("GET", "/v2/environments/prod")
    assert status == 404


async def test_cron_and_event_triggers_become_timers_and_rules(api: Api) -> None:
    status, cron = await api.request(
        "POST",
        "/v2/cron_triggers",
        json={
            "name": "nightly",
            "workflow_name": "greet",
            "pattern": "0 2 * * *",
            "workflow_input": '{"name": "n"}',
        },
    )
    assert status == 201, cron
    assert cron["next_execution_time"].endswith("02:00:00")
    _, timers = await api.request("GET", "/v2/cron_triggers")
    assert [t["name"] for t in timers["cron_triggers"]] == ["nightly"]
    status, event = await api.request(
        "POST",
        "/v2/event_triggers",
        json={
            "name": "on_create",
            "workflow_id": cron["workflow_id"],
            "exchange": "nova",
            "topic": "notifications",
            "event": "compute.instance.create.end",
            "workflow_input": {"name": "e"},
        },
    )
    assert status == 201, event
    _, got = await api.request("GET", f"/v2/event_triggers/{event['id']}")
    assert got["event"] == "compute.instance.create.end"


async def test_actions_list_the_catalogue_with_input_signatures(api: Api) -> None:
    _, body = await api.request("GET", "/v2/actions")
    by_name = {a["name"]: a for a in body["actions"]}
    assert by_name["std.echo"]["input"].startswith("output")
    status, one = await api.request("GET", "/v2/actions/std.http")
    assert status == 200 and "url" in one["input"]


ADHOC = """
version: '2.0'
greet:
  base: std.echo
  base-input:
    output: "hello <% $.name %>"
  input: [name]
"""

USES_ADHOC = """
version: '2.0'
say_hello:
  tasks:
    hello:
      action: greet name="ops"
      publish:
        said: <% task().result %>
"""


async def test_an_ad_hoc_action_created_through_v2_runs_in_a_workflow(api: Api) -> None:
    status, body = await api.request("POST", "/v2/actions", data=ADHOC, headers=TEXT)
    assert status == 201, body
    assert body["actions"][0]["input"] == "name"
    status, listed = await api.request("GET", "/v2/actions")
    assert "greet" in {a["name"] for a in listed["actions"]}
    status, _ = await api.request("POST", "/v2/workflows", data=USES_ADHOC, headers=TEXT)
    assert status == 201
    status, started = await api.request(
        "POST", "/v2/executions", json={"workflow_name": "say_hello"}
    )
    assert status == 201, started

    async def finished() -> Any:
        _, doc = await api.request("GET", f"/v2/executions/{started['id']}")
        return doc if doc["state"] in ("SUCCESS", "ERROR") else None

    done = await wait_for(finished, 30)
    assert done["state"] == "SUCCESS", done["state_info"]
    assert json.loads(done["output"]) == {"said": "hello ops"}
    status, _ = await api.request("POST", "/v2/actions", data=ADHOC, headers=TEXT)
    assert status == 409


async def test_unknown_ids_are_404_in_mistrals_words(api: Api) -> None:
    status, body = await api.request("GET", "/v2/executions/does-not-exist")
    assert status == 404
    assert body["faultstring"] == "WorkflowExecution not found [id=does-not-exist]"
    status, body = await api.request("GET", "/v2/tasks/does-not-exist")
    assert body["faultstring"] == "Task execution not found [id=does-not-exist]"


NESTED = """
version: '2.0'
child:
  tasks:
    work:
      action: std.echo output="child done"
parent:
  tasks:
    first:
      action: std.noop
      on-success: [nested]
    nested:
      workflow: child
"""


async def test_report_and_sub_executions_show_the_tree(api: Api) -> None:
    status, _ = await api.request("POST", "/v2/workflows", data=NESTED, headers=TEXT)
    assert status == 201
    status, started = await api.request("POST", "/v2/executions", json={"workflow_name": "parent"})
    assert status == 201, started

    async def finished() -> Any:
        _, doc = await api.request("GET", f"/v2/executions/{started['id']}")
        return doc if doc["state"] in ("SUCCESS", "ERROR") else None

    done = await wait_for(finished, 30)
    assert done["state"] == "SUCCESS", done["state_info"]
    status, subs = await api.request("GET", f"/v2/executions/{started['id']}/executions")
    assert status == 200
    assert [e["workflow_name"] for e in subs["executions"]] == ["child"]
    assert subs["executions"][0]["root_execution_id"] == started["id"]

    status, report = await api.request("GET", f"/v2/executions/{started['id']}/report")
    assert status == 200
    root = report["root_workflow_execution"]
    assert [t["name"] for t in root["task_executions"]] == ["first", "nested"]
    (child,) = root["task_executions"][1]["workflow_executions"]
    assert child["name"] == "child"
    assert child["task_executions"][0]["action_executions"][0]["name"] == "std.echo"
    assert report["statistics"]["total_tasks_count"] == 3
    assert report["statistics"]["success_tasks_count"] == 3

    status, shallow = await api.request("GET", f"/v2/executions/{started['id']}/report?max_depth=0")
    assert shallow["root_workflow_execution"]["task_executions"][1]["workflow_executions"] == []
    status, error = await api.request(
        "GET", f"/v2/executions/{started['id']}/report?max_depth=deep"
    )
    assert status == 400
    assert "max_depth" in error["faultstring"]


async def test_a_state_change_mistral_refuses_is_a_400_and_a_repeated_pause_a_no_op(
    api: Api,
) -> None:
    napper = "version: '2.0'\nnapper:\n  tasks:\n    nap:\n      action: std.sleep seconds=30\n"
    status, _ = await api.request("POST", "/v2/workflows", data=napper, headers=TEXT)
    assert status == 201
    status, created = await api.request("POST", "/v2/executions", json={"workflow_name": "napper"})
    assert status == 201, created
    url = f"/v2/executions/{created['id']}"
    status, paused = await api.request("PUT", url, json={"state": "PAUSED"})
    assert (status, paused["state"]) == (200, "PAUSED")
    status, again = await api.request("PUT", url, json={"state": "PAUSED"})
    assert (status, again["state"]) == (200, "PAUSED")
    status, refused = await api.request("PUT", url, json={"state": "SUCCESS"})
    assert status == 400
    assert refused["faultstring"].startswith(
        "Can't change workflow execution state from PAUSED to SUCCESS."
    )
    _, shown = await api.request("GET", url)
    assert shown["state"] == "PAUSED"
