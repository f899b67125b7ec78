"""Persistence: one schema for SQLite (the zero-setup default) and PostgreSQL (production)."""

from gatewayhub.storage.database import Database, migrate_database, open_database
from gatewayhub.storage.store import ClaimOutcome, Store, VersionConflict

__all__ = [
    "ClaimOutcome",
    "Database",
    "Store",
    "VersionConflict",
    "migrate_database",
    "open_database",
]
