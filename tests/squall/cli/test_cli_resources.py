"""`squall workflow|rule|hook|timer …` and `squall event …` against a running, secured Squall."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from squall.settings import Settings
from tests.harness import wait_for
from tests.squall.api.api_support import make_token, secured, squall
from tests.squall.cli.cli_support import run
from tests.squall.cli.test_cli_remote import cli

RULE = """\
rules:
  on_ping: {pattern: {type: [ping]}, workflow: power_off}
"""
DEFINITIONS = (
    """\
version: '2.0'
name: ops
workflows:
  power_off:
    tasks:
      only:
        action: std.noop
hooks:
  alerts: {adapter: alertmanager, secret: "very-secret-1"}
timers:
  evening: {cron: "0 20 * * 1-5", timezone: Europe/Paris, workflow: power_off}
"""
    + RULE
)


async def test_definitions_are_listed_shown_and_deleted(settings: Settings) -> None:
    settings = secured(settings)
    token = await make_token(settings, "ops", "admin")
    async with squall(settings) as api:
        status, _ = await api.request(
            "POST", "/v1/apply", data=DEFINITIONS, headers={"Authorization": f"Bearer {token}"}
        )
        assert status == 200
        env = {"SQUALL_TOKEN": token, "SQUALL_API_URL": api.base}
        for kind, name in [
            ("workflow", "power_off"),
            ("rule", "on_ping"),
            ("hook", "alerts"),
            ("timer", "evening"),
        ]:
            code, out, err = await cli(settings, kind, "list", **env)
            assert code == 0, err
            assert out.splitlines()[0].startswith("NAME") and name in out
            code, out, err = await cli(settings, kind, "get", name, "--json", **env)
            assert code == 0 and json.loads(out)["name"] == name, err
        code, out, _ = await cli(settings, "hook", "get", "alerts", **env)
        assert "very-secret" not in out and "alertmanager" in out
        code, out, _ = await cli(settings, "timer", "list", **env)
        assert "20:00:00+0" in out
        code, _, _ = await cli(settings, "rule", "delete", "on_ping", **env)
        assert code == 0
        code, _, err = await cli(settings, "rule", "get", "on_ping", **env)
        assert code == 4 and "on_ping" in err
        code, _, err = await cli(settings, "rule", "list", **{**env, "SQUALL_TOKEN": "sqt_bad"})
        assert code == 1 and "401" in err
        code, _, err = await cli(
            settings, "rule", "list", **{**env, "SQUALL_API_URL": "http://127.0.0.1:9"}
        )
        assert code == 3


async def test_events_are_published_listed_and_shown(settings: Settings) -> None:
    settings = secured(settings)
    token = await make_token(settings, "ops", "operator")
    async with squall(settings) as api:
        env = {"SQUALL_TOKEN": token, "SQUALL_API_URL": api.base}
        code, out, err = await cli(
            settings, "event", "publish", "ping", "--data", '{"n": 1}', "--json", **env
        )
        assert code == 0, err
        ident = json.loads(out)["id"]

        async def archived() -> bool:
            code, _, _ = await cli(settings, "event", "get", ident, **env)
            return code == 0

        await wait_for(archived, timeout=30, interval=0.5)
        code, out, _ = await cli(settings, "event", "list", "--source", "cli", **env)
        assert code == 0 and ident in out and "ping" in out
        code, out, _ = await cli(settings, "event", "get", ident, "--json", **env)
        assert json.loads(out)["event"]["data"] == {"n": 1}
        code, _, err = await cli(settings, "event", "publish", "ping", "--data", "{nope", **env)
        assert code == 2 and "JSON" in err
        code, _, _ = await cli(settings, "event", "get", "no-such-event", **env)
        assert code == 4


async def test_reapplying_a_trimmed_file_removes_what_it_dropped(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full, trimmed = tmp_path / "ops.yaml", tmp_path / "ops-trimmed.yaml"
    full.write_text(DEFINITIONS)
    trimmed.write_text(DEFINITIONS.replace(RULE, ""))
    async with squall(settings) as api:
        code, out, err = await run(capsys, "apply", "-f", str(full), "--url", api.base)
        assert code == 0, err
        assert "rule: on_ping" in out.splitlines()
        code, out, err = await run(capsys, "apply", "-f", str(trimmed), "--url", api.base)
        assert code == 0, err
        assert "removed rule: on_ping" in out.splitlines()
        assert "rule: on_ping" not in out.splitlines()
        code, _, err = await run(capsys, "rule", "get", "on_ping", "--url", api.base)
        assert code == 4 and "on_ping" in err
        code, out, _ = await run(capsys, "rule", "list", "--url", api.base)
        assert code == 0 and "on_ping" not in out


async def test_workflows_hooks_and_timers_are_deleted(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async with squall(settings) as api:
        await api.apply(DEFINITIONS.replace(RULE, ""))
        for kind, name in [("timer", "evening"), ("hook", "alerts"), ("workflow", "power_off")]:
            code, out, err = await run(capsys, kind, "delete", name, "--url", api.base)
            assert code == 0, err
            assert out.splitlines()[1].split() == [kind, name]
            code, _, err = await run(capsys, kind, "get", name, "--url", api.base)
            assert code == 4, (kind, err)
            code, out, _ = await run(capsys, kind, "list", "--url", api.base, "--json")
            assert code == 0 and name not in out
            code, _, err = await run(capsys, kind, "delete", name, "--url", api.base)
            assert code == 4, (kind, err)


async def test_apply_names_the_line_of_a_refused_rule_and_a_broken_proxy_is_no_crash(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    block_rule = (
        "rules:\n  on_ping:\n    pattern: {type: [ping]}\n"
        "    workflow: power_off\n    condition: <% $.data. %>\n"
    )
    bad.write_text(DEFINITIONS.replace(RULE, block_rule))
    line = bad.read_text().splitlines().index("  on_ping:") + 1
    async with squall(settings) as api:
        code, _, err = await run(capsys, "apply", "-f", str(bad), "--url", api.base)
    assert code == 1
    assert f"bad.yaml:{line}:" in err and "HTTP 400" in err

    async def gateway_error(_: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>Bad Gateway</html>")

    app = web.Application()
    app.router.add_post("/v1/apply", gateway_error)
    async with TestServer(app, host="127.0.0.1") as proxy:
        url = str(proxy.make_url("")).rstrip("/")
        code, _, err = await run(capsys, "apply", "-f", str(bad), "--url", url)
    assert code == 1 and "HTTP 502" in err
