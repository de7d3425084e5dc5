"""Helpers for executor tests: requests as Kafka records, and a publisher that keeps them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from actions.catalogue import ActionCatalogue, ActionSettings
from actions.executor import Executor, ExecutorLimits
from schemas import ActionRequest, ActionResult
from schemas.bus import Outbound, Topics


@dataclass(frozen=True)
class Record:
    """An inbound Kafka record as the executor reads it."""

    value: bytes | None
    topic: str = "squall.actions"
    partition: int = 0
    offset: int = 0
    key: bytes | None = None


@dataclass
class KeptPublisher:
    """A publisher that keeps what it is given."""

    sent: list[Outbound] = field(default_factory=list)

    async def publish(self, messages: list[Outbound]) -> None:
        """Keep ``messages``."""
        self.sent.extend(messages)

    def results(self) -> list[ActionResult]:
        """The action results sent so far."""
        return [ActionResult.model_validate_json(m.value) for m in self.sent]


def request(action: str, input: dict[str, Any] | None = None, **extra: Any) -> ActionRequest:
    """A request for one run of ``action``."""
    return ActionRequest(
        action_execution_id=str(uuid.uuid4()),
        execution_id=str(uuid.uuid4()),
        task_id=str(uuid.uuid4()),
        task_name="t",
        workflow_name="wf",
        action=action,
        input=input or {},
        **extra,
    )


def record(req: ActionRequest) -> Record:
    """``req`` as the record the executor consumes."""
    return Record(value=req.model_dump_json().encode())


def executor(
    db: Any, catalogue: ActionCatalogue, publisher: KeptPublisher, limits: ExecutorLimits
) -> Executor:
    """An executor with quick heartbeats."""
    return Executor(
        db,
        catalogue,
        publisher,
        Topics(),
        ActionSettings(allow_private_networks=True),
        heartbeat_s=0.2,
        stale_after_s=2.0,
        limits=limits,
    )
