"""`squall execution watch`: an execution's tasks, live, until the execution ends.

On a terminal the task table is redrawn in place; otherwise only changes are printed,
one line each (one JSON object each with ``--json``), so a log or a script sees every
state a task and the execution went through that a poll caught.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import quote

from squall.cli.remote import EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, call, table

#: The exit code of a watch by the state its execution ended in.
EXIT_BY_STATE = {"SUCCESS": EXIT_OK, "ERROR": EXIT_FAILED, "CANCELLED": EXIT_CANCELLED}
TASK_COLUMNS = ["name", "state", "started", "duration", "info"]
#: How much of a task's ``state_info`` (often an error with a traceback) a row shows.
INFO_CHARS = 60
#: ANSI: cursor to the start of the line ``n`` lines up, then clear to the screen's end.
_UP_AND_CLEAR = "\x1b[{n}F\x1b[J"

Doc = dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    """The execution and its tasks (oldest first) as one poll saw them."""

    execution: Doc
    tasks: list[Doc]

    @property
    def final(self) -> bool:
        """Whether the execution has ended."""
        return self.execution["state"] in EXIT_BY_STATE


def poll(url: str, execution_id: str) -> Snapshot:
    """Read the execution, then its tasks: a final execution's tasks are all final too."""
    path = f"/v2/executions/{quote(execution_id)}"
    execution = call(url, "GET", path)
    tasks = call(url, "GET", f"{path}/tasks?sort_keys=created_at")["tasks"]
    return Snapshot(execution, tasks)


def _time(stamp: str | None) -> datetime | None:
    """A Mistral timestamp (``YYYY-MM-DD HH:MM:SS``, UTC)."""
    if not stamp:
        return None
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def duration(seconds: float) -> str:
    """``seconds`` the way people read it: ``4s``, ``2m05s``, ``1h03m``."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def excerpt(info: str | None) -> str:
    """The first line of ``info``, cut to ``INFO_CHARS``."""
    first = (info or "").strip().split("\n", 1)[0]
    return first if len(first) <= INFO_CHARS else first[: INFO_CHARS - 1] + "…"


def _elapsed(start: str | None, end: str | None, now: datetime) -> str:
    began = _time(start)
    if began is None:
        return ""
    return duration(((_time(end) or now) - began).total_seconds())


def frame(snapshot: Snapshot, now: datetime) -> list[str]:
    """The lines a terminal shows: the execution, then a table of its tasks."""
    execution = snapshot.execution
    finished = execution["updated_at"] if snapshot.final else None
    head = (
        f"execution {execution['id']}  {execution['workflow_name']}  {execution['state']}  "
        f"{_elapsed(execution['created_at'], finished, now)}"
    )
    if execution.get("state_info"):
        head += f"  {excerpt(execution['state_info'])}"
    rows = [
        {
            "name": task["name"],
            "state": task["state"],
            "started": (task.get("started_at") or "")[11:],
            "duration": _elapsed(task.get("started_at"), task.get("finished_at"), now),
            "info": excerpt(task.get("state_info")),
        }
        for task in snapshot.tasks
    ]
    return [head, *table(rows, TASK_COLUMNS).splitlines()]


class Changes:
    """What changed since the previous snapshot: tasks first, the execution last."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, str | None]] = {}

    def __call__(self, snapshot: Snapshot) -> list[Doc]:
        """The tasks and the execution whose state or ``state_info`` changed."""
        found = []
        items = [("task", t) for t in snapshot.tasks] + [("execution", snapshot.execution)]
        for kind, item in items:
            now = (item["state"], item.get("state_info"))
            if self._seen.get(item["id"]) != now:
                self._seen[item["id"]] = now
                name = item["name"] if kind == "task" else item["workflow_name"]
                found.append(
                    {
                        "kind": kind,
                        "id": item["id"],
                        "name": name,
                        "state": item["state"],
                        "state_info": item.get("state_info"),
                        "at": item["updated_at"],
                    }
                )
        return found


def change_line(change: Doc) -> str:
    """One change for a log: time, kind, name, state and the start of ``state_info``."""
    text = f"{change['at']}  {change['kind']:<9}  {change['name']}  {change['state']}"
    info = excerpt(change["state_info"])
    return f"{text}  {info}" if info else text


class Screen:
    """Redraws a frame in place on a terminal."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._drawn = 0

    def draw(self, lines: list[str]) -> None:
        """Replace the previous frame with ``lines``, cut to the terminal's width (a
        wrapped line would break the count of lines to move back over) and height
        (the cursor cannot move back to lines scrolled off the top): the oldest
        tasks give way."""
        size = shutil.get_terminal_size()
        shown = [line[: size.columns - 1] for line in lines]
        room = max(3, size.lines - 1)
        if len(shown) > room:
            hidden = len(shown) - room + 1
            shown = [*shown[:2], f"({hidden} earlier tasks not shown)", *shown[2 + hidden :]]
        if self._drawn:
            self.out.write(_UP_AND_CLEAR.format(n=self._drawn))
        self.out.write("\n".join(shown) + "\n")
        self.out.flush()
        self._drawn = len(shown)


def watch(
    read: Callable[[], Snapshot],
    out: TextIO,
    *,
    mode: str,
    interval: float,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """Follow an execution until it ends, showing it on ``out`` in ``mode`` (``tty``,
    ``lines`` or ``json``); return the exit code for its final state.

    Raises ``RemoteError`` when a poll fails.
    """
    screen, changes = Screen(out), Changes()
    while True:
        snapshot = read()
        if mode == "tty":
            screen.draw(frame(snapshot, clock()))
        else:
            for change in changes(snapshot):
                line = json.dumps(change) if mode == "json" else change_line(change)
                print(line, file=out, flush=True)
        if snapshot.final:
            return EXIT_BY_STATE[snapshot.execution["state"]]
        time.sleep(interval)
