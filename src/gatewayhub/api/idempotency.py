"""`Idempotency-Key` over HTTP, on the core's idempotency table.

Payment operations (authorize, capture, void, refund) pass the key to the core, which claims
it in the same transaction as its first write: a request that dies half-way is resumed by
the next one with that key, never done twice. Before calling the core, the API reads the
key's row: a completed key is answered from the row (status and body as first sent, with
`Idempotent-Replayed: true`), a key used for another request is `idempotency_conflict`, and
a key still held is `request_in_progress`. Once the core is done, the exact response is
stored on the key, so declines and refunds replay byte for byte.

Operations without side effects in the core (route preview) claim the key here instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from starlette.responses import Response

from gatewayhub.api.problems import PROBLEM_JSON, Problem, json_response
from gatewayhub.idempotency import fingerprint
from gatewayhub.storage.schema import idempotency_keys
from gatewayhub.storage.store import CORE_ANSWER, ClaimOutcome, KeyCompletion, KeyRequest, Store

HEADER = "Idempotency-Key"
_PEEK = sa.select(
    idempotency_keys.c.operation,
    idempotency_keys.c.fingerprint,
    idempotency_keys.c.state,
    idempotency_keys.c.response_status,
    idempotency_keys.c.response_body,
    idempotency_keys.c.locked_until,
).where(
    (idempotency_keys.c.merchant_id == sa.bindparam("merchant"))
    & (idempotency_keys.c.key == sa.bindparam("key"))
)
# The lookup runs before every keyed POST: compiled once per dialect and sent through the
# driver, as the store's hot statements are (through SQLAlchemy's execute it cost ~0.7 ms).
_PEEK_SQL: dict[str, tuple[str, tuple[str, ...]]] = {}


def _peek(conn: Connection, merchant_id: str, key: str) -> Any:
    dialect = conn.dialect.name
    if dialect not in _PEEK_SQL:
        compiled = _PEEK.compile(dialect=conn.dialect)
        _PEEK_SQL[dialect] = (str(compiled), tuple(compiled.positiontup or ()))
    sql, names = _PEEK_SQL[dialect]
    values = {"merchant": merchant_id, "key": key}
    return conn.exec_driver_sql(sql, tuple(values[n] for n in names)).first()


def _utc(value: datetime | str) -> datetime:
    """A lease end as the driver returns it (SQLite: SQLAlchemy's naive UTC text)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


REPLAYED = "Idempotent-Replayed"
RENDER = Response(status_code=204)
"""`answered` for a key the core completed (`CORE_ANSWER`): run the route, which finds the
payment through the core's replay and renders it exactly as the first request did."""


def read_key(value: str | None) -> str | None:
    """The header's key, validated: 1-255 visible ASCII characters."""
    if value is None:
        return None
    if not 1 <= len(value) <= 255 or not all(33 <= ord(c) <= 126 for c in value):
        raise Problem(
            400,
            "validation_error",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
            errors=[{"field": HEADER, "message": "1 to 255 visible ASCII characters"}],
        )
    return value


def replay(status: int, body: Any) -> Response:
    """A stored answer, marked as such."""
    media = PROBLEM_JSON if status >= 400 else "application/json"
    return json_response(status, body, {REPLAYED: "true"}, media)


def _conflict() -> Problem:
    return Problem(
        422, "idempotency_conflict", "this Idempotency-Key was used with a different request"
    )


def _in_progress() -> Problem:
    return Problem(
        409,
        "request_in_progress",
        "a request with this Idempotency-Key is still running; retry shortly",
        headers={"Retry-After": "1"},
    )


@dataclass(frozen=True, slots=True)
class KeyUse:
    """One request's use of a key: the operation and request fingerprint the core records."""

    merchant_id: str
    key: str
    operation: str
    fingerprint: str

    @classmethod
    def of(cls, merchant_id: str, key: str, operation: str, payload: dict[str, Any]) -> KeyUse:
        """`operation` and `payload` exactly as the core fingerprints them."""
        return cls(merchant_id, key, operation, fingerprint(operation, payload))


class HttpIdempotency:
    """Reads, claims and completes keys through the core's `Store`."""

    def __init__(self, store: Callable[[], Store], lease: timedelta) -> None:
        self._store = store
        self.lease = lease

    @property
    def store(self) -> Store:
        """The hub's store (it exists once the hub is started)."""
        return self._store()

    async def answered(self, use: KeyUse, now: datetime) -> Response | None:
        """The stored answer when the key was used before; None when the core should run;
        `RENDER` when the core's stored payment is to be rendered by the route as a replay."""

        def body(conn: Connection) -> Any:
            return _peek(conn, use.merchant_id, use.key)

        row = await self.store.db.run(body)
        if row is None:
            return None
        operation, fingerprint_, state, status, stored, locked_until = row
        if operation != use.operation or fingerprint_ != use.fingerprint:
            raise _conflict()
        if state == "completed" and status == CORE_ANSWER:
            return RENDER  # the core finished; the route renders its answer as a replay
        if state == "completed":
            return replay(status, json.loads(stored) if isinstance(stored, str) else stored)
        if locked_until is not None and _utc(locked_until) > now:
            raise _in_progress()
        return None  # its holder died: the core resumes the operation

    async def claim(self, use: KeyUse, now: datetime) -> Response | None:
        """Claim the key for an operation the core does not key itself."""
        request = KeyRequest(use.merchant_id, use.key, use.operation, use.fingerprint, self.lease)
        claim = await self.store.claim_key(request, "", now)
        if claim.outcome is ClaimOutcome.CONFLICT:
            raise _conflict()
        if claim.outcome is ClaimOutcome.IN_PROGRESS:
            raise _in_progress()
        if claim.outcome is ClaimOutcome.REPLAY:
            return replay(int(claim.response_status or 200), claim.response_body)
        return None

    async def complete(self, use: KeyUse, status: int, body: Any, now: datetime) -> None:
        """Store the response sent (a key the core released stays released)."""
        await self.store.complete_key(KeyCompletion(use.merchant_id, use.key, status, body), now)

    async def release(self, use: KeyUse) -> None:
        """Forget a key whose request certainly changed nothing, so it may be retried."""
        await self.store.release_key(use.merchant_id, use.key)
