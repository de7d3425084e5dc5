"""Fixtures: a running fake OpenStack and a clouds.yaml that names it ``fake``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from actions.catalogue import ActionCatalogue, ActionContext, ActionSettings
from actions.openstack import OpenStackClients, openstack_actions
from tests.actions.openstack.fake_openstack import FakeOpenStack, serving_cloud


@pytest.fixture
async def fake_openstack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FakeOpenStack]:
    """A fake cloud, named ``fake`` in a clouds.yaml the SDK reads."""
    async with serving_cloud(tmp_path / "clouds.yaml", monkeypatch, "fake") as fake:
        yield fake


@pytest.fixture
async def other_cloud(
    fake_openstack: FakeOpenStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FakeOpenStack]:
    """A second cloud, ``other``, in the same clouds.yaml as ``fake``."""
    async with serving_cloud(
        tmp_path / "two.yaml", monkeypatch, "other", {"fake": fake_openstack}
    ) as other:
        yield other


@pytest.fixture
def os_clients() -> Iterator[OpenStackClients]:
    """Connections and threads for one test."""
    clients = OpenStackClients()
    yield clients
    clients.close()


@pytest.fixture
def os_catalogue(os_clients: OpenStackClients) -> ActionCatalogue:
    """A catalogue of the OpenStack actions only."""
    return ActionCatalogue(openstack_actions(os_clients))


@pytest.fixture
def os_ctx() -> ActionContext:
    """A run context whose default cloud is the fake."""
    return ActionContext(settings=ActionSettings(openstack_cloud="fake", openstack_threads=8))
