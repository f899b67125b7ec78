"""Reading and writing payments, idempotency keys, the ledger and the webhook inbox.

Each public method is one transaction. `save` writes a payment with everything its `changes`
collected - attempts, refunds, history, ledger postings, merchant events, and optionally the
completed idempotency record - atomically, guarded by the payment's version so that a webhook
and a response racing on one payment cannot overwrite each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from gatewayhub.ids import new_id
from gatewayhub.models import (
    AttemptStatus,
    CaptureMode,
    Operation,
    PaymentMethodType,
    PaymentStatus,
    RefundStatus,
)
from gatewayhub.payment import Attempt, Event, Payment, Refund
from gatewayhub.storage.database import Database
from gatewayhub.storage.schema import (
    attempts,
    idempotency_keys,
    ledger_entries,
    outbox,
    payment_events,
    payments,
    refunds,
    webhook_inbox,
)
from gatewayhub.storage.statements import HotQuery, HotStatement


class VersionConflict(Exception):
    """The payment changed since it was loaded; reload and apply again."""


class ClaimOutcome(StrEnum):
    """What claiming a client idempotency key found."""

    NEW = "new"  # first use: the caller owns the key and its new resource
    REPLAY = "replay"  # completed before: answer with the stored result
    CONFLICT = "conflict"  # used before with another request
    IN_PROGRESS = "in_progress"  # another request holds it right now
    RESUME = "resume"  # its holder died (lease expired): the caller takes over the resource


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of a claim and what the key points at."""

    outcome: ClaimOutcome
    resource_id: str | None = None
    response_status: int | None = None
    response_body: Any = None


@dataclass(frozen=True, slots=True)
class KeyRequest:
    """A client idempotency key to claim together with creating a resource."""

    merchant_id: str
    key: str
    operation: str
    fingerprint: str
    lease: timedelta


@dataclass(frozen=True, slots=True)
class KeyCompletion:
    """The result to store against a key once its request is done."""

    merchant_id: str
    key: str
    status: int
    body: Any


@dataclass(frozen=True, slots=True)
class KeyState:
    """What a key's row says, read before a request runs."""

    operation: str
    fingerprint: str
    state: str
    response_status: int | None
    response_body: Any  # JSON text, or the decoded value, as the driver returns it
    locked_until: datetime | None


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A stored provider webhook event waiting to be applied."""

    id: int
    account: str
    event_id: str
    body: str
    tries: int


_OPEN_ATTEMPTS = (
    AttemptStatus.STARTED.value,
    AttemptStatus.UNKNOWN.value,
    AttemptStatus.PENDING.value,
)
_PAYMENT_STATE = (
    "status",
    "provider",
    "provider_reference",
    "authorized",
    "captured",
    "refunded",
    "fees",
    "decline_code",
    "decline_message",
    "next_action",
    "updated_at",
)
_ATTEMPT_STATE = (
    "status",
    "finished_at",
    "provider_reference",
    "decline_code",
    "decision",
    "provider_code",
    "message",
    "tries",
)
_REFUND_STATE = ("status", "provider_reference", "decline_code", "updated_at")
_KEY_WHERE = (idempotency_keys.c.merchant_id == sa.bindparam("b_merchant")) & (
    idempotency_keys.c.key == sa.bindparam("b_key")
)
_KEY_SELECT = sa.select(idempotency_keys).where(_KEY_WHERE).with_for_update()
_KEY_PEEK = HotQuery(
    sa.select(
        idempotency_keys.c.operation,
        idempotency_keys.c.fingerprint,
        idempotency_keys.c.state,
        idempotency_keys.c.response_status,
        idempotency_keys.c.response_body,
        idempotency_keys.c.locked_until,
    ).where(_KEY_WHERE)
)


def _insert(table: sa.Table, skip: tuple[str, ...] = ()) -> HotStatement:
    """INSERT of every column but `skip` (left to their defaults)."""
    keys = [c.key for c in table.c if c.key not in skip]
    return HotStatement(table.insert().inline(), keys)


def _insert_or_skip(table: sa.Table, conflict: list[str], columns: list[str]) -> HotStatement:
    """INSERT `columns` ... ON CONFLICT (`conflict`) DO NOTHING, in each dialect's syntax."""
    return HotStatement(
        {
            "sqlite": sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict).inline(),
            "postgresql": postgresql.insert(table)
            .on_conflict_do_nothing(index_elements=conflict)
            .inline(),
        },
        columns,
    )


