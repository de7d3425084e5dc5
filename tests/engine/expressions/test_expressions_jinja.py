"""Jinja2 expressions (``{{ }}``) and blocks (``{% %}``) behave as in Mistral."""

from __future__ import annotations

from typing import Any

import pytest

from engine.expressions import ExpressionError, ExpressionSyntaxError, evaluate

CONTEXT: dict[str, Any] = {
    "hostname": "web-1",
    "ip": "10.0.0.5",
    "count": 3,
    "servers": [{"name": "a", "up": True}, {"name": "b", "up": False}],
    "meta": {"env": "prod"},
    "nothing": None,
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("{{ _.hostname }}", "web-1"),
        ("{{ _.count }}", 3),
        ("{{ _.count + 1 }}", 4),
        ("{{ _.servers }}", CONTEXT["servers"]),
        ("{{ _.meta }}", {"env": "prod"}),
        ("{{ _.nothing }}", None),
        ("{{ _.servers | map(attribute='name') | list }}", ["a", "b"]),
        ("{{ _.servers | selectattr('up') | map(attribute='name') | list }}", ["a"]),
        ("{{ _.servers | length }}", 2),
        ("{{ _['meta']['env'] }}", "prod"),
        ("{{ hostname }}", "web-1"),
        ("{{ meta.env }}", "prod"),
        ("{{ _.count > 2 }}", True),
        ("{{ (1, 2) }}", [1, 2]),
        ("{{ range(3) }}", [0, 1, 2]),
        ("{{ _.servers | map(attribute='name') }}", ["a", "b"]),
        ("{{ {'a': [1, 2]} }}", {"a": [1, 2]}),
    ],
)
def test_whole_expression_gives_native_value(expression: str, expected: Any) -> None:
    assert evaluate(expression, CONTEXT) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ _.hostname }}_{{ _.ip }}", "web-1_10.0.0.5"),
        ("host: {{ hostname }}", "host: web-1"),
        ("{{ _.count }}\n", "3"),
        ("{% if _.count > 2 %}many{% else %}few{% endif %}", "many"),
        ("{% for s in _.servers %}{{ s.name }},{% endfor %}", "a,b,"),
        ("n={{ _.nothing }}", "n=None"),
        ("{{ _.servers[0] }} x", "{'name': 'a', 'up': True} x"),
        ("{{ _.meta.env }} <% $.count %>", "prod <% $.count %>"),
    ],
)
def test_templates_render_to_strings(template: str, expected: str) -> None:
    assert evaluate(template, CONTEXT) == expected


def test_nested_braces_follow_mistral_first_match_rule() -> None:
    # Mistral's pattern stops at the first "}}", so this is a template, not one expression.
    assert evaluate("{{ {'a': {'b': 1}} }}", {}) == "{'a': {'b': 1}}"


def test_functions_win_over_top_level_data_names(runtime: Any) -> None:
    context = {"task": "not a function", "value": 1}
    assert evaluate("{{ task('create_vm').result.id }}", context, runtime) == "vm-42"
    assert evaluate("{{ _.task }}", context, runtime) == "not a function"


def test_undefined_name_fails() -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate("{{ _.missing }}", CONTEXT)
    assert caught.value.expression == "{{ _.missing }}"
    assert "missing" in caught.value.cause
    assert str(caught.value).startswith("Can not evaluate Jinja expression [expression=")


def test_undefined_name_fails_in_templates_too() -> None:
    with pytest.raises(ExpressionError, match="missing"):
        evaluate("value: {{ missing }}", CONTEXT)


def test_syntax_errors_quote_the_expression() -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        evaluate("{{ _.count + }}", CONTEXT)
    assert caught.value.expression == "{{ _.count + }}"
    with pytest.raises(ExpressionSyntaxError):
        evaluate("{% if true %}unclosed", CONTEXT)


def test_data_functions_work_as_filters() -> None:
    assert evaluate("{{ _.meta | json_dump }}", CONTEXT) == '{\n    "env": "prod"\n}'
    assert evaluate("{{ '[1, 2]' | json_parse }}", CONTEXT) == [1, 2]
    assert evaluate("{{ _.meta | yaml_dump }}", CONTEXT) == "env: prod\n"


def test_nested_iterables_become_lists() -> None:
    assert evaluate("{{ [range(2), (1, 2)] }}", {}) == [[0, 1], [1, 2]]
    assert evaluate("{{ {'a': (1, 2), 'b': [3]} }}", {}) == {"a": [1, 2], "b": [3]}


def test_values_from_the_context_are_not_copied() -> None:
    big = {"rows": [{"n": n} for n in range(1000)]}
    assert evaluate("{{ _.big }}", {"big": big}) is big


def test_undefined_inside_a_result_fails() -> None:
    with pytest.raises(ExpressionError, match="missing"):
        evaluate("{{ [1, _.missing] }}", CONTEXT)
