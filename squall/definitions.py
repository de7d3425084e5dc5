"""Stored definitions: applying a definitions file, and the in-memory view every role reads.

Definitions live in one collection keyed ``project/kind/name``; a revision counter
changes on every apply, so each process reloads its view only when something changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pymongo import DeleteMany, UpdateOne
from pymongo.asynchronous.change_stream import AsyncChangeStream
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from engine.expressions import validate_expressions
from engine.patterns import PatternError, validate_pattern
from engine.rules import RuleSet
from schemas.base import utcnow
from schemas.definitions import AdHocAction, DefinitionsFile, Issue, Rule, Timer, Workflow
from schemas.definitions.hooks import Hook
from schemas.definitions.located import load_located

log = logging.getLogger(__name__)

Doc = dict[str, Any]
KINDS: dict[str, type[BaseModel]] = {
    "workflow": Workflow,
    "action": AdHocAction,
    "hook": Hook,
    "rule": Rule,
    "timer": Timer,
}


class ApplyError(ValueError):
    """The definitions are valid YAML and models but break a rule across them."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("\n".join(f"{i.path}: {i.message}" for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class ApplyReport:
    """What an apply stored, by kind."""

    workbook: str | None
    applied: dict[str, list[str]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)


def check_references(
    definitions: DefinitionsFile, filename: str, text: str | None = None
) -> list[Issue]:
    """Problems the models alone cannot see: rule patterns and expression syntax.

    These checks see the models, not the YAML; given the ``text`` they were loaded
    from, each problem is placed at the line and column where its path was written.
    """
    issues = []
    for name, rule in definitions.rules.items():
        for where, pattern in rule.event_patterns().items():
            try:
                validate_pattern(pattern)
            except PatternError as exc:
                path = f"rules.{name}.{where}.{exc.path}"
                issues.append(Issue(filename, 1, 1, path, exc.reason))
        key = rule.correlate.key if rule.correlate else None
        for problem in validate_expressions([rule.condition, rule.input, key]):
            issues.append(Issue(filename, 1, 1, f"rules.{name}", problem))
    for name, workflow in definitions.workflows.items():
        for problem in validate_expressions(workflow.model_dump(mode="json", by_alias=True)):
            issues.append(Issue(filename, 1, 1, f"workflows.{name}", problem))
    if text is None or not issues:
        return issues
    located = load_located(text, filename)
    return [located.place(issue) for issue in issues]


