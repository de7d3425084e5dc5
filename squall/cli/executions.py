"""`squall execution …`: start, inspect, watch and steer executions through the API."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from urllib.parse import quote

from squall.cli import watch
from squall.cli.remote import EXIT_OK, EXIT_USAGE, RemoteError, base_url, call, emit, fail

COLUMNS = ["id", "workflow_name", "state", "created_at", "updated_at"]
#: ``squall execution pause ID`` → the Mistral state ``PUT /v2/executions`` is given.
STATES = {"pause": "PAUSED", "resume": "RUNNING", "cancel": "CANCELLED"}


def add_parser(sub: Any) -> None:
    """Register ``execution`` and its subcommands."""
    parser = sub.add_parser("execution", help="start, inspect and steer executions")
    actions = parser.add_subparsers(metavar="ACTION")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        cmd: argparse.ArgumentParser = actions.add_parser(name, help=help)
        cmd.add_argument("--url", default=None, help="API URL (default: SQUALL_API_URL)")
        cmd.add_argument("--json", action="store_true", help="print JSON for scripts")
        return cmd

    start = command("start", "start a workflow")
    start.add_argument("workflow")
    start.add_argument("--input", default="{}", help="JSON object")
    start.add_argument("--id", default=None, help="client-chosen id (a retry is idempotent)")
    start.set_defaults(func=_start)
    get = command("get", "show an execution")
    get.add_argument("id")
    get.set_defaults(func=_get)
    listing = command("list", "list executions")
    listing.add_argument("--state", default=None)
    listing.add_argument("--workflow", default=None)
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(func=_list)
    follow = command(
        "watch",
        "show task states live until the execution ends; exit 0 on SUCCESS, "
        f"{watch.EXIT_BY_STATE['ERROR']} on ERROR, {watch.EXIT_BY_STATE['CANCELLED']} "
        "on CANCELLED",
    )
    follow.add_argument("id")
    follow.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    follow.set_defaults(func=_watch)
    for name in STATES:
        steer = command(name, f"{name} an execution")
        steer.add_argument("id")
        steer.set_defaults(func=_steer, state=STATES[name])
    rerun = command("rerun", "re-run a failed task")
    rerun.add_argument("task_id")
    rerun.add_argument("--env", default=None, help="JSON object: the execution's new env")
    rerun.set_defaults(func=_rerun)


def _show(args: argparse.Namespace, view: dict[str, Any]) -> None:
    emit(view, args.json, COLUMNS)


def _json_object(option: str, text: str) -> dict[str, Any] | None:
    """``text`` as a JSON object, or None after saying on stderr why it is not one."""
    try:
        given = json.loads(text)
    except ValueError as exc:
        print(f"squall: {option} is not JSON: {exc}", file=sys.stderr)
        return None
    if not isinstance(given, dict):
        print(f"squall: {option} must be a JSON object, got {text!r}", file=sys.stderr)
        return None
    return given


def _start(args: argparse.Namespace) -> int:
    given = _json_object("--input", args.input)
    if given is None:
        return EXIT_USAGE
    body = {"workflow_name": args.workflow, "input": given}
    if args.id:
        body["id"] = args.id
    try:
        _show(args, call(base_url(args.url), "POST", "/v2/executions", body))
    except RemoteError as exc:
        return fail(exc)
    return EXIT_OK


def _get(args: argparse.Namespace) -> int:
    try:
        _show(args, call(base_url(args.url), "GET", f"/v2/executions/{quote(args.id)}"))
    except RemoteError as exc:
        return fail(exc)
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    query = f"?limit={args.limit}&sort_keys=created_at&sort_dirs=desc"
    if args.state:
        query += f"&state={args.state}"
    if args.workflow:
        query += f"&workflow_name={args.workflow}"
    try:
        found = call(base_url(args.url), "GET", f"/v2/executions{query}")
    except RemoteError as exc:
        return fail(exc)
    emit(found["executions"], args.json, COLUMNS)
    return EXIT_OK


def _watch(args: argparse.Namespace) -> int:
    url = base_url(args.url)
    mode = "json" if args.json else "tty" if sys.stdout.isatty() else "lines"
    try:
        return watch.watch(
            lambda: watch.poll(url, args.id), sys.stdout, mode=mode, interval=args.interval
        )
    except RemoteError as exc:
        return fail(exc)


def _steer(args: argparse.Namespace) -> int:
    try:
        view = call(
            base_url(args.url), "PUT", f"/v2/executions/{quote(args.id)}", {"state": args.state}
        )
    except RemoteError as exc:
        return fail(exc)
    _show(args, view)
    return EXIT_OK


def _rerun(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"state": "RUNNING"}
    if args.env is not None:
        env = _json_object("--env", args.env)
        if env is None:
            return EXIT_USAGE
        body["env"] = env
    try:
        view = call(base_url(args.url), "PUT", f"/v2/tasks/{quote(args.task_id)}", body)
    except RemoteError as exc:
        return fail(exc)
    emit(view, args.json, ["id", "name", "state", "workflow_execution_id"])
    return EXIT_OK
