"""Whose dead letter is whose: attribution when written, scopes when read, on a real broker."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.bus import DeadLetter, Outbound, Topics, claimed_project
from squall.kafka import KafkaPublisher
from squall.settings import Settings
from tests.triggers.kafka_sources.kafka_sources_support import Rec
from triggers.kafka_sources import (
    DeadLetterNotFound,
    LetterScope,
    list_dead_letters,
    read_letters,
)

TOPICS = Topics("x.")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


def letter_of(value: bytes, project: str | None = None) -> DeadLetter:
    """The letter the engine (no ``project``) or a source would write for ``value``."""
    out = DeadLetter.outbound(TOPICS, Rec(value, topic="x.events"), "bad", "engine", project)
    return DeadLetter.model_validate_json(out.value)


def test_a_letter_of_squalls_own_message_belongs_to_the_project_it_names() -> None:
    assert letter_of(b'{"project": "alpha", "type": 5}').project == "alpha"
    assert letter_of(b'{"type": 5}').project is None
    assert letter_of(b"\xff not json").project is None


def test_a_project_given_when_writing_wins_over_the_one_the_message_names() -> None:
    assert letter_of(b'{"project": "alpha"}', project="shop").project == "shop"


@given(json_values, st.one_of(st.none(), json_values))
def test_only_a_non_empty_project_name_of_a_json_object_is_claimed(
    value: Any, project: Any
) -> None:
    document = {**value, "project": project} if isinstance(value, dict) else value
    expected = (
        project
        if isinstance(document, dict) and isinstance(project, str) and 0 < len(project) <= 128
        else None
    )
    assert claimed_project(json.dumps(document).encode()) == expected


@given(st.binary(max_size=200))
def test_any_bytes_at_all_are_attributed_or_not_without_failing(raw: bytes) -> None:
    found = claimed_project(raw)
    assert found is None or found == json.loads(raw)["project"]


def test_a_deeply_nested_message_is_unattributed() -> None:
    assert claimed_project(b"[" * 100_000) is None


@pytest.mark.parametrize(
    ("owner", "scope", "admitted"),
    [
        ("alpha", LetterScope("alpha"), True),
        ("alpha", LetterScope("beta"), False),
        ("alpha", LetterScope("beta", unattributed=True), False),
        (None, LetterScope("alpha"), False),
        (None, LetterScope("alpha", unattributed=True), True),
    ],
)
def test_a_scope_admits_its_projects_letters_and_unattributed_ones_only_if_told(
    owner: str | None, scope: LetterScope, admitted: bool
) -> None:
    value = json.dumps({"project": owner}).encode()
    assert scope.admits(letter_of(value)) is admitted


async def test_a_project_finds_its_letter_behind_another_projects_flood(
    settings: Settings, publisher: KafkaPublisher
) -> None:
    bootstrap, topics = settings.kafka_bootstrap or "", Topics(settings.topic_prefix)

    def outbound(project: str, n: int) -> Outbound:
        record = Rec(b"{}", key=f"{project}-{n}".encode(), topic=topics.events, offset=n)
        return DeadLetter.outbound(topics, record, "bad", "engine", project)

    flood = [outbound("alpha", n) for n in range(1200)]
    garbage = Outbound(topics.dead_letters, "g", b"not a dead letter")
    await publisher.publish([outbound("beta", 0), garbage, *flood])

    (beta,) = await list_dead_letters(bootstrap, topics, LetterScope("beta"), limit=10)
    assert (beta["key"], beta["project"]) == ("beta-0", "beta")
    alpha = await list_dead_letters(bootstrap, topics, LetterScope("alpha"), limit=10)
    assert sorted(x["key"] for x in alpha) == sorted(f"alpha-{n}" for n in range(1190, 1200))

    assert (await read_letters(bootstrap, topics, [beta["id"]], LetterScope("beta")))[
        beta["id"]
    ].key == "beta-0"
    for ident in (beta["id"], "0:1"):
        with pytest.raises(DeadLetterNotFound, match=f"no dead letter {ident}"):
            await read_letters(bootstrap, topics, [ident], LetterScope("alpha", unattributed=True))
