"""Finding and validating expressions without evaluating them."""

from __future__ import annotations

from typing import Any

import pytest

from engine.expressions import has_expressions, validate_expressions


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", False),
        ("<% $.x %>", True),
        ("{{ _.x }}", True),
        ("{% if true %}y{% endif %}", True),
        ("a <% $.x %> b", True),
        ({"k": ["x", {"deep": "{{ 1 }}"}]}, True),
        ({"<% $.key %>": "value"}, False),
        (["a", 1, None, {"b": 2.5}], False),
        (42, False),
        ("<% unclosed", False),
        ("{ not jinja }", False),
    ],
)
def test_has_expressions(value: Any, expected: bool) -> None:
    assert has_expressions(value) is expected


def test_valid_expressions_give_no_errors() -> None:
    value = {
        "a": "<% $.x.where($.y > 1).z %>",
        "b": ["{{ _.x | length }}", "host {{ _.h }}:{{ _.p }}"],
        "c": "{% for i in _.x %}{{ i }}{% endfor %}",
        "d": "<% task(t1).result %> and <% env().region %>",
        "e": "no expression",
    }
    assert validate_expressions(value) == []


def test_errors_quote_each_bad_expression() -> None:
    value = {
        "a": "<% $.x + %>",
        "b": ["ok <% $.y %> bad <% $.z.( %>"],
        "c": "{{ _.x + }}",
        "d": "{% if _.x %}never closed",
    }
    errors = validate_expressions(value)
    assert len(errors) == 4
    assert errors[0].startswith("Syntax error in YAQL expression [expression=$.x +, error=")
    assert "[expression=$.z.(," in errors[1]
    assert errors[2].startswith("Syntax error in Jinja expression [expression={{ _.x + }},")
    assert "never closed" in errors[3]


def test_mixing_yaql_and_jinja_in_one_string_is_refused() -> None:
    (error,) = validate_expressions("{{ _.a }} <% $.b %>")
    assert "Mixing expression types in a single line is not allowed" in error
    assert "{{ _.a }} <% $.b %>" in error


def test_same_bad_expression_reported_once_per_string() -> None:
    assert len(validate_expressions("<% 1 + %> <% 1 + %>")) == 1
