"""The processor with the new workflow keywords, against a real MongoDB-protocol server:
with-items results stored apart and collected, delays persisted, repeats idempotent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from engine.processor import EngineProcessor
from engine.rules import RuleSet
from engine.store import EngineStore
from schemas import ActionRequest, ActionResult, StartExecution
from schemas.bus import Outbound, Topics
from schemas.definitions import AdHocAction, Workflow, load_definitions

TEXT = """
version: '2.0'
name: proc
workflows:
  items:
    input: [n]
    tasks:
      each:
        with-items: i in <% range(0, $.n) %>
        action: std.echo output=<% $.i %>
        publish: {all: <% task().result %>}
  delayed:
    tasks:
      t:
        action: std.noop
        wait-before: 60
"""


class Defs:
    def __init__(self) -> None:
        self.workflows = load_definitions(TEXT).workflows
        self.rules = RuleSet({})

    def workflow(self, project: str, name: str) -> Workflow | None:
        return self.workflows.get(name)

    def action(self, project: str, name: str) -> AdHocAction | None:
        return None


class Sent:
    def __init__(self) -> None:
        self.messages: list[Outbound] = []

    async def publish(self, messages: Sequence[Outbound]) -> None:
        self.messages += messages


def processor(db: AsyncDatabase[dict[str, Any]]) -> tuple[EngineProcessor, Sent]:
    sent = Sent()
    engine = EngineProcessor(
        EngineStore(db), Defs(), sent, Topics("p."), retention=timedelta(days=1), run_delays=False
    )
    return engine, sent


def start(name: str, **input: Any) -> StartExecution:
    return StartExecution(
        command_id="s", execution_id=f"ex-{name}", workflow_name=name, input=input
    )


def result(request: ActionRequest) -> ActionResult:
    return ActionResult(
        command_id=f"r:{request.action_execution_id}",
        execution_id=request.execution_id,
        task_id=request.task_id,
        action_execution_id=request.action_execution_id,
        item_index=request.item_index,
        state="SUCCESS",
        output=request.input["output"],
    )


async def test_item_results_are_stored_apart_and_assembled_in_order(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    engine, _ = processor(db)
    out = await engine.apply([start("items", n=5)])
    requests = [ActionRequest.model_validate_json(m.value) for m in out if m.topic == "p.actions"]
    assert len(requests) == 5
    for request in reversed(requests):  # one batch per result, out of order
        await engine.apply([result(request)])
    assert await db["item_results"].count_documents({}) == 5
    doc = await db["executions"].find_one({"_id": "ex-items"})
    assert doc is not None
    assert doc["state"] == "SUCCESS"
    assert doc["output"] == {"all": [0, 1, 2, 3, 4]}


async def test_a_repeated_result_republishes_the_outbox_and_changes_nothing(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    engine, _ = processor(db)
    out = await engine.apply([start("items", n=2)])
    first = ActionRequest.model_validate_json(next(m for m in out if m.topic == "p.actions").value)
    await engine.apply([result(first)])
    before = await db["executions"].find_one({"_id": "ex-items"})
    again = await engine.apply([result(first)])
    after = await db["executions"].find_one({"_id": "ex-items"})
    assert before is not None and after is not None
    assert after["version"] == before["version"]
    assert [m.value.decode() for m in again] == [m["value"] for m in before["outbox"]]


async def test_a_wait_before_is_persisted_with_its_due_time(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    engine, _ = processor(db)
    await engine.apply([start("delayed")])
    (delay,) = [d async for d in db["delays"].find({})]
    assert delay["kind"] == "wait_before" and delay["execution_id"] == "ex-delayed"
    await engine.apply([start("delayed")])  # a redelivery stores nothing new
    assert await db["delays"].count_documents({}) == 1
