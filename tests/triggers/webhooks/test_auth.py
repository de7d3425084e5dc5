"""Webhook authentication: token (query, Bearer, Basic) and HMAC signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.definitions.hooks import Hook
from triggers.webhooks import WebhookError, authenticate

SECRET = "correct-horse-battery"
BODY = b'{"version":"4","alerts":[]}'


def token_hook() -> Hook:
    return Hook(name="alerts", secret=SECRET)


def hmac_hook(**options: str) -> Hook:
    return Hook(name="signed", secret=SECRET, auth="hmac", **options)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def signature(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def refused(
    hook: Hook,
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: bytes = BODY,
) -> WebhookError:
    with pytest.raises(WebhookError) as info:
        authenticate(hook, headers=headers or {}, query=query or {}, body=body)
    assert info.value.status == 401
    return info.value


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({}, {"token": SECRET}),
        ({"authorization": f"Bearer {SECRET}"}, {}),
        ({"Authorization": f"bearer {SECRET}"}, {}),
        ({"authorization": basic("alertmanager", SECRET)}, {}),
        ({"authorization": basic("", SECRET)}, {}),
    ],
    ids=["query", "bearer", "bearer-any-case", "basic", "basic-no-user"],
)
def test_token_accepted_wherever_senders_can_put_it(
    headers: dict[str, str], query: dict[str, str]
) -> None:
    authenticate(token_hook(), headers=headers, query=query, body=BODY)


@pytest.mark.parametrize(
    ("headers", "query", "field"),
    [
        ({}, {"token": "wrong-token-value"}, "token"),
        ({"authorization": "Bearer wrong-token-value"}, {}, "Authorization"),
        ({"authorization": basic(SECRET, "wrong-token-value")}, {}, "Authorization"),
    ],
    ids=["query", "bearer", "basic-secret-as-user"],
)
def test_wrong_token_refused_without_echoing_it(
    headers: dict[str, str], query: dict[str, str], field: str
) -> None:
    err = refused(token_hook(), headers=headers, query=query)
    assert err.field == field
    assert "wrong-token-value" not in err.message
    assert SECRET not in err.message


def test_missing_token_says_where_to_put_it() -> None:
    err = refused(token_hook())
    assert "?token=" in err.message
    assert "Bearer" in err.message
    assert SECRET not in err.message


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Digest abc",
        "Bearer",
    ],
)
def test_malformed_authorization_refused(authorization: str) -> None:
    err = refused(token_hook(), headers={"authorization": authorization})
    assert err.field == "Authorization"


def test_hmac_signature_of_the_raw_body_accepted() -> None:
    authenticate(
        hmac_hook(),
        headers={"X-Hub-Signature-256": "sha256=" + signature(BODY)},
        query={},
        body=BODY,
    )


def test_hmac_header_name_and_hex_case_do_not_matter() -> None:
    authenticate(
        hmac_hook(),
        headers={"x-hub-signature-256": "sha256=" + signature(BODY).upper()},
        query={},
        body=BODY,
    )


def test_grafana_style_signature_without_prefix() -> None:
    hook = Hook.model_validate(
        {
            "name": "grafana",
            "secret": SECRET,
            "auth": "hmac",
            "signature-header": "X-Grafana-Alerting-Signature",
            "signature-prefix": "",
        }
    )
    authenticate(
        hook, headers={"x-grafana-alerting-signature": signature(BODY)}, query={}, body=BODY
    )


def test_hmac_signature_of_another_body_refused() -> None:
    err = refused(hmac_hook(), headers={"x-hub-signature-256": "sha256=" + signature(b"{}")})
    assert err.field == "X-Hub-Signature-256"
    assert "does not match" in err.message


def test_hmac_signature_with_another_secret_refused() -> None:
    refused(
        hmac_hook(), headers={"x-hub-signature-256": "sha256=" + signature(BODY, "other-secret")}
    )


def test_hmac_missing_header_named() -> None:
    err = refused(hmac_hook(), query={"token": SECRET})
    assert err.field == "X-Hub-Signature-256"
    assert "missing" in err.message


def test_hmac_wrong_prefix_named() -> None:
    err = refused(hmac_hook(), headers={"x-hub-signature-256": "sha1=" + signature(BODY)})
    assert "'sha256='" in err.message


def test_hmac_custom_header_and_prefix() -> None:
    hook = hmac_hook(**{"signature-header": "X-Signature", "signature-prefix": "v1="})
    authenticate(hook, headers={"x-signature": "v1=" + signature(BODY)}, query={}, body=BODY)
    err = refused(hook, headers={"x-hub-signature-256": "sha256=" + signature(BODY)})
    assert err.field == "X-Signature"


def test_non_ascii_credentials_refused_not_crashing() -> None:
    refused(token_hook(), headers={"authorization": "Bearer sécret\udcff"})
    refused(hmac_hook(), headers={"x-hub-signature-256": "sha256=é\udcff"})


GRAFANA_SIGNATURE = "X-Grafana-Alerting-Signature"
GRAFANA_TIMESTAMP = "X-Grafana-Alerting-Timestamp"


def grafana_hook(tolerance: int = 300) -> Hook:
    return Hook.model_validate(
        {
            "name": "grafana",
            "adapter": "grafana",
            "secret": SECRET,
            "auth": "hmac",
            "signature-header": GRAFANA_SIGNATURE,
            "signature-prefix": "",
            "timestamp-header": GRAFANA_TIMESTAMP,
            "timestamp-tolerance": tolerance,
        }
    )


def grafana_headers(
    body: bytes = BODY, at: int | None = None, secret: str = SECRET
) -> dict[str, str]:
    """Headers as Grafana's webhook contact point sends them: it signs '<unix seconds>:<body>'."""
    stamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret.encode(), stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {GRAFANA_SIGNATURE: digest, GRAFANA_TIMESTAMP: stamp}