_PAYMENT_INSERT = _insert(payments, skip=("reconcile_until",))
_PAYMENT_UPDATE = HotStatement(
    payments.update().where(
        (payments.c.id == sa.bindparam("b_id")) & (payments.c.version == sa.bindparam("b_version"))
    ),
    [*_PAYMENT_STATE, "version"],
)
_ATTEMPT_INSERT = _insert(attempts)
_ATTEMPT_UPDATE = HotStatement(
    attempts.update().where(attempts.c.id == sa.bindparam("b_id")), _ATTEMPT_STATE
)
_REFUND_INSERT = _insert(refunds)
_REFUND_UPDATE = HotStatement(
    refunds.update().where(refunds.c.id == sa.bindparam("b_id")), _REFUND_STATE
)
_EVENT_INSERT = _insert(payment_events, skip=("id",))
_LEDGER_INSERT = _insert(ledger_entries, skip=("id",))
_OUTBOX_INSERT = _insert(outbox, skip=("id", "locked_until", "delivered_at"))
_KEY_CLAIM = _insert_or_skip(
    idempotency_keys,
    ["merchant_id", "key"],
    [
        "merchant_id",
        "key",
        "operation",
        "fingerprint",
        "state",
        "resource_id",
        "locked_until",
        "created_at",
        "updated_at",
    ],
)
_KEY_LEASE = HotStatement(
    idempotency_keys.update().where(_KEY_WHERE), ["locked_until", "updated_at"]
)
_KEY_COMPLETE = HotStatement(
    idempotency_keys.update().where(_KEY_WHERE),
    ["state", "response_status", "response_body", "locked_until", "updated_at"],
)
_INBOX_ADD = _insert_or_skip(
    webhook_inbox,
    ["account", "event_id"],
    ["account", "event_id", "event_type", "body", "status", "tries", "received_at"],
)


# -- row mapping ------------------------------------------------------------------------------


def _payment_values(p: Payment) -> dict[str, Any]:
    return {
        "status": p.status.value,
        "provider": p.provider,
        "provider_reference": p.provider_reference,
        "authorized": p.authorized,
        "captured": p.captured,
        "refunded": p.refunded,
        "fees": p.fees,
        "decline_code": p.decline_code,
        "decline_message": p.decline_message,
        "next_action": p.next_action,
        "updated_at": p.updated_at,
    }


def _payment_row(p: Payment) -> dict[str, Any]:
    return {
        "id": p.id,
        "merchant_id": p.merchant_id,
        "amount": p.amount,
        "currency": p.currency,
        "capture_mode": p.capture_mode.value,
        "method_type": p.method_type.value,
        "brand": p.brand,
        "funding": p.funding,
        "issuer_country": p.issuer_country,
        "last4": p.last4,
        "reference": p.reference,
        "description": p.description,
        "customer_country": p.customer_country,
        "metadata": p.metadata,
        "route": p.route,  # decided before the payment is stored, never changed after
        "created_at": p.created_at,
        "version": p.version,
        **_payment_values(p),
    }


