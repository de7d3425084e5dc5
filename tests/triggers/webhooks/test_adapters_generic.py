"""The generic adapter: any JSON, form fields or text become one event's data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.definitions.hooks import Hook
from schemas.events import CloudEvent, decode_event
from triggers.webhooks import WebhookError, idempotency_key, to_events


def hook(**options: Any) -> Hook:
    return Hook(name="deploys", secret="s3cret-token", **options)


def send(
    body: bytes, content_type: str, headers: dict[str, str] | None = None, hook_: Hook | None = None
) -> list[CloudEvent]:
    return to_events(
        hook_ or hook(),
        body=body,
        content_type=content_type.split(";")[0],
        headers={"content-type": content_type, **(headers or {})},
    )


def refused(body: bytes, content_type: str) -> WebhookError:
    with pytest.raises(WebhookError) as info:
        send(body, content_type)
    return info.value


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=6))
def test_any_json_object_is_one_event_with_it_as_data(payload: dict[str, Any]) -> None:
    [event] = send(json.dumps(payload).encode(), "application/json")
    assert event.data == payload
    assert decode_event(event.to_bytes()).data == payload


def test_event_attributes() -> None:
    [event] = send(
        b'{"service": "api", "version": "1.4.2"}',
        "application/json",
        hook_=hook(type="deploy.finished", project="web", source="ci"),
    )
    assert (event.type, event.source, event.project) == ("deploy.finished", "ci", "web")
    assert event.subject is None
    [default] = send(b"{}", "application/json")
    assert (default.type, default.source) == ("webhook", "hooks/deploys")


def test_subject_from_header() -> None:
    [event] = send(b"{}", "application/json", {"X-Squall-Subject": "service/api"})
    assert event.subject == "service/api"
    with pytest.raises(WebhookError) as info:
        send(b"{}", "application/json", {"x-squall-subject": "s" * 2000})
    assert (info.value.status, info.value.field) == (400, "X-Squall-Subject")


def test_json_of_any_shape_and_vendor_types() -> None:
    assert send(b"[1, 2]", "application/json")[0].data == [1, 2]
    assert send(b'"hi"', "application/vnd.github+json")[0].data == "hi"


def test_form_fields_with_repeated_keys_as_lists() -> None:
    [event] = send(
        b"service=api&tag=a&tag=b&empty=&note=caf%C3%A9+au+lait",
        "application/x-www-form-urlencoded",
    )
    assert event.data == {"service": "api", "tag": ["a", "b"], "empty": "", "note": "café au lait"}


def test_plain_text_wrapped() -> None:
    assert send("déployé".encode(), "text/plain")[0].data == {"text": "déployé"}
    assert send("déployé".encode("latin-1"), "text/plain; charset=ISO-8859-1")[0].data == {
        "text": "déployé"
    }


def test_same_body_same_dedupe_key() -> None:
    a, b = send(b'{"a": 1}', "application/json"), send(b'{"a": 1}', "application/json")
    c = send(b'{"a": 2}', "application/json")
    assert a[0].dedupekey == b[0].dedupekey != c[0].dedupekey


def test_idempotency_key_only_from_the_header() -> None:
    events = send(b"{}", "application/json")
    assert idempotency_key(hook(), headers={}, events=events) is None
    assert idempotency_key(hook(), headers={"idempotency-key": "deploy-42"}, events=events) == (
        "deploy-42"
    )
    for bad in ("", " padded ", "x" * 300, "caf\u00e9"):
        with pytest.raises(WebhookError) as info:
            idempotency_key(hook(), headers={"Idempotency-Key": bad}, events=events)
        assert (info.value.status, info.value.field) == (400, "Idempotency-Key")


@pytest.mark.parametrize("content_type", ["application/xml", "application/octet-stream", ""])
def test_unsupported_content_types(content_type: str) -> None:
    err = refused(b"<a/>", content_type)
    assert (err.status, err.field) == (415, "Content-Type")
    assert "application/json" in err.message


def test_unknown_charset_unsupported() -> None:
    assert refused(b"x", "text/plain; charset=klingon").status == 415


@pytest.mark.parametrize(
    ("body", "where"),
    [(b'{"a": 1,}', "line 1, column 9"), (b"{\n\n  nope\n}", "line 3, column 3")],
)
def test_invalid_json_reports_position(body: bytes, where: str) -> None:
    err = refused(body, "application/json")
    assert (err.status, err.field) == (400, "body")
    assert where in err.message


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        (b"", "application/json", "empty"),
        (b"  \n", "text/plain", "empty"),
        (b'{"x": NaN}', "application/json", "NaN"),
        (b"[" * 101 + b"]" * 101, "application/json", "nested"),
        (b"[" * 100_000, "application/json", "nested"),
        (b"\xff\xfe\xfa", "text/plain", "utf-8"),
        (b"a=%FF", "application/x-www-form-urlencoded", "utf-8"),
    ],
)
def test_unreadable_bodies_refused(body: bytes, content_type: str, words: str) -> None:
    err = refused(body, content_type)
    assert err.status == 400
    assert words in err.message
