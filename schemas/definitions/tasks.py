"""Tasks, their policies (``retry``, waits, timeout, …) and ``task-defaults``.

Mistral's task schema differs for direct tasks (``join``, ``on-*``) and reverse tasks
(``requires``); one ``Task`` model holds both and ``Workflow`` refuses the keywords
that do not belong to its type.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from schemas.definitions.calls import parse_action_call, parse_params
from schemas.definitions.transitions import OnClauseField
from schemas.definitions.values import (
    BoolOrExpr,
    Expression,
    IntOrExpr,
    Name,
    NonEmptyDict,
    Spec,
    Tags,
    expected,
    is_expression,
)

_WITH_ITEMS = re.compile(r"\s*([\w-]+)\s+in\s+(.+?)\s*", re.DOTALL)
_WITH_ITEMS_SCHEMA = {
    "oneOf": [
        {"type": "string"},
        {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}},
    ]
}


class RetryPolicy(Spec):
    """``retry``: re-run a failed task ``count`` times, ``delay`` seconds apart.

    Mistral requires both ``count`` and ``delay``; the one-line form
    ``retry: count=3 delay=5`` is accepted too.
    """

    count: IntOrExpr
    delay: IntOrExpr
    break_on: Expression | None = Field(default=None, alias="break-on")
    continue_on: Expression | None = Field(default=None, alias="continue-on")

    @model_validator(mode="before")
    @classmethod
    def _one_line(cls, data: Any) -> Any:
        if not isinstance(data, str):
            return data
        try:
            return parse_params(data)
        except ValueError as exc:
            raise expected("count=N delay=N [break-on=…] [continue-on=…]", data) from exc


class WithItem(Spec):
    """One ``with-items`` clause: ``var in <% $.xs %>`` or ``var in [1, 2]``."""

    var: str
    source: str | list[Any]


def _with_items(value: Any) -> list[WithItem]:
    raw = [value] if isinstance(value, str) else value
    if not isinstance(raw, list) or not raw:
        raise expected("'x in <% $.xs %>' or a list of such clauses", value)
    items: list[WithItem] = []
    for clause in raw:
        if isinstance(clause, WithItem | dict) and "var" in clause:
            items.append(WithItem.model_validate(clause))  # already normalised (a dump)
            continue
        match = _WITH_ITEMS.fullmatch(clause) if isinstance(clause, str) else None
        source: Any = match.group(2) if match else None
        if match and source.startswith("["):
            try:
                source = json.loads(source)
            except ValueError:
                source = None
        if not match or not (is_expression(source) or isinstance(source, list)):
            raise expected("'x in <% $.xs %>' or 'x in [json, list]'", clause)
        items.append(WithItem(var=match.group(1), source=source))
    return items


class _Policies(Spec):
    """The keywords tasks and ``task-defaults`` share."""

    retry: RetryPolicy | None = None
    wait_before: IntOrExpr | None = Field(default=None, alias="wait-before")
    wait_after: IntOrExpr | None = Field(default=None, alias="wait-after")
    timeout: IntOrExpr | None = None
    pause_before: BoolOrExpr | None = Field(default=None, alias="pause-before")
    concurrency: IntOrExpr | None = None
    safe_rerun: BoolOrExpr | None = Field(default=None, alias="safe-rerun")
    on_success: OnClauseField | None = Field(default=None, alias="on-success")
    on_error: OnClauseField | None = Field(default=None, alias="on-error")
    on_complete: OnClauseField | None = Field(default=None, alias="on-complete")
    requires: list[str] | None = None

    @field_validator("requires", mode="before")
    @classmethod
    def _requires_list(cls, value: Any) -> Any:
        if isinstance(value, str) and value:
            return [value]
        names = value if isinstance(value, list) else []
        if names and all(isinstance(v, str) and v for v in names) and len(set(names)) == len(names):
            return value
        raise expected("a task name or a list of distinct task names", value)


class TaskDefaults(_Policies):
    """``task-defaults``: what Mistral lets a workflow set for all of its tasks."""


class Task(_Policies):
    """One task. ``action`` and ``workflow`` are bare names: inline parameters
    (``action: std.echo output="hi"``) are merged into ``input`` as Mistral does, and a
    task with neither runs ``std.noop``.
    """

    name: Name
    description: str | None = None
    tags: Tags | None = None
    action: str | None = None
    workflow: str | None = None
    input: dict[str, Any] | str = Field(default_factory=dict)
    publish: NonEmptyDict | None = None
    publish_on_error: NonEmptyDict | None = Field(default=None, alias="publish-on-error")
    join: Literal["all", "one"] | int | None = None
    with_items: Annotated[list[WithItem], WithJsonSchema(_WITH_ITEMS_SCHEMA)] | None = Field(
        default=None, alias="with-items"
    )
    keep_result: BoolOrExpr = Field(default=True, alias="keep-result")
    fail_on: BoolOrExpr | None = Field(default=None, alias="fail-on")
    target: Name | None = None

    @field_validator("with_items", mode="before")
    @classmethod
    def _parse_with_items(cls, value: Any) -> Any:
        return _with_items(value)

    @field_validator("join", mode="before")
    @classmethod
    def _join(cls, value: Any) -> Any:
        ok_int = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        if value in ("all", "one") or ok_int:
            return value
        raise expected("'all', 'one' or an integer ≥ 0", value)

    @field_validator("input", mode="before")
    @classmethod
    def _input(cls, value: Any) -> Any:
        # `{}` is what an unset `input` dumps as; Mistral itself refuses an empty one.
        if isinstance(value, dict) or (isinstance(value, str) and value):
            return value
        raise expected("a mapping or an expression", value)

    @model_validator(mode="before")
    @classmethod
    def _inline_params(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {k: v for k, v in data.items() if v is not None}
        if set(data) <= {"name"}:
            raise PydanticCustomError("empty", "a task needs at least one keyword, e.g. 'action'")
        if "action" in data and "workflow" in data:
            raise PydanticCustomError(
                "exclusive", "a task has either 'action' or 'workflow', not both"
            )
        key = "action" if "action" in data else "workflow" if "workflow" in data else None
        if key is None:
            return {**data, "action": "std.noop"}
        call = data[key]
        if not isinstance(call, str) or not call.strip():
            return data  # the field's own type check reports it, at its path
        try:
            name, params = parse_action_call(call)
        except ValueError as exc:
            raise PydanticCustomError(
                "call", "invalid {key}: {reason}", {"key": key, "reason": str(exc)}
            ) from None
        data = {**data, key: name}
        if params:
            given = data.get("input", {})
            if not isinstance(given, dict):
                raise expected("a mapping as input when the call has inline parameters", given)
            # Inline parameters win over `input:`, as Mistral merges them.
            data["input"] = {**given, **params}
        return data

    @property
    def is_workflow(self) -> bool:
        """Whether this task starts a sub-workflow rather than running an action."""
        return self.workflow is not None
