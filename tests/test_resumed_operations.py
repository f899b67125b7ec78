"""A capture, void or refund sent again with its idempotency key after the first request
died or ended without an answer: the retry finishes what the first request started, or
does it when the first never reached the provider - never answers as if it were done.

Regressions found by the chaos run's HTTP arm (`tests/chaos/test_chaos_http.py`): the
retry answered with the payment as it stood (200, nothing captured; a refund request
answered 404, or with an earlier refund) and stored that answer on the key for good."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gatewayhub.errors import NotSent, OperationPending, OutcomeUnknown
from gatewayhub.hub import Hub
from gatewayhub.idempotency import fingerprint
from gatewayhub.models import PaymentStatus
from gatewayhub.storage.store import KeyRequest
from gatewayhub.testing import FixedClock, charge_then

from .conftest import MakeHub, assert_books_balance, fake

LEASE = 2
GATEWAY = {"idempotency_lease_seconds": LEASE}
RETRY = {"tries_per_attempt": 1, "retrieve_tries": 1, "deadline": 1}  # send window 2 s
EUR_10 = {"amount": 1000, "currency": "EUR", "payment_method": "tok_visa"}


async def died_after_claiming(
    hub: Hub, clock: FixedClock, key: str, operation: str, payload: dict[str, object]
) -> None:
    """What a request leaves when its process dies after claiming its key and before
    journaling its attempt: the key held, nothing else; then its lease runs out."""
    request = KeyRequest(
        hub.merchant_id, key, operation, fingerprint(operation, payload), timedelta(seconds=LEASE)
    )
    await hub.store.claim_key(request, operation.split(":")[1], clock.now())
    clock.advance(LEASE + 1)


async def test_a_capture_whose_request_died_before_its_attempt_is_made_by_the_retry(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    hub = await make_hub(retry=RETRY, gateway=GATEWAY)
    payment = await hub.authorize(**EUR_10, capture="manual")
    payload = {"amount": None, "final": True}
    await died_after_claiming(hub, clock, "cap-1", f"capture:{payment.id}", payload)
    captured = await hub.capture(payment.id, idempotency_key="cap-1")
    assert (captured.status, captured.captured) == (PaymentStatus.CAPTURED, 1000)
    (charge,) = fake(hub, "a").by_key.values()
    assert charge.captured == 1000
    again = await hub.capture(payment.id, idempotency_key="cap-1")
    assert (again.status, again.captured) == (PaymentStatus.CAPTURED, 1000)
    assert len([c for c in fake(hub, "a").calls if c[0] == "capture"]) == 1
    await assert_books_balance(hub)


async def test_a_second_refund_whose_request_died_is_made_not_answered_with_the_first(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    hub = await make_hub(retry=RETRY, gateway=GATEWAY)
    payment = await hub.authorize(**EUR_10)
    first = await hub.refund(payment.id, 300, idempotency_key="ref-1")
    payload = {"amount": 500, "reason": None}
    await died_after_claiming(hub, clock, "ref-2", f"refund:{payment.id}", payload)
    second = await hub.refund(payment.id, 500, idempotency_key="ref-2")
    assert second.id != first.id
    assert second.amount == 500
    assert (await hub.get(payment.id)).refunded == 800
    (charge,) = fake(hub, "a").by_key.values()
    assert charge.refunded == 800
    await assert_books_balance(hub)


async def test_a_retried_capture_whose_outcome_is_still_unknown_is_pending_not_done(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    hub = await make_hub(retry=RETRY, gateway=GATEWAY)
    a = fake(hub, "a")
    payment = await hub.authorize(**EUR_10, capture="manual")
    a.script("capture", charge_then(OutcomeUnknown("timeout after the capture")))
    with pytest.raises(OperationPending):
        await hub.capture(payment.id, idempotency_key="cap-1")
    a.script("retrieve", OutcomeUnknown("the lookup timed out"))
    clock.advance(LEASE + 1)
    with pytest.raises(OperationPending):
        await hub.capture(payment.id, idempotency_key="cap-1")
    clock.advance(LEASE + 1)
    settled = await hub.capture(payment.id, idempotency_key="cap-1")
    assert (settled.status, settled.captured) == (PaymentStatus.CAPTURED, 1000)
    assert len([c for c in a.calls if c[0] == "capture"]) == 1, "never sent twice"
    await assert_books_balance(hub)


async def test_a_capture_that_was_not_sent_is_made_by_the_same_key_retry(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    hub = await make_hub(retry=RETRY, gateway=GATEWAY)
    a = fake(hub, "a")
    payment = await hub.authorize(**EUR_10, capture="manual")
    a.script("capture", NotSent("connection refused"))
    with pytest.raises(NotSent):
        await hub.capture(payment.id, idempotency_key="cap-1")
    clock.advance(LEASE + 1)
    captured = await hub.capture(payment.id, idempotency_key="cap-1")
    assert (captured.status, captured.captured) == (PaymentStatus.CAPTURED, 1000)
    (charge,) = a.by_key.values()
    assert charge.captured == 1000
    await assert_books_balance(hub)


async def test_a_key_used_again_after_not_sent_is_answered_by_its_latest_attempt(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    # A key whose first try was not sent is used again (the HTTP layer releases it); the
    # retry of the second try must settle the second attempt, not take the first for its own
    # and refund again (refused: nothing left to refund while the second is pending).
    hub = await make_hub(retry=RETRY, gateway=GATEWAY)
    a = fake(hub, "a")
    payment = await hub.authorize(**EUR_10)
    a.script("refund", NotSent("connection refused"))
    with pytest.raises(NotSent):
        await hub.refund(payment.id, idempotency_key="ref-1")
    clock.advance(LEASE + 1)
    a.script("refund", charge_then(OutcomeUnknown("timeout after the refund")))
    with pytest.raises(OperationPending):
        await hub.refund(payment.id, idempotency_key="ref-1")
    clock.advance(LEASE + 1)
    refund = await hub.refund(payment.id, idempotency_key="ref-1")
    assert (refund.amount, refund.status.value) == (1000, "succeeded")
    assert (await hub.get(payment.id)).refunded == 1000
    (charge,) = a.by_key.values()
    assert charge.refunded == 1000
    await assert_books_balance(hub)
