"""`squall event publish|list|get`: events through a running Squall's API."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from urllib.parse import quote, urlencode

from squall.cli import replays
from squall.cli.definitions import remote_command
from squall.cli.remote import EXIT_OK, EXIT_USAGE, RemoteError, base_url, call, emit, fail

COLUMNS = ["id", "type", "source", "subject", "received_at", "executions"]


def add_parser(sub: Any) -> None:
    """Register ``event`` and its subcommands."""
    parser = sub.add_parser("event", help="publish, list and inspect events")
    actions = parser.add_subparsers(metavar="ACTION")
    publish = remote_command(actions, "publish", "publish an event to the rules", _publish)
    publish.add_argument("type")
    publish.add_argument("--source", default="cli")
    publish.add_argument("--subject", default=None)
    publish.add_argument("--data", default=None, help="JSON value")
    publish.add_argument("--id", default=None, help="client-chosen id (a retry is idempotent)")
    listing = remote_command(actions, "list", "list archived events, newest first", _list)
    listing.add_argument("--type", default=None)
    listing.add_argument("--source", default=None)
    listing.add_argument("--limit", type=int, default=50)
    get = remote_command(actions, "get", "show an archived event", _get)
    get.add_argument("id")
    replays.add_replay(actions)


def _row(view: dict[str, Any]) -> dict[str, Any]:
    event = view["event"]
    return {
        "id": view["id"],
        "type": event.get("type"),
        "source": event.get("source"),
        "subject": event.get("subject"),
        "received_at": view["received_at"],
        "executions": ",".join(view.get("executions") or []),
    }


def _publish(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"type": args.type, "source": args.source}
    if args.data is not None:
        try:
            body["data"] = json.loads(args.data)
        except ValueError as exc:
            print(f"squall: --data is not JSON: {exc}", file=sys.stderr)
            return EXIT_USAGE
    for field in ("subject", "id"):
        if getattr(args, field):
            body[field] = getattr(args, field)
    try:
        published = call(base_url(args.url), "POST", "/v1/events", body)
    except RemoteError as exc:
        return fail(exc)
    emit(published, args.json, ["id"])
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    query = {"limit": args.limit, "type": args.type, "source": args.source}
    given = urlencode({k: v for k, v in query.items() if v is not None})
    try:
        found = call(base_url(args.url), "GET", f"/v1/events?{given}")
    except RemoteError as exc:
        return fail(exc)
    events = found["events"]
    emit(events if args.json else [_row(e) for e in events], args.json, COLUMNS)
    return EXIT_OK


def _get(args: argparse.Namespace) -> int:
    try:
        view = call(base_url(args.url), "GET", f"/v1/events/{quote(args.id)}")
    except RemoteError as exc:
        return fail(exc)
    emit(view if args.json else _row(view), args.json, COLUMNS)
    return EXIT_OK
