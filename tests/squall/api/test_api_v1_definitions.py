"""/v1/rules, /v1/hooks and /v1/timers: one definition at a time, per project."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from squall.settings import Settings
from tests.harness import Api, running

RULE = {
    "pattern": {"source": ["alertmanager"], "type": ["alert.firing"]},
    "condition": "<% $.data.severity != 'info' %>",
    "workflow": "scale_out",
    "input": {"cluster": "{{ event.data.cluster }}"},
    "policy": {"rate-limit": {"count": 2, "per": 60}},
}
HOOK = {"adapter": "alertmanager", "secret": "s3cret-value-42", "auth": "token"}
TIMER = {"cron": "0 20 * * 1-5", "timezone": "Europe/Paris", "workflow": "power_off"}


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with running(settings, {"api"}) as api:
        yield api


async def test_a_rule_is_created_read_listed_replaced_and_deleted(api: Api) -> None:
    status, body = await api.request("POST", "/v1/rules", json={"name": "high_cpu", **RULE})
    assert status == 201, body
    assert body["name"] == "high_cpu" and body["policy"]["rate-limit"]["count"] == 2
    status, body = await api.request("POST", "/v1/rules", json={"name": "high_cpu", **RULE})
    assert status == 409
    status, body = await api.request("PUT", "/v1/rules/high_cpu", json={**RULE, "enabled": False})
    assert status == 200 and body["enabled"] is False
    status, body = await api.request("GET", "/v1/rules/high_cpu")
    assert status == 200 and body["enabled"] is False
    status, body = await api.request("GET", "/v1/rules")
    assert [r["name"] for r in body["rules"]] == ["high_cpu"]
    status, _ = await api.request("DELETE", "/v1/rules/high_cpu")
    assert status == 204
    status, _ = await api.request("GET", "/v1/rules/high_cpu")
    assert status == 404
    status, _ = await api.request("DELETE", "/v1/rules/high_cpu")
    assert status == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pattern": {"source": [{"prefix": 1}]}}, "rules.bad.pattern"),
        ({"condition": "<% $.data. %>"}, "rules.bad"),
        ({"action": "std.noop"}, "exactly one"),
        ({"policy": {"cancel-on": {"type": ["x"]}}}, "concurrency"),
    ],
)
async def test_an_invalid_rule_is_refused_as_apply_refuses_it(
    api: Api, change: dict[str, object], field: str
) -> None:
    status, body = await api.request("PUT", "/v1/rules/bad", json={**RULE, **change})
    assert status == 400, body
    assert field in (body.get("field") or "") + body["message"]
    status, _ = await api.request("GET", "/v1/rules/bad")
    assert status == 404


async def test_the_url_name_wins_and_a_different_body_name_is_refused(api: Api) -> None:
    status, body = await api.request("PUT", "/v1/rules/one", json={"name": "two", **RULE})
    assert status == 400 and "one" in body["message"]


async def test_a_hook_secret_is_stored_but_never_shown(api: Api) -> None:
    status, body = await api.request("PUT", "/v1/hooks/alerts", json=HOOK)
    assert status == 200, body
    assert "secret" not in body and body["adapter"] == "alertmanager"
    for path in ("/v1/hooks/alerts", "/v1/hooks"):
        status, body = await api.request("GET", path)
        assert status == 200 and "s3cret" not in str(body)
    # The secret works: the receiver accepts the hook with it, and refuses another.
    status, _ = await api.request("POST", "/hooks/alerts?token=wrong-secret", json={})
    assert status == 401
    status, body = await api.request("POST", "/hooks/alerts?token=s3cret-value-42", json={})
    assert status in (202, 400), body


async def test_a_hook_name_belongs_to_one_project(api: Api) -> None:
    status, _ = await api.request("PUT", "/v1/hooks/shared", json=HOOK)
    assert status == 200
    status, body = await api.request("PUT", "/v1/hooks/shared?project=other", json=HOOK)
    assert status == 409 and "another project" in body["message"]


async def test_a_timer_lists_its_next_fires_in_its_own_zone(api: Api) -> None:
    status, body = await api.request("POST", "/v1/timers", json={"name": "evening", **TIMER})
    assert status == 201, body
    status, body = await api.request("GET", "/v1/timers/evening?fires=3")
    fires = [datetime.fromisoformat(t) for t in body["next_fires"]]
    assert len(fires) == 3 and fires == sorted(fires)
    for fire in fires:
        assert (fire.hour, fire.minute) == (20, 0) and fire.weekday() < 5
        assert fire.utcoffset() in {
            datetime.fromisoformat("2026-01-05T20:00:00+01:00").utcoffset(),
            datetime.fromisoformat("2026-07-06T20:00:00+02:00").utcoffset(),
        }
    status, body = await api.request("GET", "/v1/timers?fires=0")
    assert body["timers"][0]["next_fires"] == []


async def test_a_timer_without_a_schedule_is_refused(api: Api) -> None:
    status, body = await api.request("PUT", "/v1/timers/none", json={"workflow": "x"})
    assert status == 400 and "cron" in body["message"]


async def test_another_projects_definitions_are_invisible(api: Api) -> None:
    await api.request("PUT", "/v1/rules/mine", json=RULE)
    await api.request("PUT", "/v1/timers/mine", json=TIMER)
    for kind in ("rules", "timers"):
        status, body = await api.request("GET", f"/v1/{kind}?project=other")
        assert status == 200 and body[kind] == []
        status, _ = await api.request("GET", f"/v1/{kind}/mine?project=other")
        assert status == 404
        status, _ = await api.request("DELETE", f"/v1/{kind}/mine?project=other")
        assert status == 404
    status, _ = await api.request("GET", "/v1/rules/mine")
    assert status == 200


async def test_apply_places_a_bad_pattern_at_the_line_it_was_written(api: Api) -> None:
    text = "\n".join(
        [
            "version: '2.0'",
            "name: placed",
            "rules:",
            "  noisy:",
            "    workflow: scale_out",
            "    pattern:",
            "      source: [{prefix: 1}]",
        ]
    )
    status, body = await api.request(
        "POST",
        "/v1/apply?filename=rules.yaml",
        data=text,
        headers={"Content-Type": "application/yaml"},
    )
    assert status == 400, body
    (issue,) = body["details"]
    assert issue["path"].startswith("rules.noisy.pattern.source")
    assert (issue["file"], issue["line"]) == ("rules.yaml", 7)
