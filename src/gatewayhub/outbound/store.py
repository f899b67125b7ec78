"""The outbound-webhook tables: endpoints, fan-out of the outbox, leased deliveries.

Each public method is one transaction. Fan-out and claiming coordinate dispatchers through the
database: on PostgreSQL with `FOR UPDATE SKIP LOCKED`, on SQLite through its single writer
(every transaction there is BEGIN IMMEDIATE) and conditional updates. A claimed delivery
carries a lease (`locked_until`) and its try number; the outcome is written only if the
delivery still has that try number, so a dispatcher whose lease ran out (it hung, or another
took over after a crash) cannot overwrite a newer outcome.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from gatewayhub.ids import new_id
from gatewayhub.outbound.events import matches
from gatewayhub.outbound.views import DeliveryStatus
from gatewayhub.storage.database import Database
from gatewayhub.storage.schema import outbox, webhook_deliveries, webhook_endpoints

E = webhook_endpoints
D = webhook_deliveries
_PENDING = DeliveryStatus.PENDING.value


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery leased to one dispatcher, with what it needs to send it."""

    id: str
    endpoint_id: str
    merchant_id: str
    event_id: str
    event_type: str
    tries: int  # including this one
    give_up_at: datetime
    url: str
    sealed_secret: str
    # The secret a rotation replaced, while it still signs (None once it has expired).
    previous_sealed_secret: str | None
    allow_private: bool
    payload: dict[str, Any]
    event_created_at: datetime


@dataclass(frozen=True, slots=True)
class SealedSecrets:
    """An endpoint's signing secrets as stored (sealed): current, and the rotated-out one."""

    endpoint_id: str
    secret: str
    previous: str | None

    def __repr__(self) -> str:
        return f"SealedSecrets(endpoint_id={self.endpoint_id!r}, ...)"


def _lock(query: sa.Select[Any], conn: Connection, *of: sa.Table) -> sa.Select[Any]:
    if conn.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, of=list(of) or None)
    return query


def _insert_deliveries(conn: Connection, rows: list[dict[str, Any]]) -> None:
    table_insert = (
        postgresql.insert(D) if conn.dialect.name == "postgresql" else sqlite.insert(D)
    ).on_conflict_do_nothing(index_elements=["outbox_id", "endpoint_id"])
    conn.execute(table_insert, rows)


def _fail_pending(conn: Connection, endpoint_id: str, reason: str) -> None:
    conn.execute(
        D.update()
        .where((D.c.endpoint_id == endpoint_id) & (D.c.status == _PENDING))
        .values(status=DeliveryStatus.FAILED.value, last_error=reason[:500], locked_until=None)
    )


