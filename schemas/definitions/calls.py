"""Mistral's inline call syntax: ``std.echo output="Hello" count=2``.

Used by ``action:``/``workflow:`` in tasks, ``base:`` in ad-hoc actions, engine commands
in transitions (``fail msg=<% $.why %>`` or ``fail(msg="why")``) and one-line ``retry:``.
Values follow Mistral: quotes are stripped (no escapes), expressions stay strings,
``[…]``, numbers, ``true``, ``false`` and ``null`` are read as JSON. A bare word that is
not JSON is kept as a string (Mistral silently drops it).
"""

from __future__ import annotations

import json
import re
from typing import Any

_KEY = re.compile(r"[-\w]+")
_CLOSERS = {'"': '"', "'": "'", "<%": "%>", "{{": "}}", "{%": "%}"}


def parse_action_call(text: str) -> tuple[str, dict[str, Any]]:
    """Split ``"std.echo output='x' n=1"`` into ``("std.echo", {"output": "x", "n": 1})``.

    The name may itself be an expression (``<% $.action %> x=1``). Raises ``ValueError``
    with a readable reason if the text is not a name followed by ``key=value`` pairs.
    """
    text = text.strip()
    if not text:
        raise ValueError("expected a name, got an empty string")
    name, rest = _split_name(text)
    if "=" in name:
        raise ValueError(f"expected a name before the parameters, got {text!r}")
    rest = rest.strip()
    if rest.startswith("("):
        if not rest.endswith(")"):
            raise ValueError(f"unbalanced parenthesis in {text!r}")
        return name, parse_params(rest[1:-1], separators=" \t\n,")
    return name, parse_params(rest)


def parse_params(text: str, *, separators: str = " \t\n") -> dict[str, Any]:
    """Read ``key=value`` pairs separated by whitespace (or ``separators``)."""
    params: dict[str, Any] = {}
    pos = 0
    while True:
        while pos < len(text) and text[pos] in separators:
            pos += 1
        if pos >= len(text):
            return params
        key = _KEY.match(text, pos)
        if key is None or not text.startswith("=", key.end()):
            raise ValueError(f"expected key=value at {text[pos : pos + 20]!r}")
        value, pos = _read_value(text, key.end() + 1, separators)
        params[key.group()] = value


def _split_name(text: str) -> tuple[str, str]:
    for opener in ("<%", "{{"):
        if text.startswith(opener):
            end = text.find(_CLOSERS[opener], len(opener))
            if end < 0:
                raise ValueError(f"unclosed {opener!r} in {text!r}")
            cut = end + len(_CLOSERS[opener])
            return text[:cut], text[cut:]
    match = re.match(r"[^\s(]+", text)
    assert match is not None  # text is stripped and non-empty
    return match.group(), text[match.end() :]


def _read_value(text: str, pos: int, separators: str) -> tuple[Any, int]:
    for opener, closer in _CLOSERS.items():
        if text.startswith(opener, pos):
            end = text.find(closer, pos + len(opener))
            if end < 0:
                raise ValueError(f"unclosed {opener!r} in {text[pos : pos + 20]!r}")
            raw = text[pos : end + len(closer)]
            return (raw[1:-1] if opener in ('"', "'") else raw), end + len(closer)
    if text.startswith("[", pos):
        end = _bracket_end(text, pos)
        raw = text[pos:end]
        return _json_or_text(raw), end
    end = pos
    while end < len(text) and text[end] not in separators:
        end += 1
    if end == pos:
        raise ValueError(f"missing value after {text[:pos]!r}")
    return _json_or_text(text[pos:end]), end


def _bracket_end(text: str, pos: int) -> int:
    depth = 0
    quote = ""
    for i in range(pos, len(text)):
        char = text[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return i + 1
    raise ValueError(f"unclosed '[' in {text[pos : pos + 20]!r}")


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw
