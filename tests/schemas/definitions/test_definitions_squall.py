"""Squall's additions: hooks, rules with policies, timers; and the editor JSON Schema."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from schemas.definitions import DefinitionError, definitions_json_schema, load_definitions

EXAMPLES = Path(__file__).parents[3] / "examples" / "definitions"
HEAD = "version: '2.0'\nname: wb\n"


def messages(text: str) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        load_definitions(HEAD + text)
    return [(i.path, i.message) for i in caught.value.issues]


def test_definitions_example_loads_hooks_rules_and_timers() -> None:
    defs = load_definitions((EXAMPLES / "squall_definitions.yaml").read_text())
    hook = defs.hooks["alerts"]
    assert (hook.name, hook.adapter, hook.secret.get_secret_value()) == (
        "alerts",
        "alertmanager",
        "s3cr3t-token",
    )
    rule = defs.rules["high_cpu"]
    assert (
        rule.workflow == "scale_out" and rule.condition == "<% $.data.labels.severity != 'info' %>"
    )
    policy = rule.policy
    assert policy.concurrency is not None and policy.concurrency.mode == "skip"
    assert policy.dedupe is not None and policy.dedupe.window == 300
    assert policy.rate_limit is not None and (policy.rate_limit.count, policy.rate_limit.per) == (
        10,
        60,
    )
    assert policy.cooldown is not None and policy.cooldown.seconds == 120
    assert policy.cancel_on == {"type": ["alert.resolved"]}
    evening = defs.timers["evening_power_off"]
    assert (evening.cron, evening.timezone, evening.zone.key) == (
        "0 20 * * 1-5",
        "Europe/Paris",
        "Europe/Paris",
    )
    heartbeat = defs.timers["heartbeat"]
    assert heartbeat.interval == 300.0 and heartbeat.misfire.window == 60
    assert heartbeat.event is not None and heartbeat.event.type == "squall.heartbeat"


def test_rule_action_target_takes_inline_params() -> None:
    defs = load_definitions(
        HEAD + "rules:\n  r: {pattern: {type: [x]}, action: std.echo output=hi, input: {a: 1}}\n"
    )
    rule = defs.rules["r"]
    assert (rule.action, rule.input, rule.enabled) == ("std.echo", {"a": 1, "output": "hi"}, True)


def test_one_shot_timer_with_bounds_and_count() -> None:
    text = "timers:\n  once:\n    date: 2030-01-02T03:04:05Z\n    workflow: wf\n    count: 1\n"
    text += "    first-execution: 2030-01-02T03:04:05Z\n    misfire: {mode: catch_up, max: 3}\n"
    timer = load_definitions(HEAD + text).timers["once"]
    assert isinstance(timer.date, datetime) and timer.count == 1 and timer.misfire.max == 3


@pytest.mark.parametrize(
    ("timer", "path", "message"),
    [
        (
            "{workflow: w}",
            "timers.t",
            "expected exactly one of 'cron', 'interval' or 'date', got none",
        ),
        (
            "{cron: '* * * * *', date: 2030-01-01, workflow: w}",
            "timers.t",
            "expected exactly one of 'cron', 'interval' or 'date', got cron, date",
        ),
        ("{interval: 5}", "timers.t", "expected exactly one of 'workflow' or 'event', got none"),
        (
            "{interval: 5, workflow: w, timezone: Mars/Base}",
            "timers.t.timezone",
            "expected an IANA time zone name such as 'Europe/Paris', got 'Mars/Base'",
        ),
        (
            "{cron: '* * *', workflow: w}",
            "timers.t.cron",
            "expected a cron expression of 5 fields (or 6, the last one seconds), got '* * *'",
        ),
        (
            "{cron: '0 25 * * *', workflow: w}",
            "timers.t.cron",
            "expected a cron field within 0-23, got '25'",
        ),
        (
            "{interval: {fortnights: 1}, workflow: w}",
            "timers.t.interval",
            "expected seconds > 0 or a mapping of weeks/days/hours/minutes/seconds,"
            " got {'fortnights': 1}",
        ),
        (
            "{interval: 5, workflow: w, misfire: {mode: window}}",
            "timers.t.misfire",
            "mode 'window' needs 'window' (seconds)",
        ),
    ],
)
def test_timer_mistakes(timer: str, path: str, message: str) -> None:
    assert messages(f"timers:\n  t: {timer}\n") == [(path, message)]


def test_rule_mistakes() -> None:
    found = messages(
        "rules:\n"
        "  both: {pattern: {a: [1]}, workflow: w, action: a}\n"
        "  cancel: {pattern: {a: [1]}, workflow: w, policy: {cancel-on: {a: [2]}}}\n"
        "  mode: {pattern: {a: [1]}, workflow: w, policy: {concurrency: {key: k, mode: drop}}}\n"
    )
    assert found == [
        ("rules.both", "expected exactly one of 'workflow' or 'action', got workflow, action"),
        ("rules.cancel.policy", "'cancel-on' needs 'concurrency' to say which execution (its key)"),
        (
            "rules.mode.policy.concurrency.mode",
            "expected 'queue', 'skip', 'replace' or 'cancel', got 'drop'",
        ),
    ]


def test_hook_secret_is_never_echoed() -> None:
    found = messages("hooks:\n  h: {secret: 1234}\n")
    assert found == [("hooks.h.secret", "expected a string, got <hidden>")]


def test_json_schema_describes_yaml_keywords() -> None:
    schema = definitions_json_schema()
    defs = schema["$defs"]
    task = defs["Task"]["properties"]
    assert {"on-success", "with-items", "publish-on-error", "keep-result"} <= set(task)
    assert "name" not in defs["Task"].get("required", [])
    assert set(schema["required"]) == {"version", "name"}
    assert "oneOf" in task["on-success"]["anyOf"][0]
