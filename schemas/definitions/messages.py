"""Pydantic's validation errors, re-worded for someone editing YAML."""

from __future__ import annotations

import difflib
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from schemas.definitions.values import shown

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "datetime_type": "a date and time (ISO 8601)",
    "datetime_parsing": "a date and time (ISO 8601)",
    "datetime_from_date_parsing": "a date and time (ISO 8601)",
    "finite_number": "a finite number",
}


def describe(error: ErrorDetails, vocabulary: frozenset[str]) -> str:
    """A sentence saying what was expected at the error's place and what was found."""
    kind = error["type"]
    got = error.get("input")
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    last = error["loc"][-1] if error["loc"] else ""
    if "secret" in str(last):
        got = "<hidden>"  # never echo a secret into logs or terminals
    if kind == "missing":
        return f"missing required keyword '{last}'"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(last), vocabulary, n=1, cutoff=0.75)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown keyword '{last}'{hint}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {got if got == '<hidden>' else shown(got)}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {shown(got)}"
    bounds = {"greater_than": "> {gt}", "greater_than_equal": "≥ {ge}", "less_than_equal": "≤ {le}"}
    if kind in bounds:
        return f"expected a number {bounds[kind].format(**ctx)}, got {shown(got)}"
    if kind == "string_pattern_mismatch":
        return f"expected text matching {ctx.get('pattern')}, got {shown(got)}"
    if kind in ("string_too_short", "too_short"):
        unit = "characters" if isinstance(error.get("input"), str) or got == "<hidden>" else "items"
        return f"expected at least {ctx.get('min_length')} {unit}"
    # Our own checks raise PydanticCustomError with a finished sentence.
    return error["msg"]


@cache
def vocabulary(*models: type[BaseModel]) -> frozenset[str]:
    """Every YAML keyword the given models (and the models they contain) accept."""
    words: set[str] = set()
    pending = list(models)
    seen: set[type[BaseModel]] = set()
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            words.add(field.alias or name)
            pending.extend(_models_in(field.annotation))
    return frozenset(words)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_models_in(arg))
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and getattr(annotation, "__metadata__", None) is not None:
        found.extend(_models_in(origin))
    return found
