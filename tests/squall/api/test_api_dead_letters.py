"""Dead letters through /v1 with real tokens: each project sees and re-drives its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from schemas.bus import Outbound, Topics
from squall.kafka import KafkaPublisher
from squall.settings import Settings
from tests.harness import Api, wait_for
from tests.squall.api.api_support import bearer, make_token, secured, squall
from triggers.kafka_sources import KafkaSource

Headers = dict[str, str]


@pytest.fixture
async def letters(settings: Settings) -> AsyncIterator[tuple[Api, Settings]]:
    """Squall with dead letters written by a source of project alpha, by the engine and
    by the executor: keyed ``src`` (alpha's source), ``evt`` (an event naming alpha),
    ``cmd`` (a command naming no project) and ``act`` (an action request naming beta).
    """
    topics = Topics(settings.topic_prefix)
    external = f"{settings.topic_prefix}shop.orders"
    source = KafkaSource(name="orders", topic=external, type="<% $.kind %>", project="alpha")
    configured = secured(settings).model_copy(update={"kafka_sources": [source]})
    publisher = KafkaPublisher(settings.kafka_bootstrap or "")
    await publisher.start()
    try:
        await publisher.publish([Outbound(external, "src", b"\xff not json")])
        async with squall(configured) as api:
            await publisher.publish(
                [
                    Outbound(topics.events, "evt", b'{"project": "alpha", "type": 7}'),
                    Outbound(topics.commands, "cmd", b"not a command"),
                    Outbound(topics.actions, "act", b'{"project": "beta", "action": 1}'),
                ]
            )
            yield api, configured
    finally:
        await publisher.stop()


async def listed(api: Api, headers: Headers) -> dict[str, dict[str, Any]]:
    """The letters ``headers`` may see, by key."""
    status, body = await api.request("GET", "/v1/deadletters", headers=headers)
    assert status == 200, body
    return {x["key"]: x for x in body["deadletters"]}


async def test_each_project_sees_only_its_own_dead_letters(
    letters: tuple[Api, Settings],
) -> None:
    api, settings = letters
    alpha_admin = bearer(await make_token(settings, "alpha", "admin"))

    async def all_written() -> dict[str, dict[str, Any]] | None:
        found = await listed(api, alpha_admin)
        return found if {"src", "evt", "cmd"} <= set(found) else None

    alpha = await wait_for(all_written, 60, interval=0.5)
    assert set(alpha) == {"src", "evt", "cmd"}
    assert alpha["src"]["project"] == "alpha" and alpha["cmd"]["project"] is None

    alpha_viewer = bearer(await make_token(settings, "alpha", "viewer"))
    beta_viewer = bearer(await make_token(settings, "beta", "viewer"))
    beta_admin = bearer(await make_token(settings, "beta", "admin"))

    async def beta_written() -> dict[str, dict[str, Any]] | None:
        return await listed(api, beta_viewer) or None

    beta = await wait_for(beta_written, 60, interval=0.5)
    assert set(beta) == {"act"} and beta["act"]["consumer"] == "executor"
    assert set(await listed(api, alpha_viewer)) == {"src", "evt"}
    # Only an admin sees what no project could be told for.
    assert set(await listed(api, beta_admin)) == {"act", "cmd"}

    for ident in (alpha["src"]["id"], alpha["evt"]["id"]):
        status, body = await api.request("GET", f"/v1/deadletters/{ident}", headers=beta_admin)
        assert status == 404 and body["message"] == f"no dead letter {ident}"
    status, body = await api.request(
        "GET", f"/v1/deadletters/{alpha['src']['id']}", headers=alpha_viewer
    )
    assert status == 200 and body["topic"] == f"{settings.topic_prefix}shop.orders"
    status, _ = await api.request(
        "GET", f"/v1/deadletters/{alpha['cmd']['id']}", headers=alpha_viewer
    )
    assert status == 404


async def test_only_the_owning_project_re_drives_a_letter(letters: tuple[Api, Settings]) -> None:
    api, settings = letters
    topics = Topics(settings.topic_prefix)
    alpha_operator = bearer(await make_token(settings, "alpha", "operator"))
    beta_operator = bearer(await make_token(settings, "beta", "operator"))

    async def written() -> dict[str, dict[str, Any]] | None:
        found = await listed(api, alpha_operator)
        return found if {"src", "evt"} <= set(found) else None

    alpha = await wait_for(written, 60, interval=0.5)
    ids = [alpha["src"]["id"], alpha["evt"]["id"]]
    for attempt in ([ids[0]], [ids[1]], ids):
        status, body = await api.request(
            "POST", "/v1/deadletters/redrive", json={"ids": attempt}, headers=beta_operator
        )
        assert status == 404 and body["field"] == "ids", attempt
    assert set(await listed(api, beta_operator)) <= {"act"}

    status, body = await api.request(
        "POST", "/v1/deadletters/redrive", json={"ids": ids}, headers=alpha_operator
    )
    assert status == 200, body
    assert [(x["key"], x["topic"]) for x in body["redriven"]] == [
        ("src", f"{settings.topic_prefix}shop.orders"),
        ("evt", topics.events),
    ]

    # Re-driven, both fail again and come back as new letters of alpha, never of beta.
    async def again() -> dict[str, int] | None:
        status, body = await api.request("GET", "/v1/deadletters", headers=alpha_operator)
        keys = [x["key"] for x in body["deadletters"]]
        counts = {k: keys.count(k) for k in ("src", "evt")}
        return counts if status == 200 and min(counts.values()) == 2 else None

    assert await wait_for(again, 60, interval=0.5) == {"src": 2, "evt": 2}
    assert "src" not in await listed(api, beta_operator)