class OutboundStore:
    """Transactions over the outbound-webhook tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- endpoints ----------------------------------------------------------------------------

    async def add_endpoint(self, row: dict[str, Any]) -> dict[str, Any]:
        """Insert an endpoint row; return it."""

        def body(conn: Connection) -> dict[str, Any]:
            conn.execute(E.insert().values(**row))
            return dict(conn.execute(sa.select(E).where(E.c.id == row["id"])).one()._mapping)

        return await self.db.run(body)

    async def endpoint(self, merchant_id: str, endpoint_id: str) -> dict[str, Any] | None:
        """One of the merchant's endpoints (None also for another merchant's)."""

        def body(conn: Connection) -> dict[str, Any] | None:
            row = conn.execute(
                sa.select(E).where((E.c.id == endpoint_id) & (E.c.merchant_id == merchant_id))
            ).first()
            return dict(row._mapping) if row else None

        return await self.db.run(body)

    async def endpoints(self, merchant_id: str) -> list[dict[str, Any]]:
        """The merchant's endpoints, oldest first."""

        def body(conn: Connection) -> list[dict[str, Any]]:
            rows = conn.execute(sa.select(E).where(E.c.merchant_id == merchant_id).order_by(E.c.id))
            return [dict(r._mapping) for r in rows]

        return await self.db.run(body)

    async def delete_endpoint(self, merchant_id: str, endpoint_id: str) -> bool:
        """Remove an endpoint and its deliveries; False if the merchant has no such endpoint."""

        def body(conn: Connection) -> bool:
            found = conn.execute(
                sa.select(E.c.id).where((E.c.id == endpoint_id) & (E.c.merchant_id == merchant_id))
            ).first()
            if found is None:
                return False
            conn.execute(D.delete().where(D.c.endpoint_id == endpoint_id))
            conn.execute(E.delete().where(E.c.id == endpoint_id))
            return True

        return await self.db.run(body)

    async def set_enabled(
        self,
        merchant_id: str | None,
        endpoint_id: str,
        enabled: bool,
        reason: str | None,
        now: datetime,
    ) -> dict[str, Any] | None:
        """Enable or disable an endpoint. Disabling fails its pending deliveries (they can be
        redelivered once it is enabled again). `merchant_id` None: the dispatcher's own call."""

        def body(conn: Connection) -> dict[str, Any] | None:
            where = E.c.id == endpoint_id
            if merchant_id is not None:
                where &= E.c.merchant_id == merchant_id
            result = conn.execute(
                E.update()
                .where(where)
                .values(
                    enabled=enabled, disabled_reason=None if enabled else reason, updated_at=now
                )
            )
            if result.rowcount != 1:
                return None
            if not enabled:
                _fail_pending(conn, endpoint_id, f"endpoint disabled: {reason}")
            return dict(conn.execute(sa.select(E).where(E.c.id == endpoint_id)).one()._mapping)

        return await self.db.run(body)

    async def rotate_secret(
        self,
        merchant_id: str,
        endpoint_id: str,
        sealed: str,
        previous_until: datetime | None,
        now: datetime,
    ) -> dict[str, Any] | None:
        """Make `sealed` the endpoint's secret; the one it replaces keeps signing until
        `previous_until` (None: it stops at once, and so does any earlier one). With an
        overlap, only while no earlier rotation's secret still signs. None if nothing was
        changed (no such endpoint of the merchant's, or an overlap still running)."""

        def body(conn: Connection) -> dict[str, Any] | None:
            where = (E.c.id == endpoint_id) & (E.c.merchant_id == merchant_id)
            if previous_until is not None:
                # Checked in the UPDATE itself, so two concurrent rotations cannot both pass.
                expires = E.c.previous_secret_expires_at
                where &= expires.is_(None) | (expires <= now)
            result = conn.execute(
                E.update()
                .where(where)
                .values(
                    # SET reads the row as it was: the replaced secret, not `sealed`.
                    previous_secret=E.c.secret if previous_until is not None else None,
                    previous_secret_expires_at=previous_until,
                    secret=sealed,
                    updated_at=now,
                )
            )
            if result.rowcount != 1:
                return None
            return dict(conn.execute(sa.select(E).where(E.c.id == endpoint_id)).one()._mapping)

        return await self.db.run(body)

    async def sealed_secrets(self, endpoint_id: str | None = None) -> list[SealedSecrets]:
        """Every endpoint's sealed secrets, of all merchants (for re-sealing), or one's."""

        def body(conn: Connection) -> list[SealedSecrets]:
            query = sa.select(E.c.id, E.c.secret, E.c.previous_secret).order_by(E.c.id)
            if endpoint_id is not None:
                query = query.where(E.c.id == endpoint_id)
            return [SealedSecrets(r.id, r.secret, r.previous_secret) for r in conn.execute(query)]

        return await self.db.run(body)

    async def replace_sealed(self, was: SealedSecrets, now: SealedSecrets) -> bool:
        """Store `now` in place of `was`; False (nothing written) if the row no longer holds
        `was` - a rotation or a deletion came first."""

        def body(conn: Connection) -> bool:
            result = conn.execute(
                E.update()
                .where(
                    (E.c.id == was.endpoint_id)
                    & (E.c.secret == was.secret)
                    & (
                        E.c.previous_secret.is_(None)
                        if was.previous is None
                        else E.c.previous_secret == was.previous
                    )
                )
                .values(secret=now.secret, previous_secret=now.previous)
            )
            return result.rowcount == 1

        return await self.db.run(body)

    # -- deliveries ---------------------------------------------------------------------------

    async def deliveries(
        self,
        merchant_id: str,
        endpoint_id: str,
        *,
        status: DeliveryStatus | None,
        limit: int,
        before: str | None,
    ) -> list[dict[str, Any]]:
        """An endpoint's deliveries, newest first; `before` is the last id of the previous
        page."""

        def body(conn: Connection) -> list[dict[str, Any]]:
            query = sa.select(D).where(
                (D.c.endpoint_id == endpoint_id) & (D.c.merchant_id == merchant_id)
            )
            if status is not None:
                query = query.where(D.c.status == status.value)
            if before:
                query = query.where(D.c.id < before)
            rows = conn.execute(query.order_by(D.c.id.desc()).limit(limit))
            return [dict(r._mapping) for r in rows]

        return await self.db.run(body)

    async def redeliver(
        self,
        merchant_id: str,
        *,
        delivery_id: str | None = None,
        event_id: str | None = None,
        now: datetime,
        window: timedelta,
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Put deliveries (one by id, or every endpoint's delivery of an event) back in the
        queue for a new round of tries. Returns (requeued rows, ids skipped because their
        endpoint is disabled)."""

        def body(conn: Connection) -> tuple[list[dict[str, Any]], list[str]]:
            query = (
                sa.select(D.c.id, E.c.enabled)
                .join(E, E.c.id == D.c.endpoint_id)
                .where(D.c.merchant_id == merchant_id)
            )
            if delivery_id is not None:
                query = query.where(D.c.id == delivery_id)
            else:
                query = query.where(D.c.event_id == event_id)
            found = list(conn.execute(query.order_by(D.c.id)))
            ready = [r.id for r in found if r.enabled]
            if ready:
                conn.execute(
                    D.update()
                    .where(D.c.id.in_(ready))
                    .values(
                        status=_PENDING,
                        tries=0,
                        next_attempt_at=now,
                        give_up_at=now + window,
                        locked_until=None,
                        delivered_at=None,
                    )
                )
            rows = conn.execute(sa.select(D).where(D.c.id.in_(ready)).order_by(D.c.id))
            return [dict(r._mapping) for r in rows], [r.id for r in found if not r.enabled]

        return await self.db.run(body)

    # -- the dispatcher's side ----------------------------------------------------------------

    async def fan_out(self, now: datetime, window: timedelta, limit: int) -> int:
        """Turn pending outbox rows into one delivery per matching enabled endpoint, and mark
        them dispatched, in one transaction. Returns how many outbox rows were handled."""

        def body(conn: Connection) -> int:
            rows = list(
                conn.execute(
                    _lock(
                        sa.select(
                            outbox.c.id, outbox.c.merchant_id, outbox.c.type, outbox.c.created_at
                        )
                        .where(outbox.c.status == "pending")
                        .order_by(outbox.c.id)
                        .limit(limit),
                        conn,
                    )
                )
            )
            if not rows:
                return 0
            targets: dict[str, list[tuple[str, list[str] | None]]] = defaultdict(list)
            for endpoint in conn.execute(
                sa.select(E.c.id, E.c.merchant_id, E.c.events).where(
                    E.c.enabled & E.c.merchant_id.in_({r.merchant_id for r in rows})
                )
            ):
                targets[endpoint.merchant_id].append((endpoint.id, endpoint.events))
            deliveries: list[dict[str, Any]] = []
            for row in rows:
                event_id = new_id("evt", row.created_at)
                deliveries.extend(
                    {
                        "id": new_id("dlv", now),
                        "endpoint_id": endpoint_id,
                        "merchant_id": row.merchant_id,
                        "outbox_id": row.id,
                        "event_id": event_id,
                        "event_type": row.type,
                        "status": _PENDING,
                        "tries": 0,
                        "next_attempt_at": now,
                        "give_up_at": now + window,
                        "created_at": now,
                    }
                    for endpoint_id, events in targets[row.merchant_id]
                    if matches(events, row.type)
                )
            if deliveries:
                _insert_deliveries(conn, deliveries)
            conn.execute(
                outbox.update()
                .where(outbox.c.id.in_([r.id for r in rows]) & (outbox.c.status == "pending"))
                .values(status="dispatched", delivered_at=now)
            )
            return len(rows)

        return await self.db.run(body)

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[ClaimedDelivery]:
        """Lease due deliveries of enabled endpoints (expired leases included)."""

        def body(conn: Connection) -> list[ClaimedDelivery]:
            due = (D.c.status == _PENDING) & (D.c.next_attempt_at <= now)
            free = D.c.locked_until.is_(None) | (D.c.locked_until < now)
            candidates = _lock(
                sa.select(D.c.id)
                .join(E, E.c.id == D.c.endpoint_id)
                .where(due & free & E.c.enabled)
                .order_by(D.c.next_attempt_at, D.c.id)
                .limit(limit),
                conn,
                D,
            )
            ids = [r.id for r in conn.execute(candidates)]
            if not ids:
                return []
            # Conditional: only rows still due and free are taken.
            claimed = [
                r.id
                for r in conn.execute(
                    D.update()
                    .where(D.c.id.in_(ids) & due & free)
                    .values(locked_until=now + lease, tries=D.c.tries + 1)
                    .returning(D.c.id)
                )
            ]
            if not claimed:
                return []
            rows = conn.execute(
                sa.select(
                    D.c.id,
                    D.c.endpoint_id,
                    D.c.merchant_id,
                    D.c.event_id,
                    D.c.event_type,
                    D.c.tries,
                    D.c.give_up_at,
                    E.c.url,
                    E.c.secret,
                    E.c.previous_secret,
                    E.c.previous_secret_expires_at,
                    E.c.allow_private,
                    outbox.c.payload,
                    outbox.c.created_at,
                )
                .join(E, E.c.id == D.c.endpoint_id)
                .join(outbox, outbox.c.id == D.c.outbox_id)
                .where(D.c.id.in_(claimed))
                .order_by(D.c.next_attempt_at, D.c.id)
            )
            return [
                ClaimedDelivery(
                    id=r.id,
                    endpoint_id=r.endpoint_id,
                    merchant_id=r.merchant_id,
                    event_id=r.event_id,
                    event_type=r.event_type,
                    tries=r.tries,
                    give_up_at=r.give_up_at,
                    url=r.url,
                    sealed_secret=r.secret,
                    previous_sealed_secret=(
                        r.previous_secret
                        if r.previous_secret_expires_at is not None
                        and r.previous_secret_expires_at > now
                        else None
                    ),
                    allow_private=r.allow_private,
                    payload=dict(r.payload),
                    event_created_at=r.created_at,
                )
                for r in rows
            ]

        return await self.db.run(body)

    async def record(
        self,
        delivery: ClaimedDelivery,
        *,
        now: datetime,
        status_code: int | None,
        error: str | None,
        retry_at: datetime | None,
        disable_reason: str | None = None,
    ) -> bool:
        """Write the outcome of one try: delivered (no error), retry at `retry_at`, or failed
        (neither). `disable_reason` also disables the endpoint (HTTP 410). False when the
        delivery moved on meanwhile (redelivered, or retaken after the lease ran out)."""

        def body(conn: Connection) -> bool:
            if error is None:
                values: dict[str, Any] = {
                    "status": DeliveryStatus.DELIVERED.value,
                    "delivered_at": now,
                }
            elif retry_at is not None:
                values = {"status": _PENDING, "next_attempt_at": retry_at}
            else:
                values = {"status": DeliveryStatus.FAILED.value}
            result = conn.execute(
                D.update()
                .where(
                    (D.c.id == delivery.id)
                    & (D.c.tries == delivery.tries)
                    & (D.c.status == _PENDING)
                )
                .values(
                    **values,
                    locked_until=None,
                    last_attempt_at=now,
                    last_status_code=status_code,
                    last_error=error[:500] if error else None,
                )
            )
            if disable_reason is not None:
                conn.execute(
                    E.update()
                    .where(E.c.id == delivery.endpoint_id)
                    .values(enabled=False, disabled_reason=disable_reason, updated_at=now)
                )
                _fail_pending(conn, delivery.endpoint_id, f"endpoint disabled: {disable_reason}")
            return bool(result.rowcount == 1)

        return await self.db.run(body)
