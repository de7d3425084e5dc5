"""Executor limits: per-action concurrency, timeouts, large results by reference."""

from __future__ import annotations

import asyncio
from typing import Any

from actions.catalogue import Action, ActionCatalogue, ActionContext, ActionInput, builtin_actions
from actions.executor import ExecutorLimits
from tests.actions.executor_fakes import KeptPublisher, executor, record, request


class BlockInput(ActionInput):
    """How long to hold a slot."""

    seconds: float = 0.2


class TrackedAction(Action[BlockInput]):
    """Sleeps, counting how many runs overlap."""

    name = "test.tracked"
    input_model = BlockInput

    def __init__(self) -> None:
        self.running = 0
        self.most = 0

    async def run(self, params: BlockInput, ctx: ActionContext) -> Any:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(params.seconds)
        finally:
            self.running -= 1
        return None


class BigInput(ActionInput):
    """Size of the output."""

    size: int


class BigAction(Action[BigInput]):
    """Returns a list of ``size`` strings."""

    name = "test.big"
    input_model = BigInput

    async def run(self, params: BigInput, ctx: ActionContext) -> Any:
        return ["x" * 100 for _ in range(params.size // 100)]


def catalogue(*extra: Action[Any]) -> ActionCatalogue:
    return ActionCatalogue([*builtin_actions(), *extra])


async def test_an_action_limit_bounds_its_concurrent_runs(db: Any) -> None:
    tracked = TrackedAction()
    publisher = KeptPublisher()
    ex = executor(db, catalogue(tracked), publisher, ExecutorLimits(per_action={"test.tracked": 2}))
    await asyncio.gather(*(ex.handle(record(request("test.tracked"))) for _ in range(6)))
    assert tracked.most == 2
    assert [r.state for r in publisher.results()] == ["SUCCESS"] * 6


async def test_other_actions_are_not_held_by_a_limited_one(db: Any) -> None:
    tracked = TrackedAction()
    publisher = KeptPublisher()
    ex = executor(db, catalogue(tracked), publisher, ExecutorLimits(per_action={"test.tracked": 1}))
    slow = [ex.handle(record(request("test.tracked", {"seconds": 1.0}))) for _ in range(3)]
    background = asyncio.gather(*slow)
    await asyncio.wait_for(ex.handle(record(request("std.noop"))), timeout=0.9)
    assert publisher.results()[0].state == "SUCCESS"
    await background


async def test_the_default_timeout_applies_when_the_task_sets_none(db: Any) -> None:
    publisher = KeptPublisher()
    ex = executor(db, catalogue(), publisher, ExecutorLimits(default_timeout_s=0.2))
    await ex.handle(record(request("std.sleep", {"seconds": 5})))
    await ex.handle(record(request("std.sleep", {"seconds": 0.4}, timeout_s=2.0)))
    first, second = publisher.results()
    assert first.state == "ERROR" and "timed out after 0.2 s" in (first.error or "")
    assert second.state == "SUCCESS"


async def test_a_named_timeout_applies_when_the_task_sets_none(db: Any) -> None:
    publisher = KeptPublisher()
    limits = ExecutorLimits(timeouts={"std.sleep": 0.2}, default_timeout_s=30)
    ex = executor(db, catalogue(), publisher, limits)
    await ex.handle(record(request("std.sleep", {"seconds": 5})))
    await ex.handle(record(request("std.sleep", {"seconds": 0.4}, timeout_s=2.0)))
    first, second = publisher.results()
    assert first.state == "ERROR" and "timed out after 0.2 s" in (first.error or "")
    assert second.state == "SUCCESS"


async def test_a_timed_out_action_frees_its_slot_at_once(db: Any) -> None:
    publisher = KeptPublisher()
    ex = executor(db, catalogue(), publisher, ExecutorLimits(per_action={"std.sleep": 1}))
    stuck = request("std.sleep", {"seconds": 30}, timeout_s=0.3)
    queued = request("std.sleep", {"seconds": 0.1})
    # Without the request's timeout the queued run would wait 30 s for the slot.
    await asyncio.wait_for(
        asyncio.gather(ex.handle(record(stuck)), ex.handle(record(queued))), timeout=5
    )
    by_id = {r.action_execution_id: r for r in publisher.results()}
    assert by_id[stuck.action_execution_id].state == "ERROR"
    assert by_id[queued.action_execution_id].state == "SUCCESS"


async def test_a_large_output_is_stored_apart_and_sent_by_reference(db: Any) -> None:
    publisher = KeptPublisher()
    ex = executor(db, catalogue(BigAction()), publisher, ExecutorLimits(large_result_bytes=1024))
    big = request("test.big", {"size": 10_000})
    await ex.handle(record(big))
    small = request("test.big", {"size": 500})
    await ex.handle(record(small))
    sent_big, sent_small = publisher.results()
    assert (sent_big.output, sent_big.output_ref) == (None, big.action_execution_id)
    stored = await db["results"].find_one({"_id": big.action_execution_id})
    assert len(stored["value"]) == 100 and stored["value"][0] == "x" * 100
    assert sent_small.output_ref is None and len(sent_small.output) == 5
    assert len(publisher.sent[0].value) < 2_000


async def test_a_redelivered_large_result_is_resent_by_reference(db: Any) -> None:
    publisher = KeptPublisher()
    ex = executor(db, catalogue(BigAction()), publisher, ExecutorLimits(large_result_bytes=1024))
    big = request("test.big", {"size": 10_000})
    await ex.handle(record(big))
    await ex.handle(record(big))
    first, again = publisher.results()
    assert again.output_ref == first.output_ref == big.action_execution_id
    assert again.command_id == first.command_id
    assert await db["results"].count_documents({}) == 1


async def test_secrets_in_the_input_are_masked_in_action_runs(db: Any) -> None:
    publisher = KeptPublisher()
    ex = executor(db, catalogue(), publisher, ExecutorLimits())
    req = request("std.echo", {"output": "hi", "password": "hunter2-secret"})
    await ex.handle(record(req))
    run = await db["action_runs"].find_one({"_id": req.action_execution_id})
    assert "hunter2-secret" not in repr(run)
