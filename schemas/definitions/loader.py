"""Reading definitions documents: every problem collected, each with its line and path."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from schemas.definitions.actions import AdHocAction
from schemas.definitions.checks import workflow_problems
from schemas.definitions.errors import DefinitionError, Issue
from schemas.definitions.files import DefinitionsFile, Workbook
from schemas.definitions.hooks import Hook
from schemas.definitions.located import Located, Path, load_located
from schemas.definitions.messages import describe, vocabulary
from schemas.definitions.rules import Rule
from schemas.definitions.timers import Timer
from schemas.definitions.values import shown
from schemas.definitions.workflows import DEFER_CHECKS, Workflow

M = TypeVar("M", bound=BaseModel)

_MISTRAL_SECTIONS: dict[str, type[BaseModel]] = {"workflows": Workflow, "actions": AdHocAction}
_SQUALL_SECTIONS: dict[str, type[BaseModel]] = {"hooks": Hook, "rules": Rule, "timers": Timer}
#: Mistral's workbook keys for workflows and actions (``^(?!version$)[\w-]+$``).
_WORKBOOK_KEY = re.compile(r"[\w-]+")


class _Collector:
    """Validates the pieces of one document, gathering issues instead of stopping."""

    def __init__(self, located: Located) -> None:
        self.located = located
        self.issues: list[Issue] = list(located.issues)
        self.words = vocabulary(DefinitionsFile)

    def add(self, path: Path, message: str, *, at_key: bool = False) -> None:
        self.issues.append(self.located.issue(path, message, at_key=at_key))

    def mapping(self, value: Any, path: Path, what: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.add(path, f"expected {what}, got {shown(value)}")
        return None

    def version(self, doc: dict[str, Any], path: Path, *, required: bool) -> None:
        if "version" not in doc:
            if required:
                self.add(path, "missing required keyword 'version'")
            return
        if doc["version"] not in ("2.0", 2.0) or isinstance(doc["version"], bool):
            self.add((*path, "version"), f"expected version '2.0', got {shown(doc['version'])}")

    def validate(self, model: type[M], data: dict[str, Any], path: Path) -> M | None:
        try:
            return model.model_validate(data, context={DEFER_CHECKS: True})
        except ValidationError as exc:
            seen: set[tuple[Path, str]] = set()
            for error in exc.errors(include_url=False):
                where = _raw_path(data, error["loc"])
                at_key = error["type"] in ("extra_forbidden", "missing")
                message = describe(error, self.words)
                if (where, message) not in seen:
                    seen.add((where, message))
                    self.add((*path, *where), message, at_key=at_key)
            return None

    def section(
        self, doc: dict[str, Any], key: str, model: type[M], *, workbook: bool
    ) -> dict[str, M]:
        raw = doc.get(key, {})
        body = self.mapping(raw, (key,), f"a mapping of {key} by name")
        if body is None:
            return {}
        return self.entries(body, (key,), model, workbook=workbook)

    def entries(
        self, body: dict[str, Any], path: Path, model: type[M], *, workbook: bool
    ) -> dict[str, M]:
        found: dict[str, M] = {}
        for name, spec in body.items():
            where = (*path, name)
            if name == "version":
                self.version(body, path, required=False)
                continue
            if workbook and not _WORKBOOK_KEY.fullmatch(name):
                self.add(where, "a name may only hold letters, digits, '_' and '-'", at_key=True)
            spec = self.mapping(spec, where, "a mapping")
            if spec is None:
                continue
            if "version" in spec and model in (Workflow, AdHocAction):
                self.version(spec, where, required=False)
                spec = {k: v for k, v in spec.items() if k != "version"}
            item = self.validate(model, {**spec, "name": name}, where)
            if isinstance(item, Workflow):
                for problem in workflow_problems(item):
                    self.add((*where, *problem.path), problem.message, at_key=problem.at_key)
            if item is not None:
                found[name] = item
        return found

    def done(self) -> None:
        if self.issues:
            raise DefinitionError(self.issues)


def _raw_path(data: Any, loc: tuple[int | str, ...]) -> Path:
    """Follow pydantic's ``loc`` through the raw data, skipping the parts it added
    (union member tags, normalised field names), so the path is what the author wrote."""
    path: list[str | int] = []
    node = data
    for part in loc:
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_list or (isinstance(node, dict) and part in node):
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part == loc[-1]:
            pass  # a missing or injected keyword: keep it, the locator falls back to the parent
        else:
            continue
        path.append(part)
    return tuple(path)


def _document(text: str, filename: str, what: str) -> tuple[_Collector, dict[str, Any]]:
    located = load_located(text, filename)
    collector = _Collector(located)
    doc = collector.mapping(located.data, (), what)
    if doc is None:
        collector.done()
    assert doc is not None
    return collector, doc


def load_definitions(text: str, filename: str = "<string>") -> DefinitionsFile:
    """Parse a Squall definitions file (or a plain Mistral workbook).

    Raises ``DefinitionError`` listing every problem, each with its line and path.
    """
    collector, doc = _document(text, filename, "a mapping with 'version' and 'name'")
    sections: dict[str, Any] = {}
    for key, model in _MISTRAL_SECTIONS.items():
        if key in doc:
            sections[key] = collector.section(doc, key, model, workbook=True)
    for key, model in _SQUALL_SECTIONS.items():
        if key in doc:
            sections[key] = collector.section(doc, key, model, workbook=False)
    head = {k: v for k, v in doc.items() if k not in sections}
    collector.validate(DefinitionsFile, head, ())
    collector.done()
    return DefinitionsFile.model_validate({**head, **sections})


def load_workbook(text: str, filename: str = "<string>") -> Workbook:
    """Parse a plain Mistral workbook, refusing Squall's extra sections."""
    collector, doc = _document(text, filename, "a mapping with 'version' and 'name'")
    for key in _SQUALL_SECTIONS:
        if key in doc:
            collector.add(
                (key,), f"unknown keyword '{key}' (only in Squall definitions files)", at_key=True
            )
    collector.done()
    parsed = load_definitions(text, filename)
    fields = ("version", "name", "description", "tags", "workflows", "actions")
    return Workbook.model_validate({f: getattr(parsed, f) for f in fields if getattr(parsed, f)})


def _standalone(text: str, filename: str, model: type[M]) -> dict[str, M]:
    collector, doc = _document(text, filename, "a mapping with 'version' and named entries")
    collector.version(doc, (), required=True)
    items = collector.entries(doc, (), model, workbook=False)
    if not items and not collector.issues:
        collector.add((), "expected at least one entry besides 'version'")
    collector.done()
    return items


def load_workflows(text: str, filename: str = "<string>") -> dict[str, Workflow]:
    """Parse Mistral's standalone workflows file (``version: '2.0'`` + workflows by name)."""
    return _standalone(text, filename, Workflow)


def load_actions(text: str, filename: str = "<string>") -> dict[str, AdHocAction]:
    """Parse Mistral's standalone ad-hoc actions file (``version: '2.0'`` + actions by name)."""
    return _standalone(text, filename, AdHocAction)
