"""Workflow keywords through the real stack: control, rerun, with-items, sub-workflows,
reverse workflows and timeouts (Kafka, MongoDB, engine, executor)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from schemas import ControlExecution, RerunTask
from schemas.bus import Topics
from squall.settings import Settings
from tests.harness import Api, running, wait_for

DEFINITIONS = """
version: '2.0'
name: keywords
workflows:
  slow_chain:
    tasks:
      nap:
        action: std.sleep seconds=1
        on-success: [after]
      after:
        action: std.echo output=done
        publish: {out: <% task().result %>}
  long_nap:
    tasks:
      nap:
        action: std.sleep seconds=30
  fails_until_env:
    tasks:
      check:
        action: std.echo
        input: {output: <% env().ok %>}
        fail-on: <% task().result != true %>
  items:
    input: [n, c]
    tasks:
      each:
        with-items: i in <% range(0, $.n) %>
        concurrency: <% $.c %>
        action: std.echo output=<% $.i * 10 %>
        publish: {all: <% task().result %>}
  parent:
    tasks:
      call:
        workflow: child
        input: {x: 21}
        publish: {got: <% task().result %>}
  child:
    input: [x]
    output: {y: <% $.x * 2 %>}
    tasks:
      one:
        action: std.noop
  nested_sleep:
    tasks:
      call:
        workflow: long_nap
  build:
    type: reverse
    tasks:
      fetch:
        action: std.echo output=src
        publish: {src: <% task().result %>}
      compile:
        requires: [fetch]
        action: std.echo output=<% $.src %>
        publish: {bin: <% task().result %>}
      unrelated:
        action: std.fail
  timed:
    tasks:
      nap:
        action: std.sleep seconds=20
        timeout: 1
"""


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with running(settings, {"api", "engine", "executor"}) as api:
        await api.apply(DEFINITIONS)
        yield api


async def start(api: Api, name: str, input: dict[str, Any] | None = None, **params: Any) -> str:
    status, body = await api.request(
        "POST",
        "/v1/executions",
        json={"workflow_name": name, "input": input or {}, "params": params},
    )
    assert status == 201, body
    return str(body["id"])


async def send(settings: Settings, command: ControlExecution | RerunTask) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        topic = Topics(settings.topic_prefix).commands
        await producer.send_and_wait(
            topic, command.model_dump_json().encode(), key=command.execution_id.encode()
        )
    finally:
        await producer.stop()


def control(execution_id: str, action: str, **extra: Any) -> ControlExecution:
    return ControlExecution(
        command_id=str(uuid.uuid4()),
        execution_id=execution_id,
        action=action,
        **extra,
    )


async def in_state(api: Api, execution_id: str, state: str) -> Any:
    async def check() -> Any:
        body = await api.execution(execution_id)
        return body if body and body["state"] == state else None

    return await wait_for(check, 30)


async def test_pause_holds_the_next_task_until_resume(api: Api, settings: Settings) -> None:
    execution_id = await start(api, "slow_chain")
    await in_state(api, execution_id, "RUNNING")
    await send(settings, control(execution_id, "pause"))
    paused = await in_state(api, execution_id, "PAUSED")
    assert [t["name"] for t in paused["tasks"]] == ["nap"]

    async def nap_done() -> Any:
        body = await api.execution(execution_id)
        return body["tasks"][0]["state"] == "SUCCESS"

    await wait_for(nap_done, 20)
    body = await api.execution(execution_id)
    assert body["state"] == "PAUSED" and len(body["tasks"]) == 1

    await send(settings, control(execution_id, "resume"))
    done = await api.finished(execution_id)
    assert done["state"] == "SUCCESS"
    assert done["output"] == {"out": "done"}


async def test_cancel_cascades_to_the_sub_workflow(api: Api, settings: Settings) -> None:
    execution_id = await start(api, "nested_sleep")
    running_parent = await in_state(api, execution_id, "RUNNING")
    assert running_parent["tasks"][0]["type"] == "WORKFLOW"
    await send(settings, control(execution_id, "cancel", message="enough"))
    done = await api.finished(execution_id)
    assert (done["state"], done["state_info"]) == ("CANCELLED", "enough")
    child_id = done["tasks"][0]["id"]
    assert done["tasks"][0]["state"] == "CANCELLED"
    assert child_id


async def test_rerun_after_fixing_the_environment_succeeds(api: Api, settings: Settings) -> None:
    execution_id = await start(api, "fails_until_env", env={"ok": False})
    failed = await api.finished(execution_id)
    assert failed["state"] == "ERROR"
    task_id = failed["tasks"][0]["id"]
    await send(
        settings,
        RerunTask(command_id="r1", execution_id=execution_id, task_id=task_id, env={"ok": True}),
    )
    done = await in_state(api, execution_id, "SUCCESS")
    assert done["tasks"][0]["state"] == "SUCCESS"
    states = [h["state"] for h in done["history"] if h["task"] is None]
    assert states == ["RUNNING", "ERROR", "RUNNING", "SUCCESS"]


async def test_with_items_with_concurrency_keeps_item_order(api: Api) -> None:
    execution_id = await start(api, "items", {"n": 12, "c": 3})
    done = await api.finished(execution_id)
    assert done["state"] == "SUCCESS", done["state_info"]
    assert done["output"] == {"all": [i * 10 for i in range(12)]}


async def test_a_sub_workflow_output_is_the_task_result(api: Api) -> None:
    execution_id = await start(api, "parent")
    done = await api.finished(execution_id)
    assert done["state"] == "SUCCESS", done["state_info"]
    assert done["output"] == {"got": {"y": 42}}


async def test_a_reverse_workflow_runs_up_to_its_target(api: Api) -> None:
    execution_id = await start(api, "build", task_name="compile")
    done = await api.finished(execution_id)
    assert done["state"] == "SUCCESS", done["state_info"]
    assert [t["name"] for t in done["tasks"]] == ["fetch", "compile"]
    assert done["output"]["bin"] == "src"


async def test_a_timeout_fails_the_task(api: Api) -> None:
    execution_id = await start(api, "timed")
    done = await api.finished(execution_id, timeout=15)
    assert done["state"] == "ERROR"
    assert done["tasks"][0]["state_info"] == "Task timed out [timeout(s)=1]."
