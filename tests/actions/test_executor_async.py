"""Async actions in the executor: a started one waits for its result through the API."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from actions.catalogue import Action, ActionCatalogue, ActionContext, NoInput, builtin_actions
from actions.executor import ExecutorLimits
from schemas.bus import Topics
from squall.api import control
from tests.actions.executor_fakes import KeptPublisher, executor, record, request

Doc = dict[str, Any]
#: A little more than the test executor's ``stale_after_s``.
PAST_STALE_S = 2.5


class CountedAsync(Action[NoInput]):
    """Starts an async job, counting the starts; ``callback`` runs before it returns."""

    name = "test.async"
    input_model = NoInput
    is_async = True

    def __init__(self) -> None:
        self.starts = 0
        self.callback: Any = None

    async def run(self, params: NoInput, ctx: ActionContext) -> Any:
        self.starts += 1
        if self.callback is not None:
            await self.callback(ctx.action_execution_id)
        return None


def api_services(db: AsyncDatabase[Doc], publisher: KeptPublisher) -> Any:
    """What ``control.complete_action`` uses of the API's services."""
    return SimpleNamespace(db=db, publisher=publisher, topics=Topics())


async def test_a_started_async_action_waits_with_its_item_and_attempt(
    db: AsyncDatabase[Doc],
) -> None:
    publisher = KeptPublisher()
    ex = executor(db, ActionCatalogue(builtin_actions()), publisher, ExecutorLimits())
    req = request("std.async_noop", item_index=2, attempt=1)
    await ex.handle(record(req))
    claim = await db["action_runs"].find_one({"_id": req.action_execution_id})
    assert claim is not None
    assert (claim["state"], claim["item_index"], claim["attempt"]) == ("WAITING", 2, 1)
    assert publisher.results() == []


@pytest.mark.parametrize("safe_rerun", [False, True])
async def test_a_redelivered_async_request_neither_reruns_nor_fails_it(
    db: AsyncDatabase[Doc], safe_rerun: bool
) -> None:
    action = CountedAsync()
    publisher = KeptPublisher()
    ex = executor(db, ActionCatalogue([action]), publisher, ExecutorLimits())
    req = request("test.async", safe_rerun=safe_rerun)
    await ex.handle(record(req))
    await asyncio.sleep(PAST_STALE_S)
    # Another executor gets the redelivery: it must not wait for a heartbeat either.
    other = executor(db, ActionCatalogue([action]), publisher, ExecutorLimits())
    await asyncio.wait_for(other.handle(record(req)), timeout=1.5)
    assert action.starts == 1
    assert publisher.results() == []
    claim = await db["action_runs"].find_one({"_id": req.action_execution_id})
    assert claim is not None and claim["state"] == "WAITING"


async def test_the_api_completes_a_waiting_action_once_with_its_item(
    db: AsyncDatabase[Doc],
) -> None:
    publisher = KeptPublisher()
    ex = executor(db, ActionCatalogue(builtin_actions()), publisher, ExecutorLimits())
    req = request("std.async_noop", item_index=1, attempt=3)
    await ex.handle(record(req))
    services = api_services(db, publisher)
    claim = await db["action_runs"].find_one({"_id": req.action_execution_id})
    done = await control.complete_action(services, claim, "SUCCESS", {"n": 1}, None)
    again = await control.complete_action(services, claim, "ERROR", None, "late")
    assert done is not None and done["state"] == "SUCCESS"
    assert again is None
    (result,) = publisher.results()
    assert (result.state, result.output, result.item_index, result.attempt) == (
        "SUCCESS",
        {"n": 1},
        1,
        3,
    )
    stored = await db["action_runs"].find_one({"_id": req.action_execution_id})
    assert stored is not None and (stored["state"], stored["output"]) == ("SUCCESS", {"n": 1})

    # A redelivered request now re-sends the recorded outcome, and runs nothing.
    await ex.handle(record(req))
    assert [r.state for r in publisher.results()] == ["SUCCESS", "SUCCESS"]


async def test_a_result_posted_before_the_start_returns_is_kept(db: AsyncDatabase[Doc]) -> None:
    action = CountedAsync()
    publisher = KeptPublisher()
    services = api_services(db, publisher)

    async def quick_callee(action_execution_id: str) -> None:
        claim = await db["action_runs"].find_one({"_id": action_execution_id})
        assert await control.complete_action(services, claim, "SUCCESS", "fast", None)

    action.callback = quick_callee
    ex = executor(db, ActionCatalogue([action]), publisher, ExecutorLimits())
    req = request("test.async")
    await ex.handle(record(req))
    stored = await db["action_runs"].find_one({"_id": req.action_execution_id})
    assert stored is not None and (stored["state"], stored["output"]) == ("SUCCESS", "fast")
    assert [r.output for r in publisher.results()] == ["fast"]
