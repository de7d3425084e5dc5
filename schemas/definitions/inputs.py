"""Mistral's ``input:`` list: plain names, or one-key mappings ``{name: default}``."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from schemas.definitions.values import Spec, expected


class InputParam(Spec):
    """One declared input; ``has_default`` tells ``{x: null}`` from a required ``x``."""

    name: str
    default: Any = None
    has_default: bool = False


def _input_list(value: Any) -> list[InputParam]:
    # An empty list is what an unset `input` dumps as, so it is accepted (Mistral is stricter).
    if not isinstance(value, list):
        raise expected("a list of names or one-key mappings {name: default}", value)
    params: list[InputParam] = []
    for entry in value:
        if isinstance(entry, InputParam):
            params.append(entry)
        elif isinstance(entry, str) and entry:
            params.append(InputParam(name=entry))
        elif isinstance(entry, dict) and len(entry) == 1:
            ((name, default),) = entry.items()
            params.append(InputParam(name=name, default=default, has_default=True))
        elif isinstance(entry, dict) and "name" in entry and "has_default" in entry:
            params.append(InputParam.model_validate(entry))
        else:
            raise expected("a name or a one-key mapping {name: default}", entry)
    names = [p.name for p in params]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise expected("distinct input names", duplicates)
    return params


_INPUT_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "uniqueItems": True,
    "items": {
        "oneOf": [
            {"type": "string", "minLength": 1},
            {"type": "object", "minProperties": 1, "maxProperties": 1},
        ]
    },
}

#: An ``input:`` list, normalised to ``InputParam`` in declaration order.
InputList = Annotated[list[InputParam], BeforeValidator(_input_list), WithJsonSchema(_INPUT_SCHEMA)]


def input_defaults(params: list[InputParam]) -> dict[str, Any]:
    """The defaults of the declared inputs that have one."""
    return {p.name: p.default for p in params if p.has_default}
