"""`squall event replay` (with a progress bar) and `squall dlq list|redrive`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO
from urllib.parse import quote

from squall.cli.definitions import remote_command
from squall.cli.remote import EXIT_FAILED, EXIT_OK, RemoteError, base_url, call, emit, fail, table

#: How often a running replay's progress is read.
POLL_S = 0.5
SPINNER = "|/-\\"
RESULT_COLUMNS = ["event", "type", "rule", "outcome", "workflow", "input", "reason"]
#: How much of the input a rule would start a dry run's table shows.
INPUT_CHARS = 50
DLQ_COLUMNS = ["id", "topic", "partition", "offset", "consumer", "error", "at"]


def add_replay(actions: Any) -> None:
    """Register ``event replay`` under the ``event`` command's subcommands."""
    replay = remote_command(
        actions, "replay", "replay archived events through the current rules", _replay
    )
    replay.add_argument("--from", dest="start", required=True, help="ISO time, inclusive")
    replay.add_argument("--to", dest="end", required=True, help="ISO time, exclusive")
    replay.add_argument("--source", action="append", default=[], help="only this source")
    replay.add_argument("--type", action="append", default=[], help="only this type")
    replay.add_argument("--rule", action="append", default=[], help="only these rules")
    replay.add_argument(
        "--dry-run", action="store_true", help="report what would fire; start nothing"
    )
    replay.add_argument("--no-wait", action="store_true", help="print the replay id and exit")


def add_parser(sub: Any) -> None:
    """Register ``dlq`` and its subcommands."""
    parser = sub.add_parser("dlq", help="inspect and re-drive dead letters")
    actions = parser.add_subparsers(metavar="ACTION")
    listing = remote_command(actions, "list", "the latest dead letters, newest first", _list)
    listing.add_argument("--limit", type=int, default=50)
    redrive = remote_command(
        actions, "redrive", "re-publish dead letters to their original topics", _redrive
    )
    redrive.add_argument("ids", nargs="+", help="letters as <partition>:<offset>")


def _replay(args: argparse.Namespace) -> int:
    url = base_url(args.url)
    body = {
        "start": args.start,
        "end": args.end,
        "sources": args.source,
        "types": args.type,
        "rules": args.rule,
        "dry_run": args.dry_run,
    }
    try:
        started = call(url, "POST", "/v1/replays", body)
        if args.no_wait:
            emit(started, args.json, ["id", "state"])
            return EXIT_OK
        bar = None if args.json else ProgressBar(sys.stderr)
        progress = follow(lambda: call(url, "GET", f"/v1/replays/{quote(started['id'])}"), bar)
    except RemoteError as exc:
        return fail(exc)
    if args.json:
        emit(progress, True, [])
    else:
        report(progress, sys.stdout)
        if progress.get("error"):
            print(f"error: {progress['error']}", file=sys.stderr)
    return EXIT_OK if progress["state"] == "done" else EXIT_FAILED


def follow(read: Callable[[], Any], bar: ProgressBar | None) -> Any:
    """Poll the replay until it ends, drawing its progress on ``bar``."""
    while True:
        progress = read()
        if bar is not None:
            bar.draw(progress)
        if progress["state"] != "running":
            return progress
        time.sleep(POLL_S)


def fraction(progress: dict[str, Any]) -> float | None:
    """How far through its time range a replay is, or None while nobody can tell
    (a server that does not report ``position``).

    Events are scanned in the order they were received, so the time of the last one
    scanned (``position``) against the requested range is the share done. Without
    it there is no honest denominator: ``max_events`` is a cap, not a count.
    """
    if progress["state"] == "done":
        return 1.0
    position = progress.get("position")
    if not position:
        return None
    start = datetime.fromisoformat(progress["request"]["start"])
    end = datetime.fromisoformat(progress["request"]["end"])
    done = (datetime.fromisoformat(position) - start) / (end - start)
    return min(1.0, max(0.0, done))


class ProgressBar:
    """A replay's progress on a stream: redrawn in place on a terminal; elsewhere
    (a log, a pipe) only its final line."""

    def __init__(self, out: TextIO, width: int = 30) -> None:
        self.out = out
        self.width = width
        self._tty = out.isatty()
        self._draws = 0

    def line(self, progress: dict[str, Any]) -> str:
        """The bar (or, while the share done is unknown, a spinner) and the counts."""
        counts = (
            f"scanned {progress['scanned']}, matched {progress['matched']}, "
            f"published {progress['published']}"
        )
        done = fraction(progress)
        if done is None and progress["state"] != "running":
            return f"{progress['state']}: {counts}"
        if done is None:
            return f"{SPINNER[self._draws % len(SPINNER)]} {counts}"
        filled = round(self.width * done)
        return f"[{'#' * filled}{'.' * (self.width - filled)}] {done:4.0%}  {counts}"

    def draw(self, progress: dict[str, Any]) -> None:
        """Show ``progress``; the last one (not running) ends the line."""
        final = progress["state"] != "running"
        if self._tty or final:
            # \x1b[K clears what a longer previous line left behind.
            prefix = "\r\x1b[K" if self._tty else ""
            self.out.write(prefix + self.line(progress) + ("\n" if final else ""))
            self.out.flush()
        self._draws += 1


def report(progress: dict[str, Any], out: TextIO) -> None:
    """A finished replay for people: its counts and, for a dry run, what would fire."""
    print(
        f"replay {progress['id']}: {progress['state']}: scanned {progress['scanned']}, "
        f"matched {progress['matched']}, published {progress['published']}",
        file=out,
    )
    results = progress.get("results") or []
    if not results:
        return
    rows = [
        {"event": r["event_id"], "type": r.get("type"), **_fired(fired)}
        for r in results
        for fired in r.get("rules") or [None]
    ]
    print(table(rows, RESULT_COLUMNS), file=out)
    if progress["matched"] > len(results):
        print(f"(the first {len(results)} of {progress['matched']} events)", file=out)


def _fired(fired: dict[str, Any] | None) -> dict[str, Any]:
    """One rule's verdict on one event, as a row's cells."""
    if fired is None:
        return {"outcome": "no rule matched"}
    given = fired.get("input")
    shown = json.dumps(given, default=str) if given is not None else ""
    return {
        "rule": fired.get("rule"),
        "outcome": fired.get("outcome"),
        "workflow": fired.get("workflow"),
        "input": shown if len(shown) <= INPUT_CHARS else shown[: INPUT_CHARS - 1] + "…",
        "reason": fired.get("reason"),
    }


def _list(args: argparse.Namespace) -> int:
    try:
        found = call(base_url(args.url), "GET", f"/v1/deadletters?limit={args.limit}")
    except RemoteError as exc:
        return fail(exc)
    emit(found["deadletters"], args.json, DLQ_COLUMNS)
    return EXIT_OK


def _redrive(args: argparse.Namespace) -> int:
    try:
        sent = call(base_url(args.url), "POST", "/v1/deadletters/redrive", {"ids": args.ids})
    except RemoteError as exc:
        return fail(exc)
    emit(sent["redriven"], args.json, ["id", "topic"])
    return EXIT_OK
