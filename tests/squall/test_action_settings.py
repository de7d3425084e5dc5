"""What the executor's actions get from the settings: callback URL, CA file, SSH files."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from squall.roles import action_settings
from squall.settings import Settings, SettingsError, load_settings
from tests.harness import running, wait_for

CALLBACK_FLOW = """\
version: '2.0'
name: callbacks
workflows:
  notify:
    input: [url]
    tasks:
      call:
        action: std.mistral_http
        input:
          url: <% $.url %>
          method: POST
        publish:
          answer: <% task().result %>
    output:
      answer: <% $.answer %>
"""


def test_action_files_and_callback_url_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    known_hosts, ca_file = tmp_path / "known_hosts", tmp_path / "ca.pem"
    known_hosts.write_text("")
    ca_file.write_text("")
    monkeypatch.setenv("SQUALL_PUBLIC_API_URL", "https://squall.example.com/api")
    monkeypatch.setenv("SQUALL_SMTP_CA_FILE", str(ca_file))
    monkeypatch.setenv("SQUALL_SSH_KNOWN_HOSTS", str(known_hosts))
    monkeypatch.setenv("SQUALL_SSH_KEY_DIR", str(tmp_path / "keys"))
    with caplog.at_level(logging.WARNING, logger="squall.roles"):
        actions = action_settings(load_settings(), "squall.")
    assert actions.api_url == "https://squall.example.com/api"
    assert actions.smtp_ca_file == str(ca_file)
    assert actions.ssh_known_hosts == str(known_hosts)
    assert actions.ssh_key_dir == str(tmp_path / "keys")
    assert actions.kafka_internal_prefix == "squall."
    assert not caplog.records


def test_unchecked_ssh_host_keys_are_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="squall.roles"):
        actions = action_settings(Settings(), "squall.")
    assert actions.ssh_known_hosts is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "SQUALL_SSH_KNOWN_HOSTS is not set" in warnings[0]
    assert "accepts any host key" in warnings[0]


def test_a_file_under_the_home_directory_is_found(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "known_hosts").write_text("")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SQUALL_SSH_KNOWN_HOSTS", "~/known_hosts")
    actions = action_settings(load_settings(), "squall.")
    assert actions.ssh_known_hosts == str(tmp_path / "known_hosts")


@pytest.mark.parametrize("variable", ["SQUALL_SSH_KNOWN_HOSTS", "SQUALL_SMTP_CA_FILE"])
def test_a_missing_file_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str
) -> None:
    monkeypatch.setenv(variable, str(tmp_path / "absent"))
    with pytest.raises(SettingsError, match=f"{variable}: .*no such file"):
        load_settings()


@pytest.mark.parametrize(
    "url", ["squall.example.com", "ftp://squall.example.com", "https://", "https://a b"]
)
def test_a_public_api_url_must_be_an_http_url(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("SQUALL_PUBLIC_API_URL", url)
    with pytest.raises(SettingsError, match="SQUALL_PUBLIC_API_URL"):
        load_settings()


@pytest.fixture
async def callee() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A service that records the headers std.mistral_http sends and answers 202."""
    seen: list[dict[str, str]] = []

    async def accept(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/jobs", accept)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/jobs", seen
    await runner.cleanup()


async def test_the_callback_url_is_absolute_and_completes_the_action(
    settings: Settings, callee: tuple[str, list[dict[str, str]]]
) -> None:
    url, seen = callee
    public = f"http://127.0.0.1:{settings.http_port}"
    settings = settings.model_copy(update={"public_api_url": public})
    async with running(settings, {"api", "engine", "executor"}) as api:
        await api.apply(CALLBACK_FLOW)
        status, started = await api.request(
            "POST", "/v1/executions", json={"workflow_name": "notify", "input": {"url": url}}
        )
        assert status == 201, started

        async def called() -> Any:
            return seen

        headers = (await wait_for(called))[0]
        run_id = headers["Mistral-Action-Execution-Id"]
        callback = headers["Mistral-Callback-URL"]
        assert callback == f"{public}/v2/action_executions/{run_id}"
        # The callee reports its result at the URL exactly as given.
        async with api.session.put(
            callback, json={"state": "SUCCESS", "output": {"result": "provisioned"}}
        ) as answer:
            assert answer.status == 200, await answer.text()
        done = await api.finished(started["id"])
    assert done["state"] == "SUCCESS", done
    assert done["output"] == {"answer": "provisioned"}
