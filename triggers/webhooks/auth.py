"""Checking a delivery's secret: a token (query, Bearer or Basic) or an HMAC signature.

Every comparison runs in constant time, and no message repeats what the caller sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

from schemas.definitions.hooks import Hook
from triggers.webhooks.delivery import lower_keys
from triggers.webhooks.errors import Unauthorized

TOKEN_PARAM = "token"
#: Unix seconds fit in 11 digits until the year 5138; longer is not a timestamp.
_MAX_TIMESTAMP_DIGITS = 12


def authenticate(
    hook: Hook, *, headers: Mapping[str, str], query: Mapping[str, str], body: bytes
) -> None:
    """Raise Unauthorized (401) unless the delivery carries the hook's secret.

    ``auth: token`` accepts the secret as ``?token=…``, as ``Authorization: Bearer …``,
    or as the password of ``Authorization: Basic …`` (the user name is ignored), which
    is what Alertmanager's and Grafana's ``basic_auth`` settings send.
    ``auth: hmac`` wants the hex HMAC-SHA256 of the raw body, keyed with the secret,
    in ``hook.signature_header`` after ``hook.signature_prefix``. With
    ``hook.timestamp_header`` the signed message is ``<timestamp>:<body>`` (as Grafana
    signs it), and a timestamp more than ``hook.timestamp_tolerance`` seconds from now
    is refused.
    """
    secret = hook.secret.get_secret_value().encode()
    lowered = lower_keys(headers)
    if hook.auth == "hmac":
        _check_signature(hook, lowered, body, secret)
    else:
        _check_token(lowered, query, secret)


def _check_token(headers: Mapping[str, str], query: Mapping[str, str], secret: bytes) -> None:
    presented: list[tuple[str, bytes]] = []
    if TOKEN_PARAM in query:
        presented.append((TOKEN_PARAM, _bytes(query[TOKEN_PARAM])))
    if "authorization" in headers:
        presented.append(("Authorization", _credential(headers["authorization"])))
    if not presented:
        raise Unauthorized(
            "missing credentials: send the hook's secret as ?token=…, "
            "as 'Authorization: Bearer …', or as the password of Basic auth",
            "Authorization",
        )
    # Compare every credential presented, so the time taken does not depend on which matched.
    matched = [hmac.compare_digest(value, secret) for _, value in presented]
    if not any(matched):
        raise Unauthorized(
            f"the {presented[0][0]} credential does not match this hook's secret",
            presented[0][0],
        )


def _credential(authorization: str) -> bytes:
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return _bytes(value)
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise Unauthorized(
                "malformed Basic credentials: expected base64 of 'user:password'",
                "Authorization",
            ) from None
        _, colon, password = decoded.partition(b":")
        if not colon:
            raise Unauthorized(
                "malformed Basic credentials: expected base64 of 'user:password'",
                "Authorization",
            )
        return password
    raise Unauthorized(
        "unsupported Authorization header: expected 'Bearer <secret>' or "
        "'Basic <base64 of user:secret>'",
        "Authorization",
    )


def _check_signature(hook: Hook, headers: Mapping[str, str], body: bytes, secret: bytes) -> None:
    name = hook.signature_header
    value = headers.get(name.lower())
    if value is None:
        raise Unauthorized(f"missing signature header {name}", name)
    value = value.strip()
    prefix = hook.signature_prefix
    if value[: len(prefix)].lower() != prefix.lower():
        raise Unauthorized(f"the signature in {name} must start with '{prefix}'", name)
    signed, what = body, "the raw body"
    stamp = hook.timestamp_header
    timestamp = None
    if stamp is not None:
        timestamp = _timestamp(stamp, headers)
        signed = timestamp.encode() + b":" + body
        what = f"'<{stamp}>:' followed by the raw body"
    expected = hmac.new(secret, signed, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(_bytes(value[len(prefix) :].lower()), expected):
        raise Unauthorized(
            f"the signature in {name} does not match the body: expected '{prefix}' followed "
            f"by the hex HMAC-SHA256 of {what}, keyed with the hook's secret",
            name,
        )
    # Only a correctly signed delivery learns how far its clock is from ours.
    if stamp is not None and timestamp is not None:
        _check_fresh(stamp, int(timestamp), hook.timestamp_tolerance)


def _timestamp(header: str, headers: Mapping[str, str]) -> str:
    """The timestamp as sent (it is signed as written), once known to be Unix seconds."""
    raw = headers.get(header.lower())
    if raw is None:
        raise Unauthorized(f"missing timestamp header {header}", header)
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= _MAX_TIMESTAMP_DIGITS):
        raise Unauthorized(f"the timestamp in {header} must be Unix time in whole seconds", header)
    return raw


def _check_fresh(header: str, timestamp: int, tolerance: int) -> None:
    skew = int(time.time()) - timestamp
    if abs(skew) > tolerance:
        when = f"{skew} s old" if skew > 0 else f"{-skew} s in the future"
        raise Unauthorized(
            f"the timestamp in {header} is {when}; at most {tolerance} s either way is "
            "accepted, so that a captured request cannot be replayed",
            header,
        )


def _bytes(text: str) -> bytes:
    # Header values may carry any byte; compare them as bytes, never fail on encoding.
    return text.encode("utf-8", "surrogatepass")
