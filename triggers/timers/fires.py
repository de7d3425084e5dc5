"""One fire of a timer: its id, and the message it publishes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from schemas.bus import Outbound, Topics
from schemas.commands import StartExecution
from schemas.definitions import Timer
from schemas.events import CloudEvent
from schemas.ids import derive_id

#: The CloudEvents ``source`` of timer events (unless the timer names its own).
SOURCE = "squall/timers"
_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"

TimerKey = tuple[str, str]


def stamp(at: datetime) -> str:
    """A fire time as fixed-width UTC ISO 8601, so stored stamps sort as times do."""
    return at.astimezone(UTC).strftime(_STAMP)


def parse_stamp(text: str) -> datetime:
    """The inverse of :func:`stamp`."""
    return datetime.strptime(text, _STAMP).replace(tzinfo=UTC)


def timer_id(key: TimerKey) -> str:
    """``project/name``: how a timer is named in stored documents and event subjects."""
    return f"{key[0]}/{key[1]}"


@dataclass(frozen=True)
class Fire:
    """One scheduled fire: ``id`` is unique across every process (``project/name/time``)."""

    id: str
    timer: str
    at: datetime
    message: Outbound
    counted: bool = False  # the timer has a ``count`` that this fire uses up


def make_fire(topics: Topics, key: TimerKey, timer: Timer, at: datetime) -> Fire:
    """The fire of ``timer`` scheduled ``at``, with the message it publishes.

    Every id in the message is derived from the fire id, so a second publication of
    the same fire (after a crash) is recognised downstream as a repeat.
    """
    project, name = key
    fire_id = f"{timer_id(key)}/{stamp(at)}"
    if timer.workflow is not None:
        command = StartExecution(
            command_id=derive_id(fire_id, "command"),
            execution_id=derive_id(fire_id, "execution"),
            project=project,
            workflow_name=timer.workflow,
            input=timer.input,
            params=timer.params,
            description=f"timer {timer_id(key)} fired for {at.astimezone(UTC).isoformat()}",
        )
        message = Outbound(
            topics.commands, command.execution_id, command.model_dump_json().encode()
        )
    else:
        spec = timer.event
        event = CloudEvent(
            id=derive_id(fire_id),
            source=(spec.source if spec else None) or SOURCE,
            type=spec.type if spec else "squall.timer.fired",
            subject=(spec.subject if spec else None) or timer_id(key),
            time=at,
            data={
                "timer": name,
                "scheduled": at.astimezone(UTC).isoformat(),
                "data": spec.data if spec else None,
            },
            project=project,
            dedupekey=fire_id,
        )
        message = Outbound(topics.events, event.subject or event.id, event.to_bytes())
    return Fire(fire_id, timer_id(key), at.astimezone(UTC), message, timer.count is not None)
