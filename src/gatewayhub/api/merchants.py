"""Merchants and their API keys.

A key reads `ghk_<key id>_<secret>`: the id finds the row, the secret is checked against its
stored SHA-256 in constant time. The key itself is returned once, when it is made.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gatewayhub.errors import InvalidRequest
from gatewayhub.ids import new_id
from gatewayhub.storage.database import Database
from gatewayhub.storage.schema import api_keys, merchants

KEY_PREFIX = "ghk_"
SCOPES = ("payments:read", "payments:write", "refunds:write", "webhooks:write", "admin")
DEFAULT_SCOPES = ("payments:read", "payments:write", "refunds:write", "webhooks:write")


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new merchant key; `key` is shown once and never stored."""

    merchant_id: str
    key_id: str
    key: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredKey:
    """An API key as stored: whose it is, what it may do, and the hash of its secret."""

    key_id: str
    merchant_id: str
    secret_hash: str
    scopes: frozenset[str]
    revoked: bool

    def matches(self, secret: str) -> bool:
        """Is `secret` this key's secret? (constant time)"""
        return hmac.compare_digest(self.secret_hash, _hash(secret))


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_scopes(scopes: list[str]) -> tuple[str, ...]:
    """The scopes, validated and without repeats."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise InvalidRequest(
            f"unknown scopes {unknown}; choose from {', '.join(SCOPES)}", field="scopes"
        )
    return tuple(dict.fromkeys(scopes))


def split_key(token: str) -> tuple[str, str] | None:
    """(key id, secret) of a `ghk_` key, or None when `token` is not shaped like one."""
    if not token.startswith(KEY_PREFIX):
        return None
    suffix, _, secret = token[len(KEY_PREFIX) :].partition("_")
    if len(suffix) != 26 or not secret:
        return None
    return f"key_{suffix}", secret


async def create_merchant(db: Database, name: str, scopes: list[str], now: datetime) -> IssuedKey:
    """A new merchant with one API key."""
    name = name.strip()
    if not 1 <= len(name) <= 128:
        raise InvalidRequest("must be 1 to 128 characters", field="name")
    chosen = check_scopes(scopes) if scopes else DEFAULT_SCOPES
    merchant_id = new_id("mer", now)

    def body(conn: Connection) -> IssuedKey:
        conn.execute(merchants.insert().values(id=merchant_id, name=name, created_at=now))
        return _issue(conn, merchant_id, chosen, now)

    return await db.run(body)


async def issue_key(db: Database, merchant_id: str, scopes: list[str], now: datetime) -> IssuedKey:
    """Another API key for an existing merchant (for rotation)."""
    chosen = check_scopes(scopes) if scopes else DEFAULT_SCOPES

    def body(conn: Connection) -> IssuedKey:
        found = conn.execute(sa.select(merchants.c.id).where(merchants.c.id == merchant_id))
        if found.first() is None:
            raise InvalidRequest(f"no merchant {merchant_id!r}", field="merchant")
        return _issue(conn, merchant_id, chosen, now)

    return await db.run(body)


def _issue(conn: Connection, merchant_id: str, scopes: tuple[str, ...], now: datetime) -> IssuedKey:
    key_id = new_id("key", now)
    secret = secrets.token_hex(32)
    conn.execute(
        api_keys.insert().values(
            id=key_id,
            merchant_id=merchant_id,
            secret_hash=_hash(secret),
            scopes=" ".join(scopes),
            created_at=now,
        )
    )
    token = f"{KEY_PREFIX}{key_id.removeprefix('key_')}_{secret}"
    return IssuedKey(merchant_id, key_id, token, scopes)


async def find_key(db: Database, key_id: str) -> StoredKey | None:
    """The stored key with this id, or None."""

    def body(conn: Connection) -> StoredKey | None:
        row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).first()
        if row is None:
            return None
        m = row._mapping
        return StoredKey(
            m["id"],
            m["merchant_id"],
            m["secret_hash"],
            frozenset(m["scopes"].split()),
            m["revoked_at"] is not None,
        )

    return await db.run(body)