def _payment_from(row: Row[Any]) -> Payment:
    m = row._mapping
    return Payment(
        id=m["id"],
        merchant_id=m["merchant_id"],
        status=PaymentStatus(m["status"]),
        amount=m["amount"],
        currency=m["currency"],
        capture_mode=CaptureMode(m["capture_mode"]),
        method_type=PaymentMethodType(m["method_type"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        brand=m["brand"],
        funding=m["funding"],
        issuer_country=m["issuer_country"],
        last4=m["last4"],
        reference=m["reference"],
        description=m["description"],
        customer_country=m["customer_country"],
        metadata=dict(m["metadata"] or {}),
        provider=m["provider"],
        provider_reference=m["provider_reference"],
        authorized=m["authorized"],
        captured=m["captured"],
        refunded=m["refunded"],
        fees=m["fees"],
        decline_code=m["decline_code"],
        decline_message=m["decline_message"],
        next_action=m["next_action"],
        route=m["route"],
        version=m["version"],
    )


def _attempt_values(a: Attempt) -> dict[str, Any]:
    return {
        "status": a.status.value,
        "finished_at": a.finished_at,
        "provider_reference": a.provider_reference,
        "decline_code": a.decline_code,
        "decision": a.decision,
        "provider_code": a.provider_code,
        "message": a.message[:500] if a.message else None,
        "tries": a.tries,
    }


def _attempt_row(a: Attempt) -> dict[str, Any]:
    return {
        "id": a.id,
        "payment_id": a.payment_id,
        "seq": a.seq,
        "operation": a.operation.value,
        "provider": a.provider,
        "key": a.key,
        "amount": a.amount,
        "currency": a.currency,
        "started_at": a.started_at,
        "refund_id": a.refund_id,
        "final": a.final,
        **_attempt_values(a),
    }


def _attempt_from(row: Row[Any]) -> Attempt:
    m = row._mapping
    return Attempt(
        id=m["id"],
        payment_id=m["payment_id"],
        seq=m["seq"],
        operation=Operation(m["operation"]),
        provider=m["provider"],
        key=m["key"],
        amount=m["amount"],
        currency=m["currency"],
        status=AttemptStatus(m["status"]),
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        provider_reference=m["provider_reference"],
        decline_code=m["decline_code"],
        decision=m["decision"],
        provider_code=m["provider_code"],
        message=m["message"],
        refund_id=m["refund_id"],
        final=m["final"],
        tries=m["tries"],
    )


def _refund_values(r: Refund) -> dict[str, Any]:
    return {
        "status": r.status.value,
        "provider_reference": r.provider_reference,
        "decline_code": r.decline_code,
        "updated_at": r.updated_at,
    }


def _refund_from(row: Row[Any]) -> Refund:
    m = row._mapping
    return Refund(
        id=m["id"],
        payment_id=m["payment_id"],
        amount=m["amount"],
        currency=m["currency"],
        status=RefundStatus(m["status"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        reason=m["reason"],
        provider_reference=m["provider_reference"],
        decline_code=m["decline_code"],
    )


# -- transaction bodies -------------------------------------------------------------------------


def _aware(value: datetime | str | None) -> datetime | None:
    """A datetime as the driver returns it (SQLite: SQLAlchemy's naive UTC text), as UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _claim(conn: Connection, req: KeyRequest, resource_id: str, now: datetime) -> Claim:
    inserted = _KEY_CLAIM.execute(
        conn,
        {
            "merchant_id": req.merchant_id,
            "key": req.key,
            "operation": req.operation,
            "fingerprint": req.fingerprint,
            "state": "in_progress",
            "resource_id": resource_id,
            "locked_until": now + req.lease,
            "created_at": now,
            "updated_at": now,
        },
    )
    if inserted == 1:
        return Claim(ClaimOutcome.NEW, resource_id)
    where = {"b_merchant": req.merchant_id, "b_key": req.key}
    row = conn.execute(_KEY_SELECT, where).one()._mapping
    if row["fingerprint"] != req.fingerprint or row["operation"] != req.operation:
        return Claim(ClaimOutcome.CONFLICT, row["resource_id"])
    if row["state"] == "completed":
        return Claim(
            ClaimOutcome.REPLAY, row["resource_id"], row["response_status"], row["response_body"]
        )
    if row["locked_until"] is not None and row["locked_until"] > now:
        return Claim(ClaimOutcome.IN_PROGRESS, row["resource_id"])
    _KEY_LEASE.execute(conn, {**where, "locked_until": now + req.lease, "updated_at": now})
    return Claim(ClaimOutcome.RESUME, row["resource_id"])


def _flush(conn: Connection, p: Payment) -> None:
    ch = p.changes
    if ch.new_attempts:
        _ATTEMPT_INSERT.executemany(conn, [_attempt_row(a) for a in ch.new_attempts])
    if ch.touched_attempts:
        _ATTEMPT_UPDATE.executemany(
            conn, [{"b_id": a.id, **_attempt_values(a)} for a in ch.touched_attempts.values()]
        )
    if ch.new_refunds:
        _REFUND_INSERT.executemany(
            conn,
            [
                {
                    "id": r.id,
                    "payment_id": r.payment_id,
                    "merchant_id": p.merchant_id,
                    "amount": r.amount,
                    "currency": r.currency,
                    "reason": r.reason,
                    "created_at": r.created_at,
                    **_refund_values(r),
                }
                for r in ch.new_refunds
            ],
        )
    if ch.touched_refunds:
        _REFUND_UPDATE.executemany(
            conn, [{"b_id": r.id, **_refund_values(r)} for r in ch.touched_refunds.values()]
        )
    if ch.events:
        _EVENT_INSERT.executemany(
            conn,
            [
                {
                    "payment_id": p.id,
                    "type": e.type,
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "data": e.data,
                    "created_at": e.at,
                }
                for e in ch.events
            ],
        )
    if ch.postings:
        rows: list[dict[str, Any]] = []
        for posting in ch.postings:
            transaction_id = new_id("ltx", p.updated_at)
            rows.extend(
                {
                    "transaction_id": transaction_id,
                    "merchant_id": p.merchant_id,
                    "payment_id": p.id,
                    "refund_id": posting.refund_id,
                    "kind": posting.kind,
                    "account": account,
                    "currency": posting.currency,
                    "amount": amount,
                    "created_at": p.updated_at,
                }
                for account, amount in posting.entries
            )
        _LEDGER_INSERT.executemany(conn, rows)
    if ch.outbox:
        _OUTBOX_INSERT.executemany(
            conn,
            [
                {
                    "merchant_id": p.merchant_id,
                    "payment_id": p.id,
                    "type": m.type,
                    "payload": m.payload,
                    "status": "pending",
                    "tries": 0,
                    "created_at": p.updated_at,
                    "next_attempt_at": p.updated_at,
                }
                for m in ch.outbox
            ],
        )


def _lease(
    conn: Connection,
    candidates: sa.Select[Any],
    table: sa.Table,
    free: sa.ColumnElement[bool],
    values: dict[str, Any],
) -> list[Any]:
    """Take the rows `candidates` selects (their ids) by writing `values` on them; returns
    the ids taken. Instances never take one row twice: on PostgreSQL the candidates are
    locked with SKIP LOCKED, so a concurrent claimer takes other rows instead of waiting;
    on SQLite the transaction holds the write lock from its start (BEGIN IMMEDIATE). The
    UPDATE repeats the `free` condition, so it takes nothing another claimer took first."""
    if conn.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = [r[0] for r in conn.execute(candidates)]
    if not ids:
        return []
    taken = conn.execute(
        table.update().where(table.c.id.in_(ids) & free).values(**values).returning(table.c.id)
    )
    return [r[0] for r in taken]


def _complete_key(conn: Connection, done: KeyCompletion, now: datetime) -> None:
    _KEY_COMPLETE.execute(
        conn,
        {
            "b_merchant": done.merchant_id,
            "b_key": done.key,
            "state": "completed",
            "response_status": done.status,
            "response_body": done.body,
            "locked_until": None,
            "updated_at": now,
        },
    )


CORE_ANSWER = 0
"""The `response_status` of a key the core completed: the body is the payment as the core
left it, not yet an HTTP answer (the HTTP layer renders it as the route does: 201, 402 or
503 problem, a refund view...), so a replay never shows a status nobody sent."""


def _overdue(older_than: datetime, waiting_older_than: datetime) -> sa.ColumnElement[bool]:
    """A payment with an attempt open since before `older_than`, or waiting for the
    customer (requires_action) since before `waiting_older_than`."""
    # Driven from the open attempts (index on status, started_at): a handful of rows,
    # however many payments the table holds; a correlated EXISTS scanned every payment.
    return payments.c.id.in_(
        sa.select(attempts.c.payment_id).where(
            (attempts.c.status.in_(_OPEN_ATTEMPTS) & (attempts.c.started_at < older_than))
            | (
                (attempts.c.status == AttemptStatus.REQUIRES_ACTION.value)
                & (attempts.c.started_at < waiting_older_than)
            )
        )
    )


class Store:
    """Transactions over a `Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- payments -----------------------------------------------------------------------------

    async def create_payment(
        self, payment: Payment, key: KeyRequest | None, now: datetime
    ) -> Claim:
        """Insert `payment` (with its pending changes), claiming `key` in the same transaction.
        Nothing is inserted unless the claim is NEW."""

        def body(conn: Connection) -> Claim:
            if key is not None:
                claim = _claim(conn, key, payment.id, now)
                if claim.outcome is not ClaimOutcome.NEW:
                    return claim
            _PAYMENT_INSERT.execute(conn, _payment_row(payment))
            _flush(conn, payment)
            return Claim(ClaimOutcome.NEW, payment.id)

        claim = await self.db.run(body)
        if claim.outcome is ClaimOutcome.NEW:
            payment.changes = type(payment.changes)()
        return claim

    async def save(self, payment: Payment, complete: KeyCompletion | None = None) -> None:
        """Write the payment and its changes; raise `VersionConflict` if it moved meanwhile."""

        def body(conn: Connection) -> None:
            updated = _PAYMENT_UPDATE.execute(
                conn,
                {
                    "b_id": payment.id,
                    "b_version": payment.version,
                    "version": payment.version + 1,
                    **_payment_values(payment),
                },
            )
            if updated != 1:
                raise VersionConflict(payment.id)
            _flush(conn, payment)
            if complete is not None:
                _complete_key(conn, complete, payment.updated_at)

        await self.db.run(body)
        payment.version += 1
        payment.changes = type(payment.changes)()

    async def load(self, payment_id: str, merchant_id: str | None = None) -> Payment | None:
        """A payment with its attempts and refunds, or None (also for another merchant's)."""

        def body(conn: Connection) -> Payment | None:
            query = sa.select(payments).where(payments.c.id == payment_id)
            if merchant_id is not None:
                query = query.where(payments.c.merchant_id == merchant_id)
            row = conn.execute(query).first()
            if row is None:
                return None
            payment = _payment_from(row)
            payment.attempts = [
                _attempt_from(r)
                for r in conn.execute(
                    sa.select(attempts)
                    .where(attempts.c.payment_id == payment_id)
                    .order_by(attempts.c.seq)
                )
            ]
            payment.refunds = [
                _refund_from(r)
                for r in conn.execute(
                    sa.select(refunds)
                    .where(refunds.c.payment_id == payment_id)
                    .order_by(refunds.c.created_at, refunds.c.id)
                )
            ]
            return payment

        return await self.db.run(body)

    async def load_refund(self, refund_id: str, merchant_id: str) -> Refund | None:
        """One refund of `merchant_id`'s (None for another merchant's: ids do not leak)."""
        query = sa.select(refunds).where(
            (refunds.c.id == refund_id) & (refunds.c.merchant_id == merchant_id)
        )

        def body(conn: Connection) -> Refund | None:
            row = conn.execute(query).first()
            return None if row is None else _refund_from(row)

        return await self.db.run(body)

    async def find_payment_id(
        self,
        account: str,
        *,
        provider_reference: str | None = None,
        attempt_key: str | None = None,
        payment_id: str | None = None,
    ) -> str | None:
        """The payment a provider event is about, by reference, by key, or by our own id."""

        def body(conn: Connection) -> str | None:
            if attempt_key:
                found = conn.execute(
                    sa.select(attempts.c.payment_id).where(attempts.c.key == attempt_key)
                ).scalar()
                if found:
                    return str(found)
            if provider_reference:
                found = conn.execute(
                    sa.select(attempts.c.payment_id)
                    .where(
                        (attempts.c.provider == account)
                        & (attempts.c.provider_reference == provider_reference)
                    )
                    .limit(1)
                ).scalar()
                if found:
                    return str(found)
                found = conn.execute(
                    sa.select(payments.c.id).where(
                        (payments.c.provider == account)
                        & (payments.c.provider_reference == provider_reference)
                    )
                ).scalar()
                if found:
                    return str(found)
            if payment_id:
                found = conn.execute(
                    sa.select(payments.c.id).where(payments.c.id == payment_id)
                ).scalar()
                if found:
                    return str(found)
            return None

        return await self.db.run(body)

    async def list_payments(
        self,
        merchant_id: str,
        *,
        limit: int = 20,
        before: str | None = None,
        status: PaymentStatus | None = None,
        provider: str | None = None,
        currency: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
    ) -> list[Payment]:
        """Newest first; `before` is the cursor (the last id of the previous page)."""

        def body(conn: Connection) -> list[Payment]:
            query = sa.select(payments).where(payments.c.merchant_id == merchant_id)
            if before:
                query = query.where(payments.c.id < before)
            if status is not None:
                query = query.where(payments.c.status == status.value)
            if provider is not None:
                query = query.where(payments.c.provider == provider)
            if currency is not None:
                query = query.where(payments.c.currency == currency)
            if created_from is not None:
                query = query.where(payments.c.created_at >= created_from)
            if created_to is not None:
                query = query.where(payments.c.created_at < created_to)
            rows = conn.execute(query.order_by(payments.c.id.desc()).limit(limit))
            found = {p.id: p for p in map(_payment_from, rows)}
            if found:
                ids = list(found)
                for row in conn.execute(
                    sa.select(attempts)
                    .where(attempts.c.payment_id.in_(ids))
                    .order_by(attempts.c.seq)
                ):
                    found[row.payment_id].attempts.append(_attempt_from(row))
                for row in conn.execute(
                    sa.select(refunds)
                    .where(refunds.c.payment_id.in_(ids))
                    .order_by(refunds.c.created_at, refunds.c.id)
                ):
                    found[row.payment_id].refunds.append(_refund_from(row))
            return list(found.values())

        return await self.db.run(body)

    async def events(self, payment_id: str) -> list[Event]:
        """A payment's history, oldest first."""

        def body(conn: Connection) -> list[Event]:
            rows = conn.execute(
                sa.select(payment_events)
                .where(payment_events.c.payment_id == payment_id)
                .order_by(payment_events.c.id)
            )
            return [
                Event(r.type, r.created_at, r.from_status, r.to_status, dict(r.data or {}))
                for r in rows
            ]

        return await self.db.run(body)

    async def unresolved(
        self, older_than: datetime, waiting_older_than: datetime, limit: int = 100
    ) -> list[str]:
        """Payments with an attempt open since before `older_than`, or waiting for the
        customer since before `waiting_older_than`, leased or not (a read: for alerts and
        checks; the reconciler claims with `claim_unresolved`)."""
        query = (
            sa.select(payments.c.id)
            .where(_overdue(older_than, waiting_older_than))
            .order_by(payments.c.created_at, payments.c.id)
            .limit(limit)
        )
        return [str(i) for i in await self.db.run(lambda conn: conn.execute(query).scalars().all())]

    async def claim_unresolved(
        self,
        now: datetime,
        older_than: datetime,
        waiting_older_than: datetime,
        lease: timedelta,
        limit: int = 100,
    ) -> list[str]:
        """Lease the `unresolved` payments no other instance holds. The lease is kept until
        it runs out (or `reconcile_later` moves it), so a payment still unresolved after its
        lookup is looked at again one lease later, by any instance."""

        def body(conn: Connection) -> list[str]:
            free = payments.c.reconcile_until.is_(None) | (payments.c.reconcile_until <= now)
            query = (
                sa.select(payments.c.id)
                .where(_overdue(older_than, waiting_older_than) & free)
                .order_by(payments.c.created_at, payments.c.id)
                .limit(limit)
            )
            return _lease(conn, query, payments, free, {"reconcile_until": now + lease})

        return [str(i) for i in await self.db.run(body)]

    async def reconcile_later(self, payment_id: str, until: datetime) -> None:
        """Hold a payment out of reconciliation until `until` (its back-off), on every
        instance: the lease is the schedule."""
        statement = (
            payments.update().where(payments.c.id == payment_id).values(reconcile_until=until)
        )
        await self.db.run(lambda conn: conn.execute(statement))

    # -- idempotency --------------------------------------------------------------------------

    async def complete_key(self, done: KeyCompletion, now: datetime) -> None:
        """Store the final answer to a key outside a payment save (errors, replays)."""
        await self.db.run(lambda conn: _complete_key(conn, done, now))

    async def release_key(self, merchant_id: str, key: str) -> None:
        """Forget a key whose request failed before doing anything (the client may retry)."""
        await self.db.run(
            lambda conn: conn.execute(
                idempotency_keys.delete().where(
                    (idempotency_keys.c.merchant_id == merchant_id)
                    & (idempotency_keys.c.key == key)
                    & (idempotency_keys.c.state == "in_progress")
                )
            )
        )

    async def awaits_resume(self, merchant_id: str, payment_id: str) -> bool:
        """Whether a client request on this payment never got its answer: an idempotency key
        naming it is still in progress, so the client is expected to retry with that key.
        (The merchant narrows the search to a prefix of the keys' primary key.)"""
        query = sa.select(sa.literal(1)).where(
            (idempotency_keys.c.merchant_id == merchant_id)
            & (idempotency_keys.c.resource_id == payment_id)
            & (idempotency_keys.c.state == "in_progress")
        )
        return await self.db.run(lambda conn: conn.execute(query.limit(1)).first() is not None)

    async def peek_key(self, merchant_id: str, key: str) -> KeyState | None:
        """A key's row, read without claiming it (None when the key is new)."""
        row = await self.db.read(
            lambda conn: _KEY_PEEK.first(conn, {"b_merchant": merchant_id, "b_key": key})
        )
        if row is None:
            return None
        operation, fingerprint, state, status, body, locked_until = row
        return KeyState(operation, fingerprint, state, status, body, _aware(locked_until))

    async def claim_key(self, key: KeyRequest, resource_id: str, now: datetime) -> Claim:
        """Claim a key for an operation on an existing resource (capture, refund, ...)."""
        return await self.db.run(lambda conn: _claim(conn, key, resource_id, now))

    # -- ledger -------------------------------------------------------------------------------

    async def ledger_balances(self, merchant_id: str | None = None) -> list[tuple[str, str, int]]:
        """(account, currency, balance) over all entries, optionally for one merchant."""

        def body(conn: Connection) -> list[tuple[str, str, int]]:
            query = sa.select(
                ledger_entries.c.account,
                ledger_entries.c.currency,
                sa.func.sum(ledger_entries.c.amount),
            ).group_by(ledger_entries.c.account, ledger_entries.c.currency)
            if merchant_id is not None:
                query = query.where(ledger_entries.c.merchant_id == merchant_id)
            return [
                (r[0], r[1], int(r[2]))
                for r in conn.execute(
                    query.order_by(ledger_entries.c.account, ledger_entries.c.currency)
                )
            ]

        return await self.db.run(body)

    async def unbalanced_transactions(self) -> list[str]:
        """Ledger transactions whose entries do not sum to zero (must always be empty)."""

        def body(conn: Connection) -> list[str]:
            rows = conn.execute(
                sa.select(ledger_entries.c.transaction_id)
                .group_by(ledger_entries.c.transaction_id)
                .having(sa.func.sum(ledger_entries.c.amount) != 0)
            )
            return [str(r[0]) for r in rows]

        return await self.db.run(body)

    async def ledger_entries(self, payment_id: str) -> list[dict[str, Any]]:
        """A payment's ledger entries, in order."""

        def body(conn: Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                sa.select(ledger_entries)
                .where(ledger_entries.c.payment_id == payment_id)
                .order_by(ledger_entries.c.id)
            )
            return [dict(r._mapping) for r in rows]

        return await self.db.run(body)

    # -- provider webhook inbox ---------------------------------------------------------------

    async def inbox_add(
        self, account: str, items: Sequence[tuple[str, str, str]], now: datetime
    ) -> list[bool]:
        """Store (event_id, event_type, body) items; for each, True if it was new."""

        def body(conn: Connection) -> list[bool]:
            fresh = []
            for event_id, event_type, text in items:
                inserted = _INBOX_ADD.execute(
                    conn,
                    {
                        "account": account,
                        "event_id": event_id,
                        "event_type": event_type[:96],
                        "body": text,
                        "status": "pending",
                        "tries": 0,
                        "received_at": now,
                    },
                )
                fresh.append(inserted == 1)
            return fresh

        return await self.db.run(body)

    async def inbox_claim(
        self, now: datetime, lease: timedelta, limit: int = 50
    ) -> list[InboxItem]:
        """Lease pending inbox items (expired leases included) for processing."""

        def body(conn: Connection) -> list[InboxItem]:
            free = webhook_inbox.c.locked_until.is_(None) | (webhook_inbox.c.locked_until < now)
            query = (
                sa.select(webhook_inbox.c.id)
                .where((webhook_inbox.c.status == "pending") & free)
                .order_by(webhook_inbox.c.id)
                .limit(limit)
            )
            ids = _lease(
                conn,
                query,
                webhook_inbox,
                free,
                {"locked_until": now + lease, "tries": webhook_inbox.c.tries + 1},
            )
            if not ids:
                return []
            rows = conn.execute(
                sa.select(webhook_inbox)
                .where(webhook_inbox.c.id.in_(ids))
                .order_by(webhook_inbox.c.id)
            )
            return [InboxItem(r.id, r.account, r.event_id, r.body, r.tries) for r in rows]

        return await self.db.run(body)

    async def inbox_pending(self) -> int:
        """How many inbox items wait to be applied (a backlog gauge)."""
        return int(
            await self.db.run(
                lambda conn: conn.execute(
                    sa.select(sa.func.count()).where(webhook_inbox.c.status == "pending")
                ).scalar_one()
            )
        )

    async def inbox_finish(
        self, item_id: int, status: str, now: datetime, error: str | None = None
    ) -> None:
        """Mark an inbox item processed (or failed, with the reason)."""
        await self.db.run(
            lambda conn: conn.execute(
                webhook_inbox.update()
                .where(webhook_inbox.c.id == item_id)
                .values(
                    status=status,
                    processed_at=now,
                    locked_until=None,
                    error=error[:500] if error else None,
                )
            )
        )

    async def inbox_retry_later(self, item_id: int, until: datetime, error: str) -> None:
        """Keep an item pending (its payment is not known yet) until `until`."""
        await self.db.run(
            lambda conn: conn.execute(
                webhook_inbox.update()
                .where(webhook_inbox.c.id == item_id)
                .values(locked_until=until, error=error[:500])
            )
        )
