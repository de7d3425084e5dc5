"""Connections to OpenStack clouds and the bounded thread pool their calls run in.

openstacksdk is synchronous, so every call runs in a thread of one bounded pool.
The cloud (a ``clouds.yaml`` entry) is the one the action input names, else the one
the execution chose (its security context: ``params.openstack.cloud`` or the
environment's ``openstack_cloud``), else the executor's setting, else ``OS_CLOUD``
or the ``OS_*`` variables. A token carried by the execution replaces that cloud's
own credentials; it is only ever sent to the Keystone of a configured cloud, never
to an address taken from a message.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import openstack.config
from openstack.connection import Connection

from actions.catalogue import ActionContext, SecurityContext
from actions.openstack._errors import OpenStackActionFailed, translate

T = TypeVar("T")

#: Connections kept per executor; the least recently used one is closed first.
MAX_CONNECTIONS = 64

_Key = tuple[str | None, str | None, str | None]


class OpenStackClients:
    """Cached SDK connections and the pool their blocking calls run in."""

    def __init__(self, *, max_connections: int = MAX_CONNECTIONS) -> None:
        self._max = max_connections
        self._connections: OrderedDict[_Key, Connection] = OrderedDict()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    async def call(
        self,
        ctx: ActionContext,
        action: str,
        cloud: str | None,
        region: str | None,
        fn: Callable[[Connection], T],
    ) -> T:
        """Run ``fn`` with a connection to the chosen cloud, in the thread pool.

        ``fn`` should also turn the SDK's result into plain data: generators make
        their HTTP calls as they are drained, which must happen in the thread too.

        Args:
            ctx: the run's context (settings and the execution's security context).
            action: the action's name, for error messages.
            cloud: the ``clouds.yaml`` entry named by the action input, if any; it
                wins over the execution's choice and the executor's setting.
            region: the region named by the action input, if any.
            fn: the blocking SDK work.

        Raises:
            OpenStackActionFailed: the cloud is not configured or the call failed
                (with the HTTP status and the service's fault message).
        """
        settings = ctx.settings
        execution_cloud = ctx.security.cloud if ctx.security is not None else None
        chosen = cloud or execution_cloud or settings.openstack_cloud
        pool = self._pool_for(settings.openstack_threads)

        def work() -> T:
            try:
                return fn(self._connection(chosen, region, ctx.security))
            except OpenStackActionFailed:
                raise
            except Exception as exc:
                raise translate(action, exc) from exc

        return await asyncio.get_running_loop().run_in_executor(pool, work)

    def close(self) -> None:
        """Close every cached connection and stop the pool."""
        with self._lock:
            connections = list(self._connections.values())
            self._connections.clear()
        for connection in connections:
            connection.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _pool_for(self, size: int) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="openstack")
            return self._pool

    def _connection(
        self, cloud: str | None, region: str | None, security: SecurityContext | None
    ) -> Connection:
        token = security.auth_token if security is not None else None
        digest = hashlib.sha256(token.encode()).hexdigest() if token else None
        key: _Key = (cloud, region, digest)
        with self._lock:
            found = self._connections.get(key)
            if found is not None:
                self._connections.move_to_end(key)
                return found
        connection = _connect(cloud, region, security)
        with self._lock:
            self._connections[key] = connection
            while len(self._connections) > self._max:
                _, evicted = self._connections.popitem(last=False)
                evicted.close()
        return connection


def _connect(cloud: str | None, region: str | None, security: SecurityContext | None) -> Connection:
    configured = openstack.config.get_cloud_region(cloud=cloud, region_name=region)
    if security is None or not security.auth_token:
        return Connection(config=configured)
    auth_url = configured.config.get("auth", {}).get("auth_url")
    if not auth_url:
        raise openstack.exceptions.ConfigException(
            "a token was given but no configured cloud names the Keystone to use it with"
        )
    auth = {"auth_url": auth_url, "token": security.auth_token}
    if security.project_id:
        auth["project_id"] = security.project_id
    with_token = openstack.config.get_cloud_region(
        load_yaml_config=False,
        load_envvars=False,
        auth_type="v3token",
        auth=auth,
        region_name=region or configured.region_name,
    )
    return Connection(config=with_token)
