"""The ``squall`` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from schemas.definitions import DefinitionError, load_definitions
from squall.cli.remote import EXIT_CODES, EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE
from squall.settings import Settings, SettingsError, load_settings

log = logging.getLogger("squall")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``squall`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"squall: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="squall", description=__doc__, epilog=EXIT_CODES)
    sub = parser.add_subparsers(metavar="COMMAND")

    dev = sub.add_parser("dev", help="run everything with embedded Kafka and MongoDB")
    dev.add_argument("--port", type=int, help="HTTP port (default: SQUALL_HTTP_PORT or 8989)")
    dev.add_argument("--data-dir", type=Path, help="where the embedded database keeps its files")
    dev.add_argument("--examples", type=Path, default=Path("examples"), help="definitions to load")
    dev.set_defaults(func=_dev)

    run = sub.add_parser("run", help="run roles against external Kafka and MongoDB")
    run.add_argument(
        "--role", action="append", required=True, help="api, engine, executor, timer or all"
    )
    run.set_defaults(func=_run)

    apply = sub.add_parser("apply", help="load a definitions file into a running Squall")
    apply.add_argument("-f", "--file", type=Path, required=True)
    apply.add_argument("--url", default=None, help="API URL (default: SQUALL_API_URL or local)")
    apply.add_argument("--project", default=None, help="default: the token's project")
    apply.set_defaults(func=_apply)

    validate = sub.add_parser("validate", help="check definitions files offline")
    validate.add_argument("files", type=Path, nargs="+")
    validate.set_defaults(func=_validate)

    from squall.cli import definitions, events, executions, replays

    executions.add_parser(sub)
    definitions.add_parsers(sub)
    events.add_parser(sub)
    replays.add_parser(sub)

    token = sub.add_parser("token", help="manage API tokens (writes to SQUALL_MONGO_URI)")
    token_sub = token.add_subparsers(metavar="ACTION")
    create = token_sub.add_parser("create", help="create a token; it is printed once")
    create.add_argument("--project", required=True)
    create.add_argument("--role", required=True, choices=["admin", "operator", "viewer"])
    create.add_argument("--description", default="")
    create.add_argument("--json", action="store_true", help="print JSON for scripts")
    create.set_defaults(func=_token_create)
    return parser


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("aiokafka").setLevel(logging.WARNING)


def _serve(settings: Settings, roles: set[str], ready: Any = None) -> int:
    from squall.roles import serve

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(settings, roles, stop, ready)

    asyncio.run(main())
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from squall.roles import ROLES

    settings = load_settings()
    _setup_logging(settings)
    roles = {r.strip() for value in args.role for r in value.split(",")}
    if "all" in roles:
        roles = set(ROLES)
    if settings.auth_disabled and "api" in roles:
        log.warning("SQUALL_AUTH_DISABLED=true: the API accepts requests without a token")
    return _serve(settings, roles)


def _dev(args: argparse.Namespace) -> int:
    from squall.embedded import embedded_servers
    from squall.roles import ROLES
    from squall.services import Services

    base = load_settings()
    data_dir = args.data_dir or base.data_dir
    _setup_logging(base)
    with embedded_servers(data_dir) as servers:
        overrides = base.model_dump() | {
            "kafka_bootstrap": servers.kafka_bootstrap,
            "mongo_uri": servers.mongo_uri,
            "auth_disabled": True,
        }
        if args.port is not None:
            overrides["http_port"] = args.port
        settings = Settings(**overrides)

        async def ready(services: Services) -> None:
            from squall.dev import announce, load_examples

            hooks = await load_examples(services, args.examples)
            announce(settings, hooks)

        return _serve(settings, set(ROLES), ready)


def _apply(args: argparse.Namespace) -> int:
    from urllib.parse import urlencode

    from squall.cli.remote import RemoteError, base_url, call, fail

    url = base_url(args.url)
    try:
        text = args.file.read_text()
    except OSError as exc:
        print(f"squall: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    query = {"filename": args.file.name} | ({"project": args.project} if args.project else {})
    try:
        report = call(url, "POST", f"/v1/apply?{urlencode(query)}", yaml_text=text)
    except RemoteError as exc:
        code = fail(exc)
        for issue in exc.details:
            print(
                f"  {issue.get('file')}:{issue.get('line')}:{issue.get('column')}: "
                f"{issue.get('path')}: {issue.get('message')}",
                file=sys.stderr,
            )
        return code
    for kind, names in sorted(report["applied"].items()):
        print(f"{kind}: {', '.join(names)}")
    for removed in report["removed"]:
        # The server names each as ``project/kind/name``.
        _, kind, name = removed.split("/", 2)
        print(f"removed {kind}: {name}")
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from squall.definitions import check_references

    failed = False
    for path in args.files:
        try:
            text = path.read_text()
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            failed = True
            continue
        try:
            definitions = load_definitions(text, str(path))
        except DefinitionError as exc:
            issues = exc.issues
        else:
            issues = check_references(definitions, str(path), text)
        for issue in issues:
            print(f"{issue.file}:{issue.line}:{issue.column}: {issue.path}: {issue.message}")
        failed = failed or bool(issues)
        if not issues:
            print(f"{path}: OK")
    return EXIT_FAILED if failed else EXIT_OK


def _token_create(args: argparse.Namespace) -> int:
    from pymongo import AsyncMongoClient
    from pymongo.errors import PyMongoError

    from squall.auth import AuthError, TokenStore

    settings = load_settings()
    if not settings.mongo_uri:
        print("squall: SQUALL_MONGO_URI is required to create a token", file=sys.stderr)
        return EXIT_USAGE

    async def create() -> tuple[str, Any]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongo_uri, tz_aware=True, serverSelectionTimeoutMS=5000
        )
        try:
            store = TokenStore(client[settings.mongo_db])
            return await store.create(args.project, args.role, args.description)
        finally:
            await client.close()

    try:
        token, info = asyncio.run(create())
    except AuthError as exc:
        print(f"squall: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PyMongoError as exc:
        print(f"squall: cannot reach MongoDB: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    if args.json:
        print(
            json.dumps({"token": token, "id": info.id, "project": info.project, "role": info.role})
        )
    else:
        print(token)
        print(
            f"token {info.id}: role {info.role} in project {info.project} "
            "(shown once; store it now)",
            file=sys.stderr,
        )
    return EXIT_OK
