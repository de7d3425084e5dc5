"""Single definitions (workflows, rules, hooks, timers) written one at a time by the APIs.

They share the ``definitions`` collection and revision counter with ``squall apply``,
so every role's in-memory view picks a change up on its next refresh.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from schemas.base import utcnow
from schemas.ids import derive_id

Doc = dict[str, Any]


def definition_id(project: str, kind: str, name: str) -> str:
    """The stable UUID a definition is known by in Mistral's API."""
    return derive_id(project, kind, name)


class StoredDefinitions:
    """Create, read, replace and delete single definitions of one kind."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._items = db["definitions"]
        self._meta = db["meta"]

    async def get(self, project: str, kind: str, name: str) -> Doc | None:
        """One definition by name."""
        return await self._items.find_one({"_id": f"{project}/{kind}/{name}"})

    async def by_id(self, project: str, kind: str, ident: str) -> Doc | None:
        """One definition by its name or its derived UUID."""
        doc = await self.get(project, kind, ident)
        if doc is not None:
            return doc
        async for candidate in self._items.find({"project": project, "kind": kind}):
            if definition_id(project, kind, candidate["name"]) == ident:
                return candidate
        return None

    async def list(self, project: str, kind: str) -> list[Doc]:
        """Every definition of ``kind`` in ``project``, by name."""
        cursor = self._items.find({"project": project, "kind": kind}).sort("name", 1)
        return [doc async for doc in cursor]

    async def put(
        self,
        project: str,
        kind: str,
        name: str,
        body: Doc,
        *,
        text: str | None = None,
        **extra: Any,
    ) -> Doc:
        """Create or replace one definition; returns the stored document."""
        now = utcnow()
        fields: Doc = {
            "project": project,
            "kind": kind,
            "name": name,
            "body": body,
            "updated_at": now,
            **extra,
        }
        if text is not None:
            fields["definition"] = text
        await self._items.update_one(
            {"_id": f"{project}/{kind}/{name}"},
            {"$set": fields, "$setOnInsert": {"created_at": now, "workbook": None}},
            upsert=True,
        )
        await self._bump()
        doc = await self.get(project, kind, name)
        assert doc is not None
        return doc

    async def delete(self, project: str, kind: str, name: str) -> bool:
        """Delete one definition; False when there was none."""
        result = await self._items.delete_one({"_id": f"{project}/{kind}/{name}"})
        if result.deleted_count:
            await self._bump()
        return result.deleted_count == 1

    async def _bump(self) -> None:
        await self._meta.update_one({"_id": "definitions"}, {"$inc": {"revision": 1}}, upsert=True)