def test_grafana_signature_with_timestamp_accepted() -> None:
    authenticate(grafana_hook(), headers=grafana_headers(), query={}, body=BODY)


def test_timestamped_hook_refuses_a_signature_of_the_body_alone() -> None:
    headers = {GRAFANA_SIGNATURE: signature(BODY), GRAFANA_TIMESTAMP: str(int(time.time()))}
    err = refused(grafana_hook(), headers=headers)
    assert err.field == GRAFANA_SIGNATURE
    assert f"'<{GRAFANA_TIMESTAMP}>:' followed by the raw body" in err.message


def test_a_changed_timestamp_breaks_the_signature() -> None:
    headers = grafana_headers()
    headers[GRAFANA_TIMESTAMP] = str(int(headers[GRAFANA_TIMESTAMP]) + 1)
    err = refused(grafana_hook(), headers=headers)
    assert err.field == GRAFANA_SIGNATURE and "does not match" in err.message


def test_missing_timestamp_header_named() -> None:
    headers = grafana_headers()
    del headers[GRAFANA_TIMESTAMP]
    err = refused(grafana_hook(), headers=headers)
    assert err.field == GRAFANA_TIMESTAMP
    assert err.message == f"missing timestamp header {GRAFANA_TIMESTAMP}"


@pytest.mark.parametrize("stamp", ["", "soon", "-5", "1.5", "1" * 40, "١٢٣"])
def test_a_timestamp_that_is_not_unix_seconds_refused(stamp: str) -> None:
    headers = {**grafana_headers(), GRAFANA_TIMESTAMP: stamp}
    err = refused(grafana_hook(), headers=headers)
    assert err.field == GRAFANA_TIMESTAMP and "Unix time in whole seconds" in err.message


def test_a_replayed_request_is_refused_with_its_age() -> None:
    err = refused(grafana_hook(), headers=grafana_headers(at=int(time.time()) - 3600))
    assert err.field == GRAFANA_TIMESTAMP
    assert "s old" in err.message and "at most 300 s" in err.message


def test_a_request_from_the_future_is_refused() -> None:
    err = refused(grafana_hook(), headers=grafana_headers(at=int(time.time()) + 3600))
    assert "in the future" in err.message


def test_a_stale_request_with_a_wrong_signature_hears_only_about_the_signature() -> None:
    headers = grafana_headers(at=int(time.time()) - 3600, secret="other-secret")
    err = refused(grafana_hook(), headers=headers)
    assert err.field == GRAFANA_SIGNATURE and "old" not in err.message


@settings(max_examples=50, deadline=None)
@given(skew=st.integers(min_value=-10_000, max_value=10_000))
def test_only_timestamps_within_the_tolerance_are_accepted(skew: int) -> None:
    tolerance = 120
    # A second of margin either side: the clock may tick between signing and checking.
    if abs(skew) in range(tolerance - 1, tolerance + 2):
        return
    headers = grafana_headers(at=int(time.time()) - skew)
    if abs(skew) < tolerance:
        authenticate(grafana_hook(tolerance), headers=headers, query={}, body=BODY)
    else:
        assert refused(grafana_hook(tolerance), headers=headers).field == GRAFANA_TIMESTAMP


def test_a_timestamp_header_needs_hmac_auth() -> None:
    with pytest.raises(ValidationError, match="timestamp-header"):
        Hook.model_validate({"name": "h", "secret": SECRET, "timestamp-header": "X-Time"})
