"""Benchmark: cost of matching one event against 10, 1,000 and 10,000 rules.

Run with ``python bench/matcher.py``. Rules are a realistic mix: most select on
``source``/``type`` and a data field with exact values or prefixes; some add numeric
ranges, anything-but, wildcards, equals-ignore-case, exists or ``$or``. Events are
drawn from the same vocabulary, so some of them match a few rules each.

The ``growth`` column is the cost per event relative to the smallest rule set: the
figure to watch, since the matcher's cost should barely grow with the rules.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.patterns import RuleMatcher

SOURCES = [f"svc.{name}" for name in ("nova", "cinder", "neutron", "glance", "heat", "keystone")]
SOURCES += [f"alertmanager.{n}" for n in range(30)]
TYPES = [
    f"{kind}.{verb}"
    for kind in ("server", "volume", "port", "alert", "image", "stack")
    for verb in ("create", "update", "delete", "firing", "resolved", "error")
]
LABELS = [f"label-{n}" for n in range(500)]
RULE_COUNTS = (10, 1_000, 10_000)
# Each measurement keeps the fastest of this many passes over the events, so that
# other work on the machine disturbs the figures less.
REPEATS = 3


def make_rule(rng: random.Random) -> dict[str, Any]:
    """One rule pattern, mostly exact and prefix matches, sometimes richer operators."""
    pattern: dict[str, Any] = {"source": [rng.choice(SOURCES)]}
    roll = rng.random()
    if roll < 0.5:
        pattern["type"] = [rng.choice(TYPES)]
        pattern["data"] = {"labels": {"alertname": [rng.choice(LABELS)]}}
    elif roll < 0.65:
        pattern["type"] = [{"prefix": rng.choice(TYPES).split(".")[0] + "."}]
        pattern["data"] = {"cluster": [f"c{rng.randrange(200)}", f"c{rng.randrange(200)}"]}
    elif roll < 0.75:
        low = rng.randrange(0, 90)
        pattern["data"] = {
            "labels": {"alertname": [rng.choice(LABELS)]},
            "value": [{"numeric": [">", low, "<=", low + rng.randrange(5, 50)]}],
        }
    elif roll < 0.82:
        pattern["type"] = [rng.choice(TYPES)]
        pattern["data"] = {"status": [{"anything-but": ["ok", "pending"]}]}
    elif roll < 0.88:
        pattern["data"] = {"server": {"name": [{"wildcard": f"web-{rng.randrange(100)}*-prod"}]}}
    elif roll < 0.93:
        pattern["subject"] = [{"equals-ignore-case": f"Server-{rng.randrange(1000)}"}]
    elif roll < 0.97:
        pattern["$or"] = [
            {"type": [rng.choice(TYPES)]},
            {"data": {"labels": {"severity": [rng.choice(["critical", "warning"])]}}},
        ]
        pattern["data"] = {"cluster": [f"c{rng.randrange(200)}"]}
    else:
        pattern["data"] = {
            "ip": [{"cidr": f"10.{rng.randrange(256)}.0.0/16"}],
            "debug": [{"exists": False}],
        }
    return pattern


def make_event(rng: random.Random) -> dict[str, Any]:
    """A CloudEvent with a data payload in the rules' vocabulary."""
    return {
        "specversion": "1.0",
        "id": f"{rng.getrandbits(64):x}",
        "source": rng.choice(SOURCES),
        "type": rng.choice(TYPES),
        "subject": f"server-{rng.randrange(1000)}",
        "time": "2024-05-01T12:00:00Z",
        "project": "demo",
        "data": {
            "labels": {
                "alertname": rng.choice(LABELS),
                "severity": rng.choice(["critical", "warning", "info"]),
                "instance": f"host-{rng.randrange(100)}:9100",
            },
            "cluster": f"c{rng.randrange(200)}",
            "value": rng.uniform(0, 120),
            "status": rng.choice(["ok", "pending", "failed"]),
            "server": {"name": f"web-{rng.randrange(100)}{rng.randrange(10)}-prod", "flavor": "m1"},
            "ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
            "annotations": {"summary": "CPU is high", "runbook": "https://example.invalid/rb"},
        },
    }


def run(rule_count: int, events: list[dict[str, Any]]) -> tuple[float, float, float]:
    """Build time (ms), µs per event and matches per event for one rule count."""
    rng = random.Random(rule_count)
    matcher = RuleMatcher()
    for number in range(rule_count):
        matcher.add(f"rule-{number:05}", make_rule(rng))
    started = time.perf_counter()
    matcher.compile()
    build_ms = (time.perf_counter() - started) * 1000
    matched = sum(len(matcher.match(event)) for event in events)
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        for event in events:
            matcher.match(event)
        best = min(best, time.perf_counter() - started)
    return build_ms, best / len(events) * 1e6, matched / len(events)


def main() -> None:
    """Print the table."""
    rng = random.Random(7)
    events = [make_event(rng) for _ in range(20_000)]
    print(
        f"{'rules':>7} {'build ms':>9} {'µs/event':>9} {'events/s':>10} "
        f"{'matches/event':>14} {'growth':>7}"
    )
    smallest = None
    for rule_count in RULE_COUNTS:
        build_ms, per_event_us, per_event_matches = run(rule_count, events)
        smallest = smallest or per_event_us
        print(
            f"{rule_count:>7} {build_ms:>9.1f} {per_event_us:>9.2f} "
            f"{1e6 / per_event_us:>10,.0f} {per_event_matches:>14.2f} "
            f"{per_event_us / smallest:>6.1f}x"
        )


if __name__ == "__main__":
    main()
