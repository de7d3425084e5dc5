"""Hide secret values before inputs and results are logged or stored.

Shared by the executor (action runs), the engine (task inputs in execution documents)
and the APIs (what they show), so each part masks the same keys the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

MASK: Final = "***"

# Matched against the key lower-cased with separators removed ("X-Api-Key" -> "xapikey").
_SECRET_FRAGMENTS: Final = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "apikey",
    "privatekey",
    "accesskey",
    "authorization",
    "credential",
    "cookie",
)
# Matched against whole words, so that "author" or "max_tokens" stay visible.
_SECRET_WORDS: Final = frozenset({"auth", "token", "pwd", "pass"})

_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]+@")


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names a secret (password, token, api_key, cookie...)."""
    words = _WORD.findall(_CAMEL.sub("_", key).lower())
    joined = "".join(words)
    if any(fragment in joined for fragment in _SECRET_FRAGMENTS):
        return True
    return bool(_SECRET_WORDS.intersection(words)) or joined.endswith("token")


def mask_secrets(value: Any) -> Any:
    """Return a copy of ``value`` with secret values replaced by ``"***"``.

    Walks mappings, lists and tuples recursively; the value of any key that
    looks secret is masked whatever its type, and passwords embedded in URLs
    (``https://user:pw@host``) are masked inside strings. The input is not modified.
    """
    if isinstance(value, Mapping):
        return {
            key: (
                MASK
                if isinstance(key, str) and is_secret_key(key) and item is not None
                else mask_secrets(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    if isinstance(value, tuple):
        return tuple(mask_secrets(item) for item in value)
    if isinstance(value, str) and "@" in value:
        return _URL_PASSWORD.sub(rf"\g<scheme>\g<user>:{MASK}@", value)
    return value
