"""mask_secrets hides secret values in logged and stored inputs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actions.catalogue import MASK, is_secret_key, mask_secrets


def test_masks_nested_secrets_in_action_inputs() -> None:
    inputs = {
        "url": "https://api.example.com",
        "auth": ["alice", "s3cret"],
        "headers": {"Authorization": "Bearer abc", "X-Api-Key": "k", "Accept": "json"},
        "smtp_password": "pw",
        "servers": [{"name": "web", "adminPass": "x", "private_key": "-----BEGIN"}],
        "cookies": {"session": "v"},
        "author": "bob",
        "max_tokens": 5,
        "access_token": "t",
    }
    masked = mask_secrets(inputs)
    assert masked == {
        "url": "https://api.example.com",
        "auth": MASK,
        "headers": {"Authorization": MASK, "X-Api-Key": MASK, "Accept": "json"},
        "smtp_password": MASK,
        "servers": [{"name": "web", "adminPass": MASK, "private_key": MASK}],
        "cookies": MASK,
        "author": "bob",
        "max_tokens": 5,
        "access_token": MASK,
    }
    assert inputs["smtp_password"] == "pw", "the input itself is left untouched"


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apiKey",
        "private_key",
        "Cookie",
        "Set-Cookie",
        "X-Auth-Token",
        "client_secret",
        "passphrase",
        "credentials",
    ],
)
def test_secret_key_names(key: str) -> None:
    assert mask_secrets({key: "value"}) == {key: MASK}


def test_url_passwords_are_masked() -> None:
    assert mask_secrets("amqp://guest:hunter2@rabbit:5672/") == "amqp://guest:***@rabbit:5672/"
    assert mask_secrets("mail me at ops@example.com") == "mail me at ops@example.com"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


_keys = st.sampled_from(["name", "password", "Api-Key", "count", "token", "note"])
_tree = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=20,
)


def _secret_values(value: Any) -> list[Any]:
    """Every value found under a secret-looking key, at any depth."""
    found: list[Any] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if is_secret_key(key):
                found.append(item)
            found.extend(_secret_values(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_secret_values(item))
    return found


@given(_tree)
def test_every_value_under_a_secret_key_is_masked(tree: Any) -> None:
    assert all(v in (MASK, None) for v in _secret_values(mask_secrets(tree)))


@given(_json)
def test_masking_is_idempotent_and_keeps_shape(tree: Any) -> None:
    once = mask_secrets(tree)
    assert mask_secrets(once) == once
    assert type(once) is type(tree)
