"""`squall execution …`: start, inspect, watch and steer executions through the API."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from squall.cli.remote import EXIT_FAILED, EXIT_OK, RemoteError, base_url, call, emit, fail

COLUMNS = ["id", "workflow_name", "state", "created_at", "updated_at"]
FINAL = ("SUCCESS", "ERROR", "CANCELLED")
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
    watch = command("watch", "print state changes until the execution ends")
    watch.add_argument("id")
    watch.add_argument("--interval", type=float, default=0.5)
    watch.set_defaults(func=_watch)
    for name in STATES:
        steer = command(name, f"{name} an execution")
        steer.add_argument("id")
        steer.set_defaults(func=_steer, state=STATES[name])
    rerun = command("rerun", "re-run a failed task")
    rerun.add_argument("task_id")
    rerun.set_defaults(func=_rerun)


def _show(args: argparse.Namespace, view: dict[str, Any]) -> None:
    emit(view, args.json, COLUMNS)


def _start(args: argparse.Namespace) -> int:
    try:
        given = json.loads(args.input)
    except ValueError as exc:
        print(f"squall: --input is not JSON: {exc}")
        return 2
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
        _show(args, call(base_url(args.url), "GET", f"/v2/executions/{args.id}"))
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
    url, last = base_url(args.url), None
    try:
        while True:
            view = call(url, "GET", f"/v2/executions/{args.id}")
            if view["state"] != last:
                last = view["state"]
                print(json.dumps(view) if args.json else f"{view['updated_at']}  {last}")
            if last in FINAL:
                return EXIT_OK if last == "SUCCESS" else EXIT_FAILED
            time.sleep(args.interval)
    except RemoteError as exc:
        return fail(exc)


def _steer(args: argparse.Namespace) -> int:
    try:
        view = call(base_url(args.url), "PUT", f"/v2/executions/{args.id}", {"state": args.state})
    except RemoteError as exc:
        return fail(exc)
    _show(args, view)
    return EXIT_OK


def _rerun(args: argparse.Namespace) -> int:
    try:
        view = call(base_url(args.url), "PUT", f"/v2/tasks/{args.task_id}", {"state": "RUNNING"})
    except RemoteError as exc:
        return fail(exc)
    emit(view, args.json, ["id", "name", "state", "workflow_execution_id"])
    return EXIT_OK
