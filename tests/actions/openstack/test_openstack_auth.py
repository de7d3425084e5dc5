"""Where OpenStack actions take their credentials from, and what a bad one says."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from actions.catalogue import (
    ActionCatalogue,
    ActionContext,
    ActionSettings,
    SecurityContext,
)
from tests.actions.openstack.fake_openstack import (
    PASSWORD,
    PROJECT_ID,
    USERNAME,
    FakeOpenStack,
)


async def test_the_input_names_the_cloud(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue
) -> None:
    fake_openstack.state.add_image("cirros")
    outcome = await os_catalogue.run("glance.images_list", {"cloud": "fake"}, ActionContext())
    assert outcome.state == "SUCCESS", outcome.error
    assert [i["name"] for i in outcome.output] == ["cirros"]


async def test_os_variables_are_used_when_no_cloud_is_named(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OS_CLIENT_CONFIG_FILE")
    for name, value in {
        "OS_AUTH_URL": fake_openstack.auth_url,
        "OS_USERNAME": USERNAME,
        "OS_PASSWORD": PASSWORD,
        "OS_PROJECT_ID": PROJECT_ID,
        "OS_USER_DOMAIN_ID": "default",
        "OS_IDENTITY_API_VERSION": "3",
    }.items():
        monkeypatch.setenv(name, value)
    fake_openstack.state.add_volume("v1")
    outcome = await os_catalogue.run("cinder.volumes_list", {}, ActionContext())
    assert outcome.state == "SUCCESS", outcome.error
    assert [v["name"] for v in outcome.output] == ["v1"]


async def test_a_token_from_the_execution_is_used_against_the_configured_keystone(
    fake_openstack: FakeOpenStack,
    os_catalogue: ActionCatalogue,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = fake_openstack.add_token()
    ctx = ActionContext(
        settings=ActionSettings(openstack_cloud="fake"),
        security=SecurityContext(auth_token=token, project_id=PROJECT_ID),
    )
    outcome = await os_catalogue.run("nova.servers_list", {}, ctx)
    assert outcome.state == "SUCCESS", outcome.error
    assert ("POST", "/identity/v3/auth/tokens") in fake_openstack.state.requests
    # The SDK and keystoneauth log requests at DEBUG: the token must not be in them.
    assert any("identity/v3/auth/tokens" in r.getMessage() for r in caplog.records)
    assert token not in caplog.text
    assert token not in repr(ctx) and token not in repr(outcome)


async def test_an_unknown_token_is_refused_specifically(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue
) -> None:
    ctx = ActionContext(
        settings=ActionSettings(openstack_cloud="fake"),
        security=SecurityContext(auth_token="expired-token", project_id=PROJECT_ID),
    )
    outcome = await os_catalogue.run("nova.servers_list", {}, ctx)
    assert outcome.state == "ERROR"
    assert "HTTP 404" in (outcome.error or "") and "expired-token" not in (outcome.error or "")


async def test_a_wrong_password_is_a_401(
    fake_openstack: FakeOpenStack,
    os_catalogue: ActionCatalogue,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = fake_openstack.write_clouds_yaml(tmp_path / "bad.yaml")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    path.write_text(path.read_text().replace(PASSWORD, "wrong-password"))
    outcome = await os_catalogue.run("nova.servers_list", {"cloud": "fake"}, ActionContext())
    assert outcome.state == "ERROR"
    assert "HTTP 401" in (outcome.error or "")
    assert "wrong-password" not in (outcome.error or "")


async def test_an_unknown_cloud_says_how_to_configure_one(
    fake_openstack: FakeOpenStack, os_catalogue: ActionCatalogue
) -> None:
    outcome = await os_catalogue.run("nova.servers_list", {"cloud": "elsewhere"}, ActionContext())
    assert outcome.state == "ERROR"
    assert "elsewhere" in (outcome.error or "") and "clouds.yaml" in (outcome.error or "")


@pytest.mark.parametrize(
    ("action_cloud", "execution_cloud", "expected"),
    [
        (None, None, "fake"),  # the executor's default
        (None, "other", "other"),  # the execution's choice wins over the default
        ("fake", "other", "fake"),  # the action's input wins over the execution's
        ("other", None, "other"),
    ],
)
async def test_the_cloud_is_chosen_by_action_then_execution_then_executor(
    fake_openstack: FakeOpenStack,
    other_cloud: FakeOpenStack,
    os_catalogue: ActionCatalogue,
    action_cloud: str | None,
    execution_cloud: str | None,
    expected: str,
) -> None:
    fake_openstack.state.add_server("on-fake")
    other_cloud.state.add_server("on-other")
    ctx = ActionContext(
        settings=ActionSettings(openstack_cloud="fake"),
        security=SecurityContext(cloud=execution_cloud) if execution_cloud else None,
    )
    params = {"cloud": action_cloud} if action_cloud else {}
    outcome = await os_catalogue.run("nova.servers_list", params, ctx)
    assert outcome.state == "SUCCESS", outcome.error
    assert [s["name"] for s in outcome.output] == [f"on-{expected}"]


async def test_the_callers_token_goes_to_the_keystone_of_the_execution_cloud(
    fake_openstack: FakeOpenStack, other_cloud: FakeOpenStack, os_catalogue: ActionCatalogue
) -> None:
    other_cloud.state.add_server("on-other")
    ctx = ActionContext(
        settings=ActionSettings(openstack_cloud="fake"),
        security=SecurityContext(
            auth_token=other_cloud.add_token(), project_id=PROJECT_ID, cloud="other"
        ),
    )
    outcome = await os_catalogue.run("nova.servers_list", {}, ctx)
    assert outcome.state == "SUCCESS", outcome.error
    assert [s["name"] for s in outcome.output] == ["on-other"]
    assert fake_openstack.state.requests == []
