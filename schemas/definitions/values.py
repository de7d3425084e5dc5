"""Value types shared by the language: expressions, "number or expression", non-empty maps.

Mistral accepts a YAQL (``<% %>``) or Jinja2 (``{{ }}``) expression wherever a number or
boolean may be computed at run time; expressions are kept as strings here and compiled
by the engine.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

_EXPRESSION = re.compile(r"\s*(<%.*%>|\{\{.*\}\}|\{%.*%\})\s*", re.DOTALL)

EXPRESSION_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": r"^\s*(<%[\s\S]*%>|\{\{[\s\S]*\}\}|\{%[\s\S]*%\})\s*$",
}


class Spec(BaseModel):
    """Base of every definitions model: immutable, unknown keywords refused, YAML names only."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _unset_nulls(cls, data: Any) -> Any:
        # `key: null` means "not set" (and `model_dump()` writes unset keys as null), so a
        # dumped model validates again; Mistral would refuse most explicit nulls.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data


def is_expression(value: object) -> bool:
    """Whether ``value`` is a whole YAQL or Jinja2 expression, as Mistral's schema demands."""
    return isinstance(value, str) and _EXPRESSION.fullmatch(value) is not None


def shown(value: object) -> str:
    """A short rendering of an offending value for error messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def expected(what: str, value: object) -> PydanticCustomError:
    """The error every custom check raises: ``expected <what>, got <value>``."""
    return PydanticCustomError(
        "expected", "expected {what}, got {got}", {"what": what, "got": shown(value)}
    )


def _int_or_expression(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if is_expression(value):
        return value
    raise expected("an integer ≥ 0 or an expression", value)


def _bool_or_expression(value: object) -> object:
    if isinstance(value, bool) or is_expression(value):
        return value
    raise expected("true, false or an expression", value)


def _expression(value: object) -> object:
    if is_expression(value):
        return value
    raise expected("an expression (<% … %> or {{ … }})", value)


def _non_empty_dict(value: object) -> object:
    if isinstance(value, dict) and value:
        return value
    raise expected("a non-empty mapping", value)


def _unique_strings(value: object) -> object:
    ok = (
        isinstance(value, list)
        and value
        and all(isinstance(v, str) and v for v in value)
        and len(set(value)) == len(value)
    )
    if ok:
        return value
    raise expected("a non-empty list of distinct non-empty strings", value)


def _non_empty_string(value: object) -> object:
    if isinstance(value, str) and value:
        return value
    raise expected("a non-empty string", value)


_INT_OR_EXPR_SCHEMA = {"oneOf": [{"type": "integer", "minimum": 0}, EXPRESSION_SCHEMA]}
_BOOL_OR_EXPR_SCHEMA = {"oneOf": [{"type": "boolean"}, EXPRESSION_SCHEMA]}

#: A non-negative integer, or an expression giving one at run time.
IntOrExpr = Annotated[
    int | str, BeforeValidator(_int_or_expression), WithJsonSchema(_INT_OR_EXPR_SCHEMA)
]
#: A boolean, or an expression giving one at run time.
BoolOrExpr = Annotated[
    bool | str, BeforeValidator(_bool_or_expression), WithJsonSchema(_BOOL_OR_EXPR_SCHEMA)
]
#: A YAQL or Jinja2 expression, kept as written.
Expression = Annotated[str, BeforeValidator(_expression), WithJsonSchema(EXPRESSION_SCHEMA)]
#: A mapping with at least one entry (Mistral refuses empty ``publish``, ``vars``, …).
NonEmptyDict = Annotated[
    dict[str, Any],
    BeforeValidator(_non_empty_dict),
    WithJsonSchema({"type": "object", "minProperties": 1}),
]
#: A non-empty string.
Name = Annotated[
    str, BeforeValidator(_non_empty_string), WithJsonSchema({"type": "string", "minLength": 1})
]
#: Mistral's ``tags``: distinct non-empty strings, at least one.
Tags = Annotated[
    list[str],
    BeforeValidator(_unique_strings),
    WithJsonSchema(
        {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "uniqueItems": True,
        }
    ),
]
