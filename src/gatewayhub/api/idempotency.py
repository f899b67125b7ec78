"""`Idempotency-Key` over HTTP, on the core's idempotency table.

Payment operations (authorize, capture, void, refund) pass the key to the core, which claims
it in the same transaction as its first write: a request that dies half-way is resumed by
the next one with that key, never done twice. Before calling the core, the API reads the
key's row: a completed key is answered from the row (status and body as first sent, with
`Idempotent-Replayed: true`), a key used for another request is `idempotency_conflict`, and
a key still held is `request_in_progress`. Once the core is done, the response is stored
on the key, so declines and refunds replay with the status and body first sent.
Authorizations need no such second write: the core stores the payment with the key in the
transaction that gives it its outcome, and the route's answer is a pure function of that
payment, so a replay is rendered from it (`CoreAnswer`) without running the core again.

Operations without side effects in the core (route preview) claim the key here instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.responses import Response

from gatewayhub.api.problems import PROBLEM_JSON, Problem, json_response
from gatewayhub.idempotency import fingerprint
from gatewayhub.storage.store import CORE_ANSWER, ClaimOutcome, KeyCompletion, KeyRequest, Store

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


@dataclass(frozen=True, slots=True)
class CoreAnswer:
    """A key the core completed (`CORE_ANSWER`): `body` is the payment as the core stored it
    in the transaction that gave it its outcome (JSON text, or decoded)."""

    body: Any

    def json(self) -> str | bytes:
        """The payment as JSON text."""
        return self.body if isinstance(self.body, str | bytes) else json.dumps(self.body)


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
    """One request's use of a key: the operation and the request, as the core records them
    (`operation` and `payload` exactly as the core fingerprints them)."""

    merchant_id: str
    key: str
    operation: str
    payload: dict[str, Any]

    def fingerprint(self) -> str:
        """The request's fingerprint; computed only when a stored key is compared or claimed
        here (for a new key the core computes it as it claims the key)."""
        return fingerprint(self.operation, self.payload)


class HttpIdempotency:
    """Reads, claims and completes keys through the core's `Store`."""

    def __init__(self, store: Callable[[], Store], lease: timedelta) -> None:
        self._store = store
        self.lease = lease

    @property
    def store(self) -> Store:
        """The hub's store (it exists once the hub is started)."""
        return self._store()

    async def answered(self, use: KeyUse, now: datetime) -> Response | CoreAnswer | None:
        """The stored answer when the key was used before; None when the core should run;
        a `CoreAnswer` when the core completed the key (the route renders its payment)."""
        row = await self.store.peek_key(use.merchant_id, use.key)
        if row is None:
            return None
        if row.operation != use.operation or row.fingerprint != use.fingerprint():
            raise _conflict()
        if row.state == "completed" and row.response_status == CORE_ANSWER:
            return CoreAnswer(row.response_body)
        if row.state == "completed":
            stored = row.response_body
            return replay(
                int(row.response_status or 200),
                json.loads(stored) if isinstance(stored, str) else stored,
            )
        if row.locked_until is not None and row.locked_until > now:
            raise _in_progress()
        return None  # its holder died: the core resumes the operation

    async def claim(self, use: KeyUse, now: datetime) -> Response | None:
        """Claim the key for an operation the core does not key itself."""
        request = KeyRequest(use.merchant_id, use.key, use.operation, use.fingerprint(), self.lease)
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