class DefinitionsStore:
    """Writes definitions and answers what is stored."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._items = db["definitions"]
        self._meta = db["meta"]

    async def revision(self) -> int:
        """The counter that changes whenever any definition changes."""
        doc = await self._meta.find_one({"_id": "definitions"})
        return int(doc["revision"]) if doc else 0

    async def watch(self) -> AsyncChangeStream[Doc]:
        """A change stream of the revision counter: one change per apply."""
        return await self._meta.watch([{"$match": {"documentKey._id": "definitions"}}])

    async def all(self) -> list[Doc]:
        """Every stored definition (a small collection, read whole on change)."""
        return [doc async for doc in self._items.find({})]

    async def apply(self, definitions: DefinitionsFile, project: str) -> ApplyReport:
        """Store everything in ``definitions`` under ``project``.

        Items the same workbook stored before but no longer has are removed, so
        applying a file twice, or a trimmed file, leaves exactly what the file says.
        """
        owner = definitions.name
        now = utcnow()
        items = list(_items(definitions, project))
        await self._check_hook_names(project, [name for kind, name, _ in items if kind == "hook"])
        ops: list[UpdateOne | DeleteMany] = [
            UpdateOne(
                {"_id": f"{project}/{kind}/{name}"},
                {
                    "$set": {
                        "project": project,
                        "kind": kind,
                        "name": name,
                        "workbook": owner,
                        "body": body,
                        "updated_at": now,
                    }
                },
                upsert=True,
            )
            for kind, name, body in items
        ]
        keep = [f"{project}/{kind}/{name}" for kind, name, _ in items]
        removed: list[str] = []
        if owner:
            stale = {"project": project, "workbook": owner, "_id": {"$nin": keep}}
            removed = [doc["_id"] async for doc in self._items.find(stale, {"_id": 1})]
            if removed:
                ops.append(DeleteMany({"_id": {"$in": removed}}))
        if ops:
            await self._items.bulk_write(ops, ordered=True)
        await self._meta.update_one({"_id": "definitions"}, {"$inc": {"revision": 1}}, upsert=True)
        applied: dict[str, list[str]] = {}
        for kind, name, _ in items:
            applied.setdefault(kind, []).append(name)
        return ApplyReport(workbook=owner, applied=applied, removed=removed)

    async def _check_hook_names(self, project: str, names: list[str]) -> None:
        # Hooks are addressed by name alone (POST /hooks/{name}), so a name belongs to
        # one project only.
        if not names:
            return
        taken = self._items.find(
            {"kind": "hook", "name": {"$in": names}, "project": {"$ne": project}}
        )
        clashes = [doc["name"] async for doc in taken]
        if clashes:
            raise ApplyError(
                [
                    Issue(
                        "<apply>", 1, 1, f"hooks.{n}", "another project has a hook with this name"
                    )
                    for n in clashes
                ]
            )


def _items(definitions: DefinitionsFile, project: str) -> Iterable[tuple[str, str, Doc]]:
    for name, workflow in definitions.workflows.items():
        yield "workflow", name, workflow.model_dump(mode="json", by_alias=True)
    for name, action in definitions.actions.items():
        yield "action", name, action.model_dump(mode="json", by_alias=True)
    for name, hook in definitions.hooks.items():
        body = hook.model_dump(mode="json", by_alias=True)
        body["secret"] = hook.secret.get_secret_value()
        body["project"] = project
        yield "hook", name, body
    for name, rule in definitions.rules.items():
        yield "rule", name, rule.model_dump(mode="json", by_alias=True)
    for name, timer in definitions.timers.items():
        yield "timer", name, timer.model_dump(mode="json", by_alias=True)


class DefinitionsView:
    """The current definitions, reloaded from the store when its revision changes."""

    def __init__(self, store: DefinitionsStore) -> None:
        self._store = store
        self._revision = -1
        self.workflows: dict[tuple[str, str], Workflow] = {}
        self.actions: dict[tuple[str, str], AdHocAction] = {}
        self.hooks: dict[str, Hook] = {}
        self.timers: dict[tuple[str, str], Timer] = {}
        self._rules = RuleSet({})

    @property
    def rules(self) -> RuleSet:
        """The compiled rules."""
        return self._rules

    def workflow(self, project: str, name: str) -> Workflow | None:
        """A workflow definition by project and name (or a rule's one-action workflow)."""
        return self.workflows.get((project, name)) or self._rules.workflow(project, name)

    def action(self, project: str, name: str) -> AdHocAction | None:
        """An ad-hoc action (a workbook's ``actions:``) by project and name."""
        return self.actions.get((project, name))

    def hook(self, name: str) -> Hook | None:
        """A hook by its (globally unique) name."""
        return self.hooks.get(name)

    async def follow(self, poll_s: float = 1.0) -> None:
        """Keep the view current: reload on every change the store's change stream
        reports (milliseconds after an apply), or every ``poll_s`` where the server has
        no change streams."""
        while True:
            try:
                async with await self._store.watch() as stream:
                    await self.refresh()
                    async for _ in stream:
                        await self.refresh()
            except PyMongoError as exc:
                log.debug("no change stream on definitions (%s); polling", exc)
                await asyncio.sleep(poll_s)
                with suppress(PyMongoError):
                    await self.refresh()

    async def refresh(self) -> None:
        """Reload everything if any definition changed since the last load."""
        revision = await self._store.revision()
        if revision == self._revision:
            return
        workflows, actions, hooks, rules, timers = {}, {}, {}, {}, {}
        for doc in await self._store.all():
            key = (doc["project"], doc["name"])
            try:
                model = KINDS[doc["kind"]].model_validate(doc["body"])
            except (KeyError, ValueError) as exc:
                log.error("stored definition %s is unusable: %s", doc["_id"], exc)
                continue
            if isinstance(model, Workflow):
                workflows[key] = model
            elif isinstance(model, AdHocAction):
                actions[key] = model
            elif isinstance(model, Hook):
                hooks[doc["name"]] = model
            elif isinstance(model, Rule):
                rules[key] = model
            elif isinstance(model, Timer):
                timers[key] = model
        self.workflows, self.actions, self.hooks, self.timers = workflows, actions, hooks, timers
        self._rules = RuleSet(rules)
        self._revision = revision
