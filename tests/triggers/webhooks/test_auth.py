"""Webhook authentication: token (query, Bearer, Basic) and HMAC signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

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
