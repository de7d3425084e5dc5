"""std.kafka: publish one message to a Kafka topic from a workflow."""

from __future__ import annotations

import json
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import Field

from actions.catalogue._errors import ActionFailed
from actions.catalogue._model import Action, ActionContext, ActionInput

#: Squall's own topics a workflow may not write to: a forged command or action request
#: would bypass the engine. Its events topic stays open, so rules can chain.
_INTERNAL = ("commands", "actions", "deadletters")


class KafkaInput(ActionInput):
    """Inputs of std.kafka."""

    topic: str = Field(pattern=r"^[A-Za-z0-9._-]{1,249}$")
    value: Any
    key: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    bootstrap_servers: str | None = None


class KafkaAction(Action[KafkaInput]):
    """Publish ``value`` (as JSON) to ``topic``; returns where Kafka stored it.

    The message is acknowledged by every in-sync replica before the action succeeds.
    ``bootstrap_servers`` defaults to Squall's own cluster.
    """

    name = "std.kafka"
    input_model = KafkaInput

    async def run(self, params: KafkaInput, ctx: ActionContext) -> Any:
        """Send the message and wait for Kafka's acknowledgement."""
        settings = ctx.settings
        bootstrap = params.bootstrap_servers or settings.kafka_bootstrap
        if not bootstrap:
            raise ActionFailed("std.kafka: no bootstrap_servers given and none configured")
        prefix = settings.kafka_internal_prefix
        if prefix is not None and params.topic in {prefix + name for name in _INTERNAL}:
            raise ActionFailed(f"std.kafka: topic '{params.topic}' is internal to Squall")
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            request_timeout_ms=int(settings.connect_timeout_s * 1000),
        )
        try:
            await producer.start()
            sent = await producer.send_and_wait(
                params.topic,
                json.dumps(params.value).encode(),
                key=params.key.encode() if params.key is not None else None,
                headers=[(k, v.encode()) for k, v in params.headers.items()],
            )
        except KafkaError as exc:
            raise ActionFailed(f"std.kafka: {type(exc).__name__}: {exc}") from None
        finally:
            await producer.stop()
        return {"topic": sent.topic, "partition": sent.partition, "offset": sent.offset}
