"""Mistral's expression functions, in YAQL and Jinja2, backed by the engine's runtime."""

from __future__ import annotations

import re
from typing import Any

import pytest
from expressions_fakes import EXECUTION, TASK_ONE, TASK_TWO, FakeRuntime

from engine.expressions import FUNCTION_NAMES, ExpressionError, evaluate

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.mark.parametrize(
    "expression",
    ["<% task() %>", "{{ task() }}", "<% task(create_vm) %>", "{{ task('create_vm') }}"],
)
def test_task_returns_the_named_or_current_task(expression: str, runtime: FakeRuntime) -> None:
    assert evaluate(expression, {}, runtime) == TASK_ONE


def test_task_result_and_published_are_reachable(runtime: FakeRuntime) -> None:
    assert evaluate("<% task().result.status %>", {}, runtime) == "ACTIVE"
    assert evaluate("{{ task('attach_ip').state_info }}", {}, runtime) == "quota exceeded"
    assert evaluate("<% task(create_vm).published.vm_id %>", {}, runtime) == "vm-42"


def test_task_of_unknown_name_is_null(runtime: FakeRuntime) -> None:
    assert evaluate("<% task(nope) %>", {}, runtime) is None
    assert runtime.calls == [("task", "nope")]


def test_tasks_passes_mistral_arguments(runtime: FakeRuntime) -> None:
    assert evaluate("<% tasks(execution().id, true, ERROR) %>", {}, runtime) == [TASK_TWO]
    assert ("tasks", ("wf-1", True, "ERROR", False)) in runtime.calls
    assert evaluate("<% tasks(state => SUCCESS).name %>", {}, runtime) == ["create_vm"]
    assert evaluate("{{ tasks(flat=true) | length }}", {}, runtime) == 2
    assert ("tasks", (None, False, None, True)) in runtime.calls


def test_execution_and_executions(runtime: FakeRuntime) -> None:
    assert evaluate("<% execution() %>", {}, runtime) == EXECUTION
    assert evaluate("{{ execution().input.flavor }}", {}, runtime) == "m1.small"
    assert evaluate("<% executions(id => 'wf-1').name %>", {}, runtime) == ["create_server"]
    assert evaluate("{{ executions(state='RUNNING', to_time='x') }}", {}, runtime) == [EXECUTION]
    assert ("executions", (None, None, "RUNNING", None, "x")) in runtime.calls


def test_env_and_global(runtime: FakeRuntime) -> None:
    assert evaluate("<% env().region %>", {}, runtime) == "RegionOne"
    assert evaluate("{{ env().flavors[1] }}", {}, runtime) == "m1.large"
    assert evaluate("<% global(counter) + 1 %>", {}, runtime) == 8
    assert evaluate("{{ global('counter') }}", {}, runtime) == 7
    assert evaluate("{{ global('unset') }}", {}, runtime) is None


def test_runtime_results_work_with_yaql_queries(runtime: FakeRuntime) -> None:
    expression = "<% tasks().where($.state = 'ERROR').select($.name).distinct() %>"
    assert evaluate(expression, {}, runtime) == ["attach_ip"]


def test_uuid_is_a_fresh_uuid4_each_call() -> None:
    first = evaluate("<% uuid() %>", {})
    second = evaluate("{{ uuid() }}", {})
    assert UUID.match(first) and UUID.match(second) and first != second


def test_same_expression_twice_in_one_string_gets_one_value() -> None:
    left, right = evaluate("<% uuid() %> <% uuid() %>", {}).split()
    assert left == right


@pytest.mark.parametrize("prefix", ["<% ", "{{ "])
def test_json_and_yaml_functions(prefix: str) -> None:
    suffix = " %>" if prefix == "<% " else " }}"
    data = "$.data" if prefix == "<% " else "_.data"
    context = {"data": {"a": [1, {"b": None}]}, "text": '{"x": [1, 2]}', "yml": "k: [1, 2]\n"}
    text = "$.text" if prefix == "<% " else "_.text"
    yml = "$.yml" if prefix == "<% " else "_.yml"

    def run(body: str) -> Any:
        return evaluate(prefix + body + suffix, context)

    assert run(f"json_parse({text})") == {"x": [1, 2]}
    assert run(f"yaml_parse({yml})") == {"k": [1, 2]}
    assert (
        run(f"json_dump({data})")
        == '{\n    "a": [\n        1,\n        {\n            "b": null\n        }\n    ]\n}'
    )
    assert run(f"yaml_dump({data})") == "a:\n- 1\n- b: null\n"
    assert run(f"json_pp({data})") == run(f"json_dump({data})")
    # json_pp (deprecated) dumps the whole context by default and un-escapes newlines.
    assert run("json_pp()").endswith('"yml": "k: [1, 2]\n"\n}')


def test_invalid_json_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError, match=r"json_parse\('nope'\)"):
        evaluate("<% json_parse('nope') %>", {})


@pytest.mark.parametrize("name", ["task", "tasks", "execution", "executions", "env"])
@pytest.mark.parametrize("template", ["<% {}() %>", "{{{{ {}() }}}}"])
def test_state_functions_without_runtime_fail_clearly(name: str, template: str) -> None:
    with pytest.raises(ExpressionError, match=rf"{name}\(\) needs the workflow's state"):
        evaluate(template.format(name), {})


def test_global_without_runtime_fails_clearly() -> None:
    with pytest.raises(ExpressionError, match=r"global\(\) needs the workflow's state"):
        evaluate("<% global(x) %>", {})


class _BrokenRuntime(FakeRuntime):
    def env(self) -> dict[str, Any]:
        raise ConnectionError("database is down")


@pytest.mark.parametrize("expression", ["<% env() %>", "{{ env() }}", "x {{ env() }}"])
def test_runtime_errors_propagate_unchanged(expression: str) -> None:
    with pytest.raises(ConnectionError, match="database is down"):
        evaluate(expression, {}, _BrokenRuntime())


def test_every_mistral_function_is_offered() -> None:
    assert set(FUNCTION_NAMES) == {
        "env",
        "execution",
        "executions",
        "global",
        "json_dump",
        "json_parse",
        "json_pp",
        "task",
        "tasks",
        "uuid",
        "yaml_dump",
        "yaml_parse",
    }
