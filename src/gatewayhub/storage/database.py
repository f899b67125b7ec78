"""Running transactions on SQLite or PostgreSQL behind one async interface.

A transaction body is a plain function over a SQLAlchemy `Connection`; `Database.run` executes
it atomically. That keeps every query in one code path for both databases while letting each
run the way it is fastest:

- SQLite runs the body inline on the event loop, in one `BEGIN IMMEDIATE` transaction. SQLite
  is a library, not a server: in WAL mode a transaction of a few statements costs ~80 us of CPU
  here, while an async driver's thread hop per statement costs more than the statements
  themselves (measured: 1.3 ms per 4-statement transaction through aiosqlite). A body never
  awaits, so two coroutines never interleave inside one SQLite transaction.
- PostgreSQL runs the body through asyncpg with `AsyncConnection.run_sync`.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url

from gatewayhub.errors import ConfigError

T = TypeVar("T")
_MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same for every gateway process.
_MIGRATION_LOCK = 7_461_237_001


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Apply migrations up to `revision` on `connection`."""
    command.upgrade(_alembic_config(connection), revision)


class Database(ABC):
    """Where gatewayhub keeps its state."""

    url: str
    dialect: str

    @abstractmethod
    async def run(self, body: Callable[[Connection], T]) -> T:
        """Run `body` in one transaction; commit if it returns, roll back if it raises."""

    @abstractmethod
    async def read(self, body: Callable[[Connection], T]) -> T:
        """Run a `body` that only reads, in one transaction that takes no write lock."""

    @abstractmethod
    async def migrate(self) -> None:
        """Bring the schema up to date (safe to call from several processes at once)."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections."""


class SQLiteDatabase(Database):
    """A SQLite file in WAL mode.

    `synchronous="NORMAL"` (the default) keeps every commit across a crash of the process;
    only a power cut can lose the last commits. Choose "FULL" to fsync every commit.
    """

    dialect = "sqlite"

    def __init__(
        self, url: str, *, synchronous: str = "NORMAL", busy_timeout_ms: int = 10_000
    ) -> None:
        if synchronous.upper() not in ("NORMAL", "FULL", "EXTRA"):
            raise ConfigError(
                f"sqlite synchronous must be NORMAL, FULL or EXTRA, not {synchronous!r}"
            )
        self.url = url
        parsed = make_url(url).set(drivername="sqlite+pysqlite")
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._engine = sa.create_engine(parsed, poolclass=sa.pool.StaticPool)
        pragma_sync = synchronous.upper()

        @event.listens_for(self._engine, "connect")
        def _configure(dbapi_connection: Any, _record: Any) -> None:
            # The driver must not open transactions on its own: `run` begins them explicitly.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={pragma_sync}")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        self._connection: Connection | None = None

    def _conn(self) -> Connection:
        if self._connection is None:
            self._connection = self._engine.connect()
        return self._connection

    async def run(self, body: Callable[[Connection], T]) -> T:
        """Run `body` inline in one IMMEDIATE transaction, begun and ended on the driver.

        IMMEDIATE takes the write lock up front, so two processes sharing the file queue on
        busy_timeout instead of deadlocking on a read-to-write upgrade. The sqlite3 connection
        is in autocommit mode, so the transaction is SQLite's own: BEGIN IMMEDIATE here, then
        COMMIT or ROLLBACK through the driver. SQLAlchemy's `Connection.begin()` is not used:
        on a payment's hot path, where the statements go straight to the driver
        (`statements.HotStatement`), its transaction object and dialect hooks cost more than
        the COMMIT. Bodies that use the Core API make SQLAlchemy autobegin its own
        (driver-less) transaction; it is ended with the driver's, so the connection is clean
        for the next body. A body never awaits, so two coroutines never interleave inside one
        SQLite transaction.
        """
        connection = self._conn()
        driver: sqlite3.Connection = connection.connection.driver_connection  # type: ignore[assignment]
        driver.execute("BEGIN IMMEDIATE")
        try:
            result = body(connection)
            if connection.in_transaction():
                connection.commit()  # the driver's commit(): COMMIT
            else:
                driver.commit()  # COMMIT, unless the body ended the transaction itself
        except BaseException:
            if connection.in_transaction():
                connection.rollback()  # the driver's rollback(): ROLLBACK if one is open
            else:
                driver.rollback()
            raise
        return result

    async def read(self, body: Callable[[Connection], T]) -> T:
        """Run `body` in a deferred transaction: a read snapshot, and no write lock to wait
        for or to hold up writers with (a lookup before every keyed request needs none)."""
        connection = self._conn()
        driver: sqlite3.Connection = connection.connection.driver_connection  # type: ignore[assignment]
        driver.execute("BEGIN")
        try:
            return body(connection)
        finally:
            if connection.in_transaction():
                connection.rollback()  # the driver's rollback(): ends the read
            else:
                driver.rollback()

    async def migrate(self) -> None:
        """Apply migrations (the IMMEDIATE transaction serializes concurrent processes)."""
        await self.run(upgrade)

    async def close(self) -> None:
        """Close the connection and the engine."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._engine.dispose()


class PostgresDatabase(Database):
    """PostgreSQL through asyncpg."""

    dialect = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        pool_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        statement_timeout: float = 30.0,
    ) -> None:
        try:
            import asyncpg  # noqa: F401, PLC0415 - optional backend, imported only when used
        except ImportError as exc:
            raise ConfigError(
                "PostgreSQL needs asyncpg: pip install 'gatewayhub[postgres]'"
            ) from exc
        from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415 - needs greenlet

        self.url = url
        parsed = make_url(url).set(drivername="postgresql+asyncpg")
        self._engine = create_async_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_pre_ping=True,
            connect_args={
                "timeout": connect_timeout,
                # Set per connection by the server, so it also bounds the ORM's own queries.
                "server_settings": {"statement_timeout": str(int(statement_timeout * 1000))},
            },
        )

    async def run(self, body: Callable[[Connection], T]) -> T:
        """Run `body` through asyncpg in one transaction."""
        async with self._engine.begin() as connection:
            return await connection.run_sync(body)

    async def read(self, body: Callable[[Connection], T]) -> T:
        """A read is a transaction like any other here (readers never block writers)."""
        return await self.run(body)

    async def migrate(self) -> None:
        """Apply migrations under an advisory lock, so concurrent instances migrate once."""

        def locked_upgrade(connection: Connection) -> None:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            upgrade(connection)

        await self.run(locked_upgrade)

    async def close(self) -> None:
        """Dispose of the pool."""
        await self._engine.dispose()


def open_database(url: str, **options: Any) -> Database:
    """A `Database` for `url`: `sqlite:///path.db` or `postgresql://user@host/db`."""
    try:
        backend = make_url(url).get_backend_name()
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"not a database URL: {url!r}") from exc
    if backend == "sqlite":
        return SQLiteDatabase(url, **options)
    if backend in ("postgresql", "postgres"):
        return PostgresDatabase(url, **options)
    raise ConfigError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


async def migrate_database(url: str, **options: Any) -> None:
    """Open `url`, bring its schema up to date and close it (`gatewayhub migrate`, and the
    parent of `gatewayhub serve --workers` before it starts any worker)."""
    db = open_database(url, **options)
    try:
        await db.migrate()
    finally:
        await db.close()
