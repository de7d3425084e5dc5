"""Mistral's /v2/event_triggers (Squall rules over Kafka events) and environments."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from schemas import CloudEvent
from schemas.bus import Topics
from squall.settings import Settings
from tests.harness import Api, wait_for
from tests.squall.api.v2_support import params_of, reaches, start, v2

ENV_WORKFLOW = """
version: '2.0'
where:
  tasks:
    say:
      action: std.echo output=<% env().region %>
      publish:
        region: <% task().result %>
"""
TRIGGER = {
    "name": "on_create",
    "workflow_name": "greet",
    "exchange": "nova",
    "topic": "notifications",
    "event": "compute.instance.create.end",
    "workflow_input": {"name": "from nova"},
}


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with v2(settings, ENV_WORKFLOW) as api:
        yield api


async def create_trigger(api: Api, **changes: Any) -> dict[str, Any]:
    status, created = await api.request("POST", "/v2/event_triggers", json=TRIGGER | changes)
    assert status == 201, created
    return dict(created)


async def test_event_triggers_are_listed_updated_and_deleted(api: Api) -> None:
    created = await create_trigger(api)
    await create_trigger(api, name="on_delete", event="compute.instance.delete.end")
    _, listed = await api.request("GET", "/v2/event_triggers")
    assert [t["name"] for t in listed["event_triggers"]] == ["on_create", "on_delete"]
    url = f"/v2/event_triggers/{created['id']}"
    status, updated = await api.request("PUT", url, json={"workflow_input": {"name": "changed"}})
    assert status == 200, updated
    assert json.loads(updated["workflow_input"]) == {"name": "changed"}
    assert updated["event"] == "compute.instance.create.end"
    assert updated["workflow_id"] == created["workflow_id"]
    status, refused = await api.request("PUT", url, json={"event": "other"})
    assert status == 400
    assert refused["faultstring"] == (
        "Can not update fields ['exchange', 'topic', 'event'] of event trigger."
    )
    status, _ = await api.request("DELETE", url)
    assert status == 204
    status, _ = await api.request("GET", url)
    assert status == 404
    status, _ = await api.request("DELETE", url)
    assert status == 404
    _, listed = await api.request("GET", "/v2/event_triggers")
    assert [t["name"] for t in listed["event_triggers"]] == ["on_delete"]


async def test_a_kafka_event_matching_an_event_trigger_starts_its_workflow(
    api: Api, settings: Settings
) -> None:
    created = await create_trigger(api)
    await api.request(
        "PUT", f"/v2/event_triggers/{created['id']}", json={"workflow_input": {"name": "nova"}}
    )
    unrelated = CloudEvent(source="nova", type="compute.instance.delete.end", data={})
    matching = CloudEvent(source="nova", type="compute.instance.create.end", data={})
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for event in (unrelated, matching):
            await producer.send_and_wait(
                Topics(settings.topic_prefix).events, event.to_bytes(), key=event.id.encode()
            )
    finally:
        await producer.stop()
    (execution_id,) = await api.caused(matching.id)
    done = await reaches(api, execution_id)
    assert done["state"] == "SUCCESS"
    assert json.loads(done["output"]) == {"said": "hello nova"}

    async def listed() -> Any:
        _, body = await api.request("GET", "/v2/executions?workflow_name=greet")
        return body["executions"]

    assert [e["id"] for e in await wait_for(listed)] == [execution_id]


async def test_an_environment_is_replaced_and_used_by_name_at_execution_start(api: Api) -> None:
    body = {"name": "prod", "variables": {"region": "eu"}, "description": "first"}
    status, _ = await api.request("POST", "/v2/environments", json=body)
    assert status == 201
    status, updated = await api.request(
        "PUT", "/v2/environments", json={"name": "prod", "variables": {"region": "us"}}
    )
    assert status == 200
    assert json.loads(updated["variables"]) == {"region": "us"}
    assert updated["description"] == "first"
    status, _ = await api.request("PUT", "/v2/environments", json={"name": "nowhere"})
    assert status == 404
    created = await start(api, "where", params={"env": "prod"})
    assert params_of(created)["env"] == {"region": "us"}
    done = await reaches(api, created["id"])
    assert json.loads(done["output"]) == {"region": "us"}
    status, missing = await api.request(
        "POST", "/v2/executions", json={"workflow_name": "where", "params": {"env": "staging"}}
    )
    assert status == 404 and "staging" in missing["faultstring"]
