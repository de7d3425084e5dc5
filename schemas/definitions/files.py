"""Whole documents: Mistral workbooks and Squall definitions files."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from schemas.definitions.actions import AdHocAction
from schemas.definitions.hooks import Hook
from schemas.definitions.rules import Rule
from schemas.definitions.timers import Timer
from schemas.definitions.values import Name, Spec, Tags, expected
from schemas.definitions.workflows import Workflow


def _version(value: Any) -> Any:
    # YAML reads `version: 2.0` as a float; Mistral accepts it as well as '2.0'.
    if value == "2.0" or (
        isinstance(value, int | float) and not isinstance(value, bool) and value == 2
    ):
        return "2.0"
    raise expected("version '2.0'", value)


#: ``version: '2.0'``, the only Mistral language version.
Version = Annotated[str, BeforeValidator(_version), WithJsonSchema({"enum": ["2.0", 2.0]})]


class Workbook(Spec):
    """A Mistral v2 workbook: named workflows and ad-hoc actions under one name."""

    version: Version
    name: Name
    description: str | None = None
    tags: Tags | None = None
    workflows: dict[str, Workflow] = Field(default_factory=dict)
    actions: dict[str, AdHocAction] = Field(default_factory=dict)


class DefinitionsFile(Workbook):
    """A Squall definitions file: a workbook plus ``hooks``, ``rules`` and ``timers``."""

    hooks: dict[str, Hook] = Field(default_factory=dict)
    rules: dict[str, Rule] = Field(default_factory=dict)
    timers: dict[str, Timer] = Field(default_factory=dict)
