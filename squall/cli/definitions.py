"""`squall workflow|rule|hook|timer get|list|delete`: definitions in a running Squall."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from squall.cli.remote import EXIT_OK, RemoteError, base_url, call, emit, fail


@dataclass(frozen=True)
class Resource:
    """One kind of definition: where the API serves it and how a table shows it."""

    name: str
    collection: str
    listing_key: str
    columns: tuple[str, ...]


RESOURCES = (
    Resource("workflow", "/v2/workflows", "workflows", ("name", "input", "updated_at")),
    Resource("rule", "/v1/rules", "rules", ("name", "enabled", "workflow", "action")),
    Resource("hook", "/v1/hooks", "hooks", ("name", "adapter", "auth", "description")),
    Resource(
        "timer",
        "/v1/timers",
        "timers",
        ("name", "enabled", "cron", "interval", "date", "timezone", "workflow", "next_fire"),
    ),
)


def remote_command(
    actions: Any, name: str, help: str, func: Any, **defaults: Any
) -> argparse.ArgumentParser:
    """A subcommand with the options every remote command takes (``--url``, ``--json``)."""
    cmd: argparse.ArgumentParser = actions.add_parser(name, help=help)
    cmd.add_argument("--url", default=None, help="API URL (default: SQUALL_API_URL)")
    cmd.add_argument("--json", action="store_true", help="print JSON for scripts")
    cmd.set_defaults(func=func, **defaults)
    return cmd


def add_parsers(sub: Any) -> None:
    """Register ``workflow``, ``rule``, ``hook`` and ``timer`` with get, list and delete."""
    for resource in RESOURCES:
        parser = sub.add_parser(resource.name, help=f"get, list or delete {resource.name}s")
        actions = parser.add_subparsers(metavar="ACTION")
        get = remote_command(actions, "get", f"show a {resource.name}", _get, resource=resource)
        get.add_argument("name")
        remote_command(actions, "list", f"list {resource.name}s", _list, resource=resource)
        delete = remote_command(
            actions, "delete", f"delete a {resource.name}", _delete, resource=resource
        )
        delete.add_argument("name")


def _row(item: dict[str, Any]) -> dict[str, Any]:
    fires = item.get("next_fires")
    return {**item, "next_fire": fires[0] if fires else None} if "next_fires" in item else item


def _get(args: argparse.Namespace) -> int:
    resource: Resource = args.resource
    try:
        item = call(base_url(args.url), "GET", f"{resource.collection}/{quote(args.name)}")
    except RemoteError as exc:
        return fail(exc)
    emit(item if args.json else _row(item), args.json, list(resource.columns))
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    resource: Resource = args.resource
    try:
        found = call(base_url(args.url), "GET", resource.collection)
    except RemoteError as exc:
        return fail(exc)
    items = found[resource.listing_key]
    emit(items if args.json else [_row(i) for i in items], args.json, list(resource.columns))
    return EXIT_OK


def _delete(args: argparse.Namespace) -> int:
    resource: Resource = args.resource
    try:
        call(base_url(args.url), "DELETE", f"{resource.collection}/{quote(args.name)}")
    except RemoteError as exc:
        return fail(exc)
    emit({"deleted": args.name, "kind": resource.name}, args.json, ["kind", "deleted"])
    return EXIT_OK
