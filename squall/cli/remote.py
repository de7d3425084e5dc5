"""Talking to a running Squall's API from the command line: URL, token, errors, tables."""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
#: A 404 gets its own exit code so scripts can tell "no such thing" from other failures.
EXIT_NOT_FOUND = 4
#: ``execution watch``: the execution was cancelled (ERROR is ``EXIT_FAILED``).
EXIT_CANCELLED = 5
#: What ``squall --help`` says of the exit codes: scripts rely on them.
EXIT_CODES = (
    "exit codes: 0 done; 1 refused or failed (a watched execution ended in ERROR); "
    "2 bad usage or input; 3 the API or MongoDB is unreachable; 4 not found; "
    "5 a watched execution was cancelled"
)


class RemoteError(Exception):
    """A request failed; ``code`` is the exit code the CLI returns."""

    def __init__(
        self, message: str, code: int, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        #: Per-problem entries of a refused definitions file (file, line, column, path).
        self.details = details or []


def base_url(given: str | None) -> str:
    """The API URL: ``--url``, else ``SQUALL_API_URL``, else the local default port."""
    if given:
        return given.rstrip("/")
    if os.environ.get("SQUALL_API_URL"):
        return os.environ["SQUALL_API_URL"].rstrip("/")
    from squall.settings import load_settings

    settings = load_settings()
    return f"http://{settings.http_host}:{settings.http_port}"


def headers(content_type: str = "application/json") -> dict[str, str]:
    """Request headers, with the token from ``SQUALL_TOKEN`` when it is set."""
    found = {"Content-Type": content_type}
    token = os.environ.get("SQUALL_TOKEN")
    if token:
        found["Authorization"] = f"Bearer {token}"
    return found


def call(
    url: str, method: str, path: str, body: Any = None, *, yaml_text: str | None = None
) -> Any:
    """One request with the token from ``SQUALL_TOKEN``: ``body`` sent as JSON, or
    ``yaml_text`` as YAML; the JSON answer. Raises RemoteError."""
    if yaml_text is not None:
        data: bytes | None = yaml_text.encode()
        sent = headers("application/yaml")
    else:
        data = json.dumps(body).encode() if body is not None else None
        sent = headers()
    request = urllib.request.Request(url + path, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        try:
            payload = json.load(exc)
        except ValueError:
            payload = {}
        message = payload.get("message") or payload.get("faultstring") or exc.reason
        code = EXIT_NOT_FOUND if exc.code == 404 else EXIT_FAILED
        details = payload.get("details") if isinstance(payload.get("details"), list) else None
        raise RemoteError(f"{message} (HTTP {exc.code})", code, details) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RemoteError(f"cannot reach the API at {url}: {reason}", EXIT_UNREACHABLE) from None
    return json.loads(raw) if raw else None


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A plain text table of ``columns`` for humans."""
    cells = [[str(row.get(c) if row.get(c) is not None else "") for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def emit(value: Any, as_json: bool, columns: list[str]) -> None:
    """Print ``value`` (one item or a list) as JSON or as a table."""
    if as_json:
        print(json.dumps(value, indent=2, default=str))
        return
    rows = value if isinstance(value, list) else [value]
    print(table(rows, columns))


def fail(exc: RemoteError) -> int:
    """Report ``exc`` on stderr; return its exit code."""
    print(f"squall: {exc}", file=sys.stderr)
    return exc.code
