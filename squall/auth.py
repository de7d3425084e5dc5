"""API tokens: each carries one project and one role; only a hash is ever stored.

A token is shown once, when created (``squall token create`` writes straight to
MongoDB, so the first admin token needs no API). Requests send it as
``Authorization: Bearer <token>`` or ``X-Auth-Token: <token>`` (Mistral's clients).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from schemas.base import utcnow

Doc = dict[str, Any]

#: Every token starts with this, so a leaked one is easy to recognise in a scan.
TOKEN_PREFIX = "sqt_"
PROJECT_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
#: How long a verified token is trusted without asking MongoDB again (revocation delay).
CACHE_TTL_S = 10.0


class Role(IntEnum):
    """What a token may do; each role may do everything the ones below it may."""

    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @classmethod
    def parse(cls, name: str) -> Role:
        """The role named ``name`` (``admin``, ``operator`` or ``viewer``)."""
        try:
            return cls[name.upper()]
        except KeyError:
            raise AuthError(f"unknown role '{name}': expected admin, operator or viewer") from None


class AuthError(ValueError):
    """A token or role cannot be created or used as asked."""


@dataclass(frozen=True)
class Principal:
    """Who sends a request: the project it acts in and its role there."""

    project: str
    role: Role
    token_id: str | None = None

    def may(self, needed: Role) -> bool:
        """True when this principal's role is at least ``needed``."""
        return self.role >= needed


@dataclass(frozen=True)
class TokenInfo:
    """A stored token as listed (never the token itself)."""

    id: str
    project: str
    role: str
    description: str
    created_at: datetime


def hash_token(token: str) -> str:
    """The stored form of a token: tokens are 256 random bits, so a plain SHA-256 suffices."""
    # A header with bytes that are not UTF-8 reaches here with lone surrogates: it must
    # hash (to a token nobody has), not crash the request.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenStore:
    """Creates, verifies, lists and revokes tokens in the ``tokens`` collection."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._tokens: AsyncCollection[Doc] = db["tokens"]
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def create(self, project: str, role: str, description: str = "") -> tuple[str, TokenInfo]:
        """A new token for ``project`` with ``role``: the plain token (shown once) and its info."""
        if not PROJECT_PATTERN.match(project):
            raise AuthError(f"invalid project '{project}': expected 1-64 of A-Z a-z 0-9 _ . -")
        parsed = Role.parse(role)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        info = TokenInfo(
            id=secrets.token_hex(8),
            project=project,
            role=parsed.name.lower(),
            description=description,
            created_at=utcnow(),
        )
        await self._tokens.insert_one(
            {
                "_id": hash_token(token),
                "id": info.id,
                "project": info.project,
                "role": info.role,
                "description": description,
                "created_at": info.created_at,
            }
        )
        return token, info

    async def verify(self, token: str) -> Principal | None:
        """The principal a token stands for, or None when it is unknown or revoked."""
        digest = hash_token(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        doc = await self._tokens.find_one({"_id": digest})
        principal = (
            Principal(project=doc["project"], role=Role.parse(doc["role"]), token_id=doc["id"])
            if doc
            else None
        )
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now + CACHE_TTL_S, principal)
        return principal

    async def list(self, project: str) -> list[TokenInfo]:
        """The tokens of ``project``, oldest first."""
        cursor = self._tokens.find({"project": project}).sort("created_at", 1)
        return [_info(doc) async for doc in cursor]

    async def revoke(self, project: str, token_id: str) -> bool:
        """Delete a token of ``project`` by its id; False when there is none."""
        result = await self._tokens.delete_one({"project": project, "id": token_id})
        self._cache.clear()
        return result.deleted_count == 1


def _info(doc: Doc) -> TokenInfo:
    return TokenInfo(
        id=doc["id"],
        project=doc["project"],
        role=doc["role"],
        description=doc.get("description", ""),
        created_at=doc["created_at"],
    )
