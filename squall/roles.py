"""Process roles: ``api``, ``engine``, ``executor``, ``timer``; any subset in one process."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack, suppress
from typing import Any

from aiohttp import web

from actions.catalogue import ActionCatalogue, ActionSettings
from actions.executor import Executor, ExecutorLimits
from engine.processor import EngineProcessor
from engine.replay import run_retention
from squall.api import create_app
from squall.kafka import make_consumer, run_batches, run_concurrently
from squall.services import Services
from squall.settings import Settings, SettingsError
from triggers.kafka_sources import KafkaBridge, KafkaSource

log = logging.getLogger(__name__)

ROLES = ("api", "engine", "executor", "timer")
Ready = Callable[[Services], Awaitable[None]]


async def serve(
    settings: Settings, roles: set[str], stop: asyncio.Event, ready: Ready | None = None
) -> None:
    """Run ``roles`` until ``stop`` is set or one of them fails, then shut down cleanly."""
    unknown = roles - set(ROLES)
    if unknown:
        raise SettingsError(
            f"--role: unknown role(s) {sorted(unknown)}; choose from {', '.join(ROLES)} or all"
        )
    async with AsyncExitStack() as stack:
        services = await Services.connect(settings)
        stack.push_async_callback(services.close)
        jobs: list[Coroutine[Any, Any, None]] = [services.definitions.follow()]
        if "api" in roles:
            await _start_api(services, stack)
        # Consumers join their groups concurrently: each join waits on the broker.
        starting = []
        if "engine" in roles:
            starting.append(_engine(services, stack))
        if "executor" in roles:
            starting.append(_executor(services, stack))
        if "engine" in roles:
            # Each external topic is bridged by the engine role's processes.
            starting += [_source(services, stack, s) for s in services.settings.kafka_sources]
            jobs.append(run_retention(services.db))
        jobs += await asyncio.gather(*starting)
        if "timer" in roles:
            jobs.append(_timer(services))
        if ready is not None:
            await ready(services)
        tasks = [asyncio.create_task(job) for job in jobs]
        stopper = asyncio.create_task(stop.wait())
        try:
            done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopper and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            for task in [stopper, *tasks]:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError, Exception):
                    await task


async def _start_api(services: Services, stack: AsyncExitStack) -> None:
    runner = web.AppRunner(create_app(services), access_log=None)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, services.settings.http_host, services.settings.http_port)
    await site.start()
    log.info(
        "API listening on http://%s:%d", services.settings.http_host, services.settings.http_port
    )


async def _engine(services: Services, stack: AsyncExitStack) -> Coroutine[Any, Any, None]:
    settings, topics = services.settings, services.topics
    processor = EngineProcessor(
        services.engine_store,
        services.definitions,
        services.publisher,
        topics,
        retention=services.retention,
        large_result_bytes=settings.large_result_bytes,
        after_write=_failpoint(settings.failpoint),
        run_delays=False,
    )
    await processor.ensure_indexes()
    consumer = make_consumer(
        settings.kafka_bootstrap or "",
        f"{topics.prefix}engine",
        [topics.events, topics.commands],
        fetch_wait_ms=settings.kafka_fetch_wait_ms,
        session_timeout_ms=settings.kafka_session_timeout_ms,
    )
    await consumer.start()
    stack.push_async_callback(consumer.stop)

    async def run() -> None:
        await asyncio.gather(
            processor.poller.run(),
            run_batches(consumer, processor.handle, max_records=settings.engine_batch_max),
        )

    return run()


async def _executor(services: Services, stack: AsyncExitStack) -> Coroutine[Any, Any, None]:
    settings, topics = services.settings, services.topics
    executor = Executor(
        services.db,
        ActionCatalogue.default(),
        services.publisher,
        topics,
        action_settings(settings, topics.prefix),
        heartbeat_s=settings.action_heartbeat_s,
        stale_after_s=settings.action_stale_after_s,
        limits=ExecutorLimits(
            per_action=settings.action_limits(),
            timeouts=settings.action_timeout_by_name(),
            default_timeout_s=settings.action_timeout_s,
            large_result_bytes=settings.large_result_bytes,
        ),
    )
    consumer = make_consumer(
        settings.kafka_bootstrap or "",
        f"{topics.prefix}executor",
        [topics.actions],
        fetch_wait_ms=settings.kafka_fetch_wait_ms,
        session_timeout_ms=settings.kafka_session_timeout_ms,
    )
    await consumer.start()
    stack.push_async_callback(consumer.stop)
    return run_concurrently(consumer, executor.handle, concurrency=settings.executor_concurrency)


def action_settings(settings: Settings, topic_prefix: str) -> ActionSettings:
    """What the executor's actions may do, from the process settings.

    Warns once when std.ssh will not check host keys, since nothing else would show it.
    """
    if settings.ssh_known_hosts is None:
        log.warning(
            "SQUALL_SSH_KNOWN_HOSTS is not set: std.ssh accepts any host key, so it cannot "
            "tell a host from an impostor; set it to a known_hosts file to check them"
        )
    return ActionSettings(
        allow_private_networks=settings.allow_private_networks,
        api_url=settings.public_api_url,
        smtp_ca_file=settings.smtp_ca_file,
        ssh_key_dir=settings.ssh_key_dir,
        ssh_known_hosts=settings.ssh_known_hosts,
        openstack_cloud=settings.openstack_cloud,
        openstack_threads=settings.openstack_threads,
        kafka_bootstrap=settings.kafka_bootstrap,
        kafka_internal_prefix=topic_prefix,
    )


async def _source(
    services: Services, stack: AsyncExitStack, source: KafkaSource
) -> Coroutine[Any, Any, None]:
    settings = services.settings
    consumer = make_consumer(
        source.bootstrap or settings.kafka_bootstrap or "",
        source.consumer_group(),
        [source.topic],
        fetch_wait_ms=settings.kafka_fetch_wait_ms,
        session_timeout_ms=settings.kafka_session_timeout_ms,
    )
    await consumer.start()
    stack.push_async_callback(consumer.stop)
    bridge = KafkaBridge(source, services.publisher, services.topics)
    return run_batches(consumer, bridge.handle, max_records=settings.engine_batch_max)


def _failpoint(spec: str | None) -> Callable[[], None] | None:
    if spec is None:
        return None
    remaining = int(spec.split(":")[1])

    def count_down() -> None:
        nonlocal remaining
        remaining -= 1
        if remaining <= 0:
            log.warning("failpoint %s reached: killing this process", spec)
            os.kill(os.getpid(), signal.SIGKILL)

    return count_down


def _timer(services: Services) -> Coroutine[Any, Any, None]:
    from triggers.timers import TimerService

    service = TimerService(
        services.db,
        lambda: services.definitions.timers,
        services.publisher,
        services.topics,
        stale_claim_s=services.settings.timer_stale_claim_s,
    )
    return service.run()
