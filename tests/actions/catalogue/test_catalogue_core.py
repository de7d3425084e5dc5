"""The catalogue itself: listing, validation, timeouts, failures and the small std actions."""

from __future__ import annotations

import sys
import textwrap
import time
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from actions.catalogue import (
    Action,
    ActionCatalogue,
    ActionContext,
    ActionFailed,
    ActionInput,
    ActionOutcome,
    DuplicateAction,
    InvalidActionDefinition,
    InvalidActionInput,
    UnknownAction,
)
from schemas import ActionRequest

CTX = ActionContext(execution_id="ex-1", task_id="t-1", action_execution_id="ae-1")


@pytest.fixture(scope="module")
def catalogue() -> ActionCatalogue:
    return ActionCatalogue.default()


def test_listing_shows_mistral_signatures(catalogue: ActionCatalogue) -> None:
    infos = {info.name: info for info in catalogue.list()}
    assert {
        "std.noop",
        "std.async_noop",
        "std.echo",
        "std.fail",
        "std.sleep",
        "std.http",
        "std.mistral_http",
        "std.email",
        "std.ssh",
    } <= set(infos)
    assert infos["std.echo"].input == "output, delay=0"
    assert infos["std.http"].input.startswith(
        'url, method="GET", params=null, body=null, json=null, headers=null'
    )
    assert infos["std.ssh"].input.startswith(
        'cmd, host, username, password="", private_key_filename=null, private_key=null'
    )
    assert infos["std.email"].input.startswith("from_addr, to_addrs, smtp_server, reply_to=null")
    assert infos["std.noop"].input == ""
    assert infos["std.async_noop"].is_async and infos["std.mistral_http"].is_async
    assert not infos["std.http"].is_async
    assert all(info.description for info in infos.values())


async def test_echo_returns_its_output(catalogue: ActionCatalogue) -> None:
    out = await catalogue.run("std.echo", {"output": {"a": [1, 2]}}, CTX)
    assert out == ActionOutcome(state="SUCCESS", output={"a": [1, 2]})


async def test_noop_returns_null(catalogue: ActionCatalogue) -> None:
    assert await catalogue.run("std.noop", {}, CTX) == ActionOutcome.success(None)


async def test_async_noop_reports_no_result_now(catalogue: ActionCatalogue) -> None:
    out = await catalogue.run("std.async_noop", {}, CTX)
    assert out.is_async and out.state == "SUCCESS" and out.output is None


async def test_fail_without_data_uses_mistrals_message(catalogue: ActionCatalogue) -> None:
    out = await catalogue.run("std.fail", {}, CTX)
    assert out.state == "ERROR"
    assert out.error == "Fail action expected exception."


async def test_fail_with_error_data_returns_it_as_error_result(catalogue: ActionCatalogue) -> None:
    out = await catalogue.run("std.fail", {"error_data": {"code": 42}}, CTX)
    assert out.state == "ERROR"
    assert out.output == {"code": 42}
    assert out.error is not None and "42" in out.error


async def test_unknown_action_is_a_clear_error(catalogue: ActionCatalogue) -> None:
    out = await catalogue.run("std.ecko", {}, CTX)
    assert out.state == "ERROR"
    assert out.error is not None
    assert "Unknown action 'std.ecko'" in out.error and "std.echo" in out.error
    with pytest.raises(UnknownAction):
        catalogue.get("nope")


@pytest.mark.parametrize(
    ("name", "inputs", "expected_bits"),
    [
        ("std.echo", {}, ["'output'", "Field required"]),
        ("std.echo", {"output": 1, "delay": "soon"}, ["'delay'", "float", "'soon'"]),
        ("std.echo", {"output": 1, "colour": "red"}, ["'colour'", "one of: output, delay"]),
        ("std.sleep", {"seconds": -1}, ["'seconds'", "greater than or equal to 0"]),
        ("std.http", {"url": "http://x", "timeout": "abc"}, ["'timeout'", "float"]),
        ("std.http", {"url": "http://x", "auth": "nocolon"}, ["'auth'", "user:password"]),
    ],
)
async def test_bad_input_names_the_field_and_expected_type(
    catalogue: ActionCatalogue, name: str, inputs: dict[str, Any], expected_bits: list[str]
) -> None:
    out = await catalogue.run(name, inputs, CTX)
    assert out.state == "ERROR"
    assert out.error is not None
    assert out.error.startswith(f"Invalid input for action '{name}'")
    for bit in expected_bits:
        assert bit in out.error
    with pytest.raises(InvalidActionInput) as info:
        catalogue.validate_input(name, inputs)
    assert info.value.issues


async def test_timeout_stops_a_slow_action(catalogue: ActionCatalogue) -> None:
    started = time.monotonic()
    out = await catalogue.run("std.sleep", {"seconds": 5}, CTX, timeout_s=0.1)
    assert time.monotonic() - started < 2
    assert out == ActionOutcome.failure("Action 'std.sleep' timed out after 0.1 s")


