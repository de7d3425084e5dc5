"""``on-success`` / ``on-error`` / ``on-complete``: every form Mistral accepts, one model.

Mistral accepts a task name, a ``{task: <% condition %>}`` one-key mapping, a list of
those, or the advanced mapping ``{publish: {branch, global, atomic}, next: …}``. Any
name may instead be an engine command (``fail``, ``succeed``, ``pause``, ``noop``) with
parameters written ``fail msg="why"`` or ``fail(msg="why")``.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from schemas.definitions.calls import parse_action_call
from schemas.definitions.values import EXPRESSION_SCHEMA, Spec, expected, is_expression

#: Mistral's engine commands, usable wherever a transition names a task.
ENGINE_COMMANDS: Final = ("noop", "fail", "succeed", "pause")

TransitionKind = Literal["task", "fail", "succeed", "pause", "noop"]


class Transition(Spec):
    """One outgoing edge: to a task or an engine command, taken when ``condition`` holds.

    ``condition`` is ``True`` (always) or an expression string.
    """

    target: str
    kind: TransitionKind = "task"
    condition: Any = True
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, data: Any) -> Any:
        if isinstance(data, str):
            return _parse_target(data, True)
        if isinstance(data, dict) and _is_normalised(data):
            return data
        if isinstance(data, dict) and len(data) == 1:
            ((name, condition),) = data.items()
            if not is_expression(condition):
                what = f"an expression as the condition of the transition to {name!r}"
                raise expected(what, condition)
            return _parse_target(str(name), condition)
        raise expected("a task name or a one-key mapping {task: <% condition %>}", data)


def _is_normalised(data: dict[str, Any]) -> bool:
    """Whether ``data`` is already ``Transition``'s own shape (from Python or a dump).

    ``{target: <% cond %>}`` is still the YAML form of a transition to a task "target".
    """
    fields = {"target", "kind", "condition", "params"}
    if "target" not in data or not set(data) <= fields:
        return False
    return len(data) > 1 or not is_expression(data["target"])


def _parse_target(text: str, condition: Any) -> dict[str, Any]:
    try:
        name, params = parse_action_call(text)
    except ValueError as exc:
        raise PydanticCustomError(
            "transition", "invalid transition: {reason}", {"reason": str(exc)}
        ) from None
    kind = name if name in ENGINE_COMMANDS else "task"
    return {"target": name, "kind": kind, "condition": condition, "params": params}


_PUBLISH_SCOPES = {"branch": "publish", "global": "publish-global", "atomic": "publish-atomic"}


class OnClause(Spec):
    """A normalised ``on-*`` clause: variables to publish, then the transitions to take.

    ``publish`` is the advanced form's ``publish.branch``; ``publish_global`` and
    ``publish_atomic`` its ``global`` and ``atomic`` scopes.
    """

    publish: dict[str, Any] | None = None
    publish_global: dict[str, Any] | None = Field(default=None, alias="publish-global")
    publish_atomic: dict[str, Any] | None = Field(default=None, alias="publish-atomic")
    next: list[Transition] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"next": [data]}
        if isinstance(data, list):
            if not data:
                raise expected("at least one transition", data)
            return {"next": data}
        if isinstance(data, dict):
            if {"publish-global", "publish-atomic"} & set(data):
                return data  # already normalised, e.g. a dumped OnClause
            if data and set(data) <= {"publish", "next"}:
                return _advanced(data)
            if len(data) == 1:
                return {"next": [data]}
        raise expected("a task name, a list of transitions or {publish, next}", data)


def _advanced(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    nxt = data.get("next")
    if nxt is not None:
        result["next"] = [nxt] if isinstance(nxt, str | dict) else nxt
    publish = data.get("publish")
    if publish is None:
        return result
    if not isinstance(publish, dict) or not publish or not set(publish) <= set(_PUBLISH_SCOPES):
        raise expected("publish: a mapping of branch, global and/or atomic", publish)
    for scope, field_name in _PUBLISH_SCOPES.items():
        value = publish.get(scope)
        if value is None:
            continue
        if not isinstance(value, dict) or not value:
            raise expected(f"a non-empty mapping in publish.{scope}", value)
        result[field_name] = value
    return result


NEXT_TASK_JSON_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": EXPRESSION_SCHEMA,
        },
    ]
}

ON_CLAUSE_JSON_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "string"},
        {"type": "array", "minItems": 1, "items": NEXT_TASK_JSON_SCHEMA},
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": EXPRESSION_SCHEMA,
        },
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "publish": {
                    "type": "object",
                    "additionalProperties": False,
                    "minProperties": 1,
                    "properties": {
                        s: {"type": "object", "minProperties": 1} for s in _PUBLISH_SCOPES
                    },
                },
                "next": {
                    "oneOf": [
                        NEXT_TASK_JSON_SCHEMA,
                        {"type": "array", "minItems": 1, "items": NEXT_TASK_JSON_SCHEMA},
                    ]
                },
            },
        },
    ]
}
#: An ``on-*`` keyword: validated into ``OnClause``, documented for editors in its YAML forms.
OnClauseField = Annotated[OnClause, WithJsonSchema(ON_CLAUSE_JSON_SCHEMA)]
