"""pytest fixtures shipped with gatewayhub's test kit (loaded through the `pytest11` entry point).

`database_url` runs a test once on SQLite and once on PostgreSQL. PostgreSQL comes from
`GATEWAYHUB_TEST_POSTGRES` (default: the local server of ../shared/SERVICES.md); a fresh
database with a random name is created per session and dropped at the end, and every test
starts from empty tables. Without a reachable server those runs skip and say why - unless
`GATEWAYHUB_REQUIRE_POSTGRES=1` (CI), where they fail.

`redis_space` is a Redis server (`GATEWAYHUB_TEST_REDIS`, default the local one) and a random
key prefix of the test's own, whose keys are deleted afterwards; it skips likewise unless
`GATEWAYHUB_REQUIRE_REDIS=1`.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gatewayhub.testing.clock import FixedClock

ADMIN_URL = os.environ.get(
    "GATEWAYHUB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("GATEWAYHUB_REQUIRE_POSTGRES") == "1"
REDIS_URL = os.environ.get("GATEWAYHUB_TEST_REDIS", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("GATEWAYHUB_REQUIRE_REDIS") == "1"


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _admin(statement: str) -> None:
    import asyncpg  # noqa: PLC0415 - optional backend

    connection = await asyncpg.connect(_asyncpg_dsn(ADMIN_URL), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _truncate(url: str) -> None:
    import asyncpg  # noqa: PLC0415 - optional backend

    connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables"
            " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        if tables:
            names = ", ".join(f'"{t["tablename"]}"' for t in tables)
            await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session (dropped afterwards)."""
    name = f"gh_test_{secrets.token_hex(6)}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # every connection failure means the same: no server here
        reason = f"PostgreSQL not reachable at {ADMIN_URL}: {type(exc).__name__}: {exc}"
        if REQUIRE_POSTGRES:
            pytest.fail(f"{reason} (GATEWAYHUB_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    base = ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for every test (migrating each time is slow)."""
    from gatewayhub.storage.database import open_database  # noqa: PLC0415

    path = tmp_path_factory.mktemp("template") / "template.db"

    async def migrate() -> None:
        db = open_database(f"sqlite:///{path}")
        await db.migrate()
        await db.close()

    asyncio.run(migrate())
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, _migrated_sqlite: Path) -> str:
    """A migrated, empty database: SQLite in a temp file, or the session's PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "gatewayhub.db"
        shutil.copy(_migrated_sqlite, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate(url))
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, _migrated_sqlite: Path) -> str:
    """A migrated, empty SQLite database (for tests that need only one backend)."""
    target = tmp_path / "gatewayhub.db"
    shutil.copy(_migrated_sqlite, target)
    return f"sqlite:///{target}"


@dataclass(frozen=True, slots=True)
class RedisSpace:
    """A Redis server and the key prefix this test may use (`[gateway] redis_prefix`)."""

    url: str
    prefix: str


async def _redis(url: str, prefix: str | None) -> None:
    """Ping the server; with `prefix`, delete the keys under it."""
    from redis.asyncio import Redis  # noqa: PLC0415 - optional backend

    client = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        await client.ping()
        if prefix is not None:
            async for key in client.scan_iter(match=f"{prefix}:*", count=500):
                await client.delete(key)
    finally:
        await client.aclose()


@pytest.fixture
def redis_space() -> Iterator[RedisSpace]:
    """The test Redis with a fresh key prefix, cleaned up afterwards."""
    try:
        asyncio.run(_redis(REDIS_URL, None))
    except Exception as exc:  # every connection failure means the same: no server here
        reason = f"Redis not reachable at {REDIS_URL}: {type(exc).__name__}: {exc}"
        if REQUIRE_REDIS:
            pytest.fail(f"{reason} (GATEWAYHUB_REQUIRE_REDIS=1)")
        pytest.skip(reason)
    space = RedisSpace(REDIS_URL, f"gh_test_{secrets.token_hex(6)}")
    try:
        yield space
    finally:
        asyncio.run(_redis(REDIS_URL, space.prefix))


@pytest.fixture
def clock() -> FixedClock:
    """A clock that moves only when told to."""
    return FixedClock()


def pytest_report_header(config: Any) -> str:
    """Say which PostgreSQL the run uses."""
    return (
        f"gatewayhub: PostgreSQL admin URL {ADMIN_URL} (required: {REQUIRE_POSTGRES}); "
        f"Redis {REDIS_URL} (required: {REQUIRE_REDIS})"
    )
