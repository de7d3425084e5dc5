"""`squall event replay` (with a progress bar) and `squall dlq list|redrive`."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any
from urllib.parse import quote

from squall.cli.definitions import remote_command
from squall.cli.remote import EXIT_FAILED, EXIT_OK, RemoteError, base_url, call, emit, fail

#: How often a running replay's progress is read.
POLL_S = 0.5
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
        progress = _follow(url, started["id"], show=not args.json)
    except RemoteError as exc:
        return fail(exc)
    if args.json:
        emit(progress, True, [])
    else:
        print(
            f"replay {progress['id']}: {progress['state']} — scanned {progress['scanned']}, "
            f"matched {progress['matched']}, published {progress['published']}"
        )
        for result in progress.get("results") or []:
            print(f"  {result.get('event_id')}: {result.get('rules') or result}")
        if progress.get("error"):
            print(f"error: {progress['error']}", file=sys.stderr)
    return EXIT_OK if progress["state"] == "done" else EXIT_FAILED


def _follow(url: str, replay_id: str, *, show: bool) -> Any:
    """Poll the replay until it ends, drawing its progress on stderr."""
    while True:
        progress = call(url, "GET", f"/v1/replays/{quote(replay_id)}")
        if show:
            _bar(progress)
        if progress["state"] != "running":
            if show:
                print(file=sys.stderr)
            return progress
        time.sleep(POLL_S)


def _bar(progress: dict[str, Any], width: int = 30) -> None:
    limit = int(progress["request"].get("max_events") or 1)
    scanned = int(progress["scanned"])
    filled = (
        min(width, width * scanned // max(1, limit)) if progress["state"] == "running" else width
    )
    bar = "#" * filled + "." * (width - filled)
    sys.stderr.write(
        f"\r[{bar}] scanned {scanned}, matched {progress['matched']}, "
        f"published {progress['published']}"
    )
    sys.stderr.flush()


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