async def test_echo_delay_waits(catalogue: ActionCatalogue) -> None:
    started = time.monotonic()
    out = await catalogue.run("std.echo", {"output": "x", "delay": 0.05}, CTX, timeout_s=5)
    assert out.output == "x" and time.monotonic() - started >= 0.05


class _BoomInput(ActionInput):
    what: str = "boom"


class _BoomAction(Action[_BoomInput]):
    """Raise an unexpected exception."""

    name = "test.boom"
    input_model = _BoomInput

    async def run(self, params: _BoomInput, ctx: ActionContext) -> Any:
        raise KeyError(params.what)


async def test_unexpected_exception_becomes_a_message_without_traceback() -> None:
    cat = ActionCatalogue([_BoomAction()])
    out = await cat.run("test.boom", {"what": "missing-key"}, CTX)
    assert out.state == "ERROR"
    assert out.error == "Action 'test.boom' failed: KeyError: 'missing-key'"
    assert "Traceback" not in (out.error or "")


def test_register_refuses_duplicates_and_non_actions() -> None:
    cat = ActionCatalogue([_BoomAction()])
    with pytest.raises(DuplicateAction):
        cat.register(_BoomAction())
    with pytest.raises(InvalidActionDefinition):
        cat.register(object())  # type: ignore[arg-type]


def test_context_from_request() -> None:
    req = ActionRequest(
        action_execution_id="ae",
        execution_id="ex",
        task_id="t",
        task_name="tn",
        workflow_name="wf",
        project="p",
        action="std.noop",
    )
    ctx = ActionContext.from_request(req)
    assert (ctx.execution_id, ctx.task_name, ctx.workflow_name, ctx.project) == (
        "ex",
        "tn",
        "wf",
        "p",
    )


_PLUGIN = '''
from typing import Any
from actions.catalogue import Action, ActionContext, ActionInput


class GreetInput(ActionInput):
    who: str
    punctuation: str = "!"


class GreetAction(Action[GreetInput]):
    """Greet someone."""

    name = "acme.greet"
    input_model = GreetInput

    async def run(self, params: GreetInput, ctx: ActionContext) -> Any:
        return f"hello {params.who}{params.punctuation} from {ctx.workflow_name}"


NOT_AN_ACTION = 42
'''


@pytest.fixture
def fake_distribution(tmp_path: Path) -> Iterator[str]:
    """An installed-looking distribution publishing actions under squall.actions."""
    module = "squall_test_plugin_acme"
    (tmp_path / f"{module}.py").write_text(_PLUGIN)
    dist = tmp_path / "squall_test_plugin_acme-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: squall-test-plugin-acme\n")
    (dist / "entry_points.txt").write_text(
        textwrap.dedent(f"""
        [squall.actions]
        acme.greet = {module}:GreetAction
        acme.broken = {module}:NOT_AN_ACTION
        """)
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield module
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(module, None)


async def test_entry_point_actions_are_loaded_and_runnable(fake_distribution: str) -> None:
    cat = ActionCatalogue.default()
    info = next(i for i in cat.list() if i.name == "acme.greet")
    assert info.input == 'who, punctuation="!"'
    assert info.description == "Greet someone."
    ctx = CTX.model_copy(update={"workflow_name": "wf"})
    out = await cat.run("acme.greet", {"who": "ops"}, ctx)
    assert out.output == "hello ops! from wf"
    assert "acme.broken" not in cat and "acme.broken" in cat.load_errors


async def test_registration_function_used_by_the_loader(fake_distribution: str) -> None:
    cat = ActionCatalogue()
    cat.register_entry_point(
        EntryPoint(
            name="acme.hello",
            value=f"{fake_distribution}:GreetAction",
            group="squall.actions",
        )
    )
    out = await cat.run("acme.hello", {"who": "you", "punctuation": "?"}, CTX)
    assert out.output == "hello you? from "


class _FailingWithData(Action[_BoomInput]):
    name = "test.fails"
    input_model = _BoomInput

    async def run(self, params: _BoomInput, ctx: ActionContext) -> Any:
        raise ActionFailed("it broke", data={"why": params.what})


async def test_action_failed_carries_message_and_data() -> None:
    out = await ActionCatalogue([_FailingWithData()]).run("test.fails", {}, CTX)
    assert out == ActionOutcome(state="ERROR", error="it broke", output={"why": "boom"})


async def test_invalid_secret_input_is_not_echoed(catalogue: ActionCatalogue) -> None:
    out = await catalogue.run(
        "std.email",
        {
            "from_addr": "a@example.com",
            "to_addrs": ["b@example.com"],
            "smtp_server": "mail:25",
            "smtp_password": ["hunter2"],
        },
        CTX,
    )
    assert out.error is not None and "'smtp_password'" in out.error
    assert "hunter2" not in out.error and "***" in out.error
