"""`squall workflow|rule|hook|timer …` and `squall event …` against a running, secured Squall."""

from __future__ import annotations

import json

from squall.settings import Settings
from tests.harness import wait_for
from tests.squall.api.api_support import make_token, secured, squall
from tests.squall.cli.test_cli_remote import cli

DEFINITIONS = """\
version: '2.0'
name: ops
workflows:
  power_off:
    tasks:
      only:
        action: std.noop
hooks:
  alerts: {adapter: alertmanager, secret: "very-secret-1"}
rules:
  on_ping: {pattern: {type: [ping]}, workflow: power_off}
timers:
  evening: {cron: "0 20 * * 1-5", timezone: Europe/Paris, workflow: power_off}
"""


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
