"""Mistral ad-hoc actions: a ``base`` action with some input fixed."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.definitions.calls import parse_action_call
from schemas.definitions.inputs import InputList
from schemas.definitions.values import Name, NonEmptyDict, Spec, Tags


class AdHocAction(Spec):
    """``actions.<name>``: run ``base`` with ``base-input`` rendered from this action's input.

    Inline parameters in ``base`` (``base: std.echo output="x"``) are merged into
    ``base_input``, as Mistral does.
    """

    name: Name
    base: Name
    base_input: NonEmptyDict | None = Field(default=None, alias="base-input")
    input: InputList | None = None
    output: Any = None
    description: str | None = None
    tags: Tags | None = None

    @model_validator(mode="before")
    @classmethod
    def _inline_params(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("base"), str):
            return data
        try:
            name, params = parse_action_call(data["base"])
        except ValueError as exc:
            raise PydanticCustomError(
                "call", "invalid base: {reason}", {"reason": str(exc)}
            ) from None
        data = {**data, "base": name}
        if params:
            given = data.get("base-input") or {}
            if isinstance(given, dict):
                data["base-input"] = {**given, **params}
        return data
