"""Storage on SQLite and PostgreSQL: claims, optimistic saves, constraints, inbox, migrations."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from gatewayhub.models import CaptureMode, PaymentMethodType, PaymentStatus
from gatewayhub.payment import Payment
from gatewayhub.storage import ClaimOutcome, Store, VersionConflict, open_database
from gatewayhub.storage.database import Database, SQLiteDatabase
from gatewayhub.storage.schema import metadata
from gatewayhub.storage.statements import EncodedJSON
from gatewayhub.storage.store import KeyCompletion, KeyRequest

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    await database.migrate()
    yield database
    await database.close()


def new_payment(payment_id: str = "pay_01A") -> Payment:
    return Payment(
        id=payment_id,
        merchant_id="m",
        status=PaymentStatus.PENDING,
        amount=1000,
        currency="EUR",
        capture_mode=CaptureMode.AUTOMATIC,
        method_type=PaymentMethodType.CARD,
        created_at=NOW,
        updated_at=NOW,
    )


def key(fingerprint: str = "f1", lease: float = 60) -> KeyRequest:
    return KeyRequest("m", "order-1", "authorize", fingerprint, timedelta(seconds=lease))


async def test_claim_outcomes(db: Database) -> None:
    store = Store(db)
    assert (
        await store.create_payment(new_payment("pay_1"), key(), NOW)
    ).outcome is ClaimOutcome.NEW
    running = await store.create_payment(new_payment("pay_2"), key(), NOW)
    assert (running.outcome, running.resource_id) == (ClaimOutcome.IN_PROGRESS, "pay_1")
    assert await store.load("pay_2") is None, "a refused claim stores nothing"
    assert (
        await store.create_payment(new_payment("pay_3"), key("other"), NOW)
    ).outcome is ClaimOutcome.CONFLICT
    later = NOW + timedelta(seconds=61)
    resumed = await store.create_payment(new_payment("pay_4"), key(), later)
    assert (resumed.outcome, resumed.resource_id) == (ClaimOutcome.RESUME, "pay_1")
    again = await store.create_payment(new_payment("pay_5"), key(), later)
    assert again.outcome is ClaimOutcome.IN_PROGRESS, "the resumer now holds the lease"
    await store.complete_key(KeyCompletion("m", "order-1", 200, {"id": "pay_1"}), later)
    replay = await store.create_payment(new_payment("pay_6"), key(), later)
    assert (replay.outcome, replay.response_body) == (ClaimOutcome.REPLAY, {"id": "pay_1"})


async def test_a_pre_encoded_answer_reads_back_as_json(db: Database) -> None:
    store = Store(db)
    await store.create_payment(new_payment("pay_1"), key(), NOW)
    answer = EncodedJSON('{"id":"pay_1","amount":1000,"metadata":{"order":"\u00e9"}}')
    await store.complete_key(KeyCompletion("m", "order-1", 200, answer), NOW)
    replay = await store.create_payment(new_payment("pay_2"), key(), NOW)
    assert replay.response_body == {"id": "pay_1", "amount": 1000, "metadata": {"order": "é"}}


async def test_peeking_at_a_key_reads_its_row_without_claiming_it(db: Database) -> None:
    store = Store(db)
    assert await store.peek_key("m", "order-1") is None
    await store.create_payment(new_payment("pay_1"), key(), NOW)
    held = await store.peek_key("m", "order-1")
    assert held is not None
    assert (held.operation, held.fingerprint, held.state) == ("authorize", "f1", "in_progress")
    assert held.locked_until == NOW + timedelta(seconds=60), "read back as an aware UTC time"
    assert await store.peek_key("other-merchant", "order-1") is None
    await store.complete_key(KeyCompletion("m", "order-1", 201, {"id": "pay_1"}), NOW)
    done = await store.peek_key("m", "order-1")
    assert done is not None
    assert (done.state, done.response_status, done.locked_until) == ("completed", 201, None)
    body = done.response_body
    assert (json.loads(body) if isinstance(body, str) else body) == {"id": "pay_1"}
    again = await store.create_payment(new_payment("pay_2"), key(), NOW)
    assert again.outcome is ClaimOutcome.REPLAY, "peeking claimed nothing"


async def test_a_read_does_not_wait_for_the_write_lock(tmp_path: Path) -> None:
    # Another process holds SQLite's write lock: writes wait for it, a read goes ahead.
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    database = SQLiteDatabase(url, busy_timeout_ms=100)
    await database.migrate()
    store = Store(database)
    await store.create_payment(new_payment("pay_1"), key(), NOW)
    other = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        held = await store.peek_key("m", "order-1")
        assert held is not None
        assert held.state == "in_progress"
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await store.create_payment(new_payment("pay_2"), key("f2"), NOW)
    finally:
        other.rollback()
        other.close()
        await database.close()


async def test_the_search_for_unresolved_payments_starts_from_open_attempts(
    sqlite_url: str, tmp_path: Path
) -> None:
    # It runs every few seconds on every instance: scanning every payment would grow with
    # the table; the plan must go through the open attempts' index instead.
    database = SQLiteDatabase(sqlite_url)
    await database.migrate()
    sent: list[tuple[str, Any]] = []

    def keep(*args: Any) -> None:
        _conn, _cursor, statement, parameters, _context, _many = args
        sent.append((statement, parameters))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", keep)
    try:
        await Store(database).unresolved(NOW, NOW, 10)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", keep)
        await database.close()
    statement, parameters = next((s, p) for s, p in sent if "attempts" in s)
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as probe:
        plan = [row[3] for row in probe.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    assert not any(step.startswith("SCAN payments") for step in plan), plan
    assert any("ix_attempts_status_started_at" in step for step in plan), plan


async def test_concurrent_claims_have_one_winner(db: Database) -> None:
    store = Store(db)
    claims = await asyncio.gather(
        *(store.create_payment(new_payment(f"pay_{n}"), key(), NOW) for n in range(20))
    )
    assert [c.outcome for c in claims].count(ClaimOutcome.NEW) == 1


async def test_saves_are_guarded_by_version(db: Database) -> None:
    store = Store(db)
    await store.create_payment(new_payment(), None, NOW)
    first = await store.load("pay_01A")
    second = await store.load("pay_01A")
    assert first is not None
    assert second is not None
    first.note("x", NOW)
    await store.save(first)
    second.note("y", NOW)
    with pytest.raises(VersionConflict):
        await store.save(second)
    assert [e.type for e in await store.events("pay_01A")] == ["x"]


@pytest.mark.parametrize(
    "change",
    [
        "captured = 2000, authorized = 1000",
        "refunded = 10, captured = 0",
        "authorized = 5000",
        "amount = 0",
    ],
)
async def test_money_invariants_are_database_constraints(db: Database, change: str) -> None:
    store = Store(db)
    await store.create_payment(new_payment(), None, NOW)
    with pytest.raises(sa.exc.IntegrityError):
        await db.run(
            lambda conn: conn.execute(sa.text(f"UPDATE payments SET {change} WHERE id = 'pay_01A'"))
        )


async def test_inbox_deduplicates_and_leases(db: Database) -> None:
    store = Store(db)
    assert await store.inbox_add("acct", [("evt_1", "t", "{}"), ("evt_2", "t", "{}")], NOW) == [
        True,
        True,
    ]
    assert await store.inbox_add("acct", [("evt_1", "t", "{}")], NOW) == [False]
    assert await store.inbox_add("other", [("evt_1", "t", "{}")], NOW) == [True]
    claimed = await store.inbox_claim(NOW, timedelta(seconds=30))
    assert len(claimed) == 3
    assert await store.inbox_claim(NOW, timedelta(seconds=30)) == [], (
        "leased items are not handed out twice"
    )
    await store.inbox_finish(claimed[0].id, "processed", NOW)
    again = await store.inbox_claim(NOW + timedelta(seconds=31), timedelta(seconds=30))
    assert sorted(i.id for i in again) == sorted(i.id for i in claimed[1:]), (
        "expired leases come back"
    )


async def test_migrations_match_the_schema(db: Database) -> None:
    def diff(conn: sa.Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    assert await db.run(diff) == []


async def test_migrating_twice_is_harmless(db: Database) -> None:
    await db.migrate()
    version = await db.run(
        lambda conn: conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    )
    assert version == "0006"
