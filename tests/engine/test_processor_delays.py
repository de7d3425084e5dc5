"""The delay poller: claims due delays once, publishes DelayFired, forgets them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from engine.delays import DelayPoller, DelayStore
from engine.workflow import Delay
from schemas.base import utcnow
from schemas.bus import Outbound, Topics
from schemas.commands import decode_command


class Sent:
    def __init__(self) -> None:
        self.messages: list[Outbound] = []

    async def publish(self, messages: Sequence[Outbound]) -> None:
        self.messages += messages


async def test_due_delays_fire_once_across_two_pollers(db: AsyncDatabase[dict[str, Any]]) -> None:
    store = DelayStore(db)
    now = utcnow()
    await store.save(
        [
            Delay("d1", "ex", "t1", "retry", now - timedelta(seconds=1)),
            Delay("d2", "ex", "t2", "timeout", now + timedelta(hours=1)),
        ]
    )
    first, second = Sent(), Sent()
    pollers = [DelayPoller(store, s, Topics("p.")) for s in (first, second)]
    assert await pollers[0].fire_due(now) == 1
    assert await pollers[1].fire_due(now) == 0
    (message,) = first.messages
    command = decode_command(message.value)
    assert (message.topic, message.key) == ("p.commands", "ex")
    assert command.kind == "delay_fired" and command.delay_id == "d1"
    assert await store.next_due() is not None
    assert await db["delays"].count_documents({}) == 1
