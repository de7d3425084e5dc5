"""The message contracts: versioned, strict, and published as JSON Schema files."""

from __future__ import annotations

import pytest

from schemas import ActionResult, CloudEvent, StartExecution, decode_command, decode_event
from schemas.base import UndecodableMessage
from schemas.generate import main as generate


def test_events_round_trip_in_cloudevents_structured_mode() -> None:
    event = CloudEvent(source="hooks/alerts", type="alert.firing", subject="fp1", data={"a": 1})
    raw = event.to_bytes()
    assert b'"specversion":"1.0"' in raw
    assert decode_event(raw) == event


def test_commands_are_told_apart_by_kind() -> None:
    start = StartExecution(command_id="c1", execution_id="e1", workflow_name="wf")
    result = ActionResult(
        command_id="c2", execution_id="e1", task_id="t", action_execution_id="a", state="SUCCESS"
    )
    assert decode_command(start.model_dump_json().encode()) == start
    assert decode_command(result.model_dump_json().encode()) == result


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "JSON"),
        (b'{"kind": "explode", "execution_id": "e"}', "kind"),
        (b'{"kind": "start_execution", "command_id": "c"}', "execution_id"),
        (
            b'{"kind": "start_execution", "command_id": "c", "execution_id": "e",'
            b' "workflow_name": "w", "schema_version": 2}',
            "schema_version",
        ),
    ],
)
def test_an_undecodable_command_says_why(raw: bytes, reason: str) -> None:
    with pytest.raises(UndecodableMessage, match=reason):
        decode_command(raw)


def test_an_event_without_a_source_is_undecodable() -> None:
    with pytest.raises(UndecodableMessage, match="source"):
        decode_event(b'{"specversion": "1.0", "id": "1", "type": "t"}')


def test_the_json_schema_files_match_the_models() -> None:
    assert generate(["--check"]) == 0, "run: python -m schemas.generate"
