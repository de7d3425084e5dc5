"""YAQL expressions (``<% %>``) behave as in Mistral."""

from __future__ import annotations

from typing import Any

import pytest

from engine.expressions import (
    ExpressionError,
    ExpressionEvaluator,
    ExpressionSyntaxError,
    evaluate,
)

CONTEXT: dict[str, Any] = {
    "vm_name": "web-1",
    "count": 3,
    "ready": True,
    "nothing": None,
    "vms": [
        {"id": "a", "status": "ACTIVE", "cores": 2},
        {"id": "b", "status": "ERROR", "cores": 4},
        {"id": "c", "status": "ERROR", "cores": 8},
    ],
    "meta": {"env": "prod", "tags": ["x", "y"]},
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("<% $.vm_name %>", "web-1"),
        ("<% $.count %>", 3),
        ("<% $.ready %>", True),
        ("<% $.nothing %>", None),
        ("<% $.meta %>", {"env": "prod", "tags": ["x", "y"]}),
        ("<% $.meta.tags %>", ["x", "y"]),
        ("<% $.vms.where($.status = 'ERROR').id %>", ["b", "c"]),
        ("<% $.vms.select($.cores).sum() %>", 14),
        ("<% $.vms.len() %>", 3),
        ("<% $.count * 2 + 1 %>", 7),
        ("<% $.vm_name + '-backup' %>", "web-1-backup"),
        ("<% dict(a => 1, b => $.count) %>", {"a": 1, "b": 3}),
        ("<% list(1, 2).toSet().len() %>", 2),
        ("<%$.count%>", 3),
        ("<% let(x => $.count) -> $x * $x %>", 9),
        ("<% $.vms.first().id %>", "a"),
        ("<% $.meta.tags.contains('y') %>", True),
    ],
)
def test_whole_expression_gives_native_value(expression: str, expected: Any) -> None:
    assert evaluate(expression, CONTEXT) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("VM <% $.vm_name %> has <% $.count %> disks", "VM web-1 has 3 disks"),
        (" <% $.count %>", " 3"),
        ("<% $.count %> and <% $.count %>", "3 and 3"),
        ("flag=<% $.ready %>", "flag=True"),
        ("none=<% $.nothing %>", "none=None"),
        ("tags=<% $.meta.tags %>", "tags=['x', 'y']"),
        ("<% $.vm_name %><% $.count %>", "web-13"),
    ],
)
def test_text_with_expressions_is_interpolated_like_python_str(
    template: str, expected: str
) -> None:
    assert evaluate(template, CONTEXT) == expected


def test_expressions_are_evaluated_inside_dicts_and_lists_but_not_keys() -> None:
    value = {
        "<% $.vm_name %>": "<% $.count %>",
        "nested": [{"deep": "<% $.meta.env %>"}, "plain", 5, None],
    }
    assert evaluate(value, CONTEXT) == {
        "<% $.vm_name %>": 3,
        "nested": [{"deep": "prod"}, "plain", 5, None],
    }


def test_input_value_is_not_modified() -> None:
    value = {"a": ["<% $.count %>"]}
    evaluate(value, CONTEXT)
    assert value == {"a": ["<% $.count %>"]}


def test_multiline_expression_is_not_an_expression_as_in_mistral() -> None:
    text = "<% $.count\n %>"
    assert evaluate(text, CONTEXT) == text


def test_missing_key_fails_with_mistral_like_message() -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate("<% $.missing.key %>", CONTEXT)
    error = caught.value
    assert error.expression == "$.missing.key"
    assert "'missing'" in error.cause
    assert str(error).startswith("Can not evaluate YAQL expression [expression=$.missing.key,")


def test_type_error_names_the_operator() -> None:
    with pytest.raises(ExpressionError, match=r"operator_\+"):
        evaluate("<% $.vm_name + 1 %>", CONTEXT)


def test_syntax_error_is_reported_as_such() -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        evaluate("size: <% $.count + %>", CONTEXT)
    assert caught.value.expression == "$.count +"
    assert "Parse error" in caught.value.cause


def test_bare_words_are_strings_as_in_mistral_docs(runtime: Any) -> None:
    assert evaluate("<% task(create_vm).result.id %>", {}, runtime) == "vm-42"


def test_sets_and_tuples_come_back_as_lists(evaluator: ExpressionEvaluator) -> None:
    assert evaluator.evaluate("<% set(1, 2) %>", {}) in ([1, 2], [2, 1])
    assert evaluator.evaluate("<% $.meta.tags.toList() %>", CONTEXT) == ["x", "y"]


def test_whole_context_is_dollar() -> None:
    assert evaluate("<% $ %>", {"a": [1, {"b": 2}]}) == {"a": [1, {"b": 2}]}
    assert evaluate("<% $.keys() %>", {"a": 1, "b": 2}) == ["a", "b"]
    assert evaluate("<% [$, $].distinct().len() %>", {"a": [1]}) == 1
