"""A request that died after journaling its attempt and before the provider heard of it, and
the client retrying its idempotency key on another instance, with the reconciler of that
instance looking at the same payment. SQLite and PostgreSQL.

The retry must charge once and answer with the payment; it must never be told "declined"
because a lookup found nothing where nothing had been sent yet.
"""

from __future__ import annotations

import pytest

from gatewayhub.hub import Hub
from gatewayhub.models import AttemptStatus, AuthorizeCall, PaymentResult, PaymentStatus
from gatewayhub.testing import FakeProvider, FixedClock

from .conftest import MakeHub, fake

EUR_42 = {"amount": 4200, "currency": "EUR", "payment_method": "tok_visa"}
LEASES = {"idempotency_lease_seconds": 3, "reconcile_after_seconds": 2}
RETRY = {"deadline": 1}  # a send window of 2 s (+ the 1 s provider timeout)


class Died(BaseException):
    """The process is gone: nothing after this line of the holder runs."""


async def die_before_sending(hub: Hub, key: str) -> str:
    """Journal a payment and its attempt under `key`, then die before the provider call."""
    provider = fake(hub, "a")
    real = provider.authorize

    async def dead(call: AuthorizeCall) -> PaymentResult:
        raise Died

    provider.authorize = dead  # type: ignore[method-assign]
    with pytest.raises(Died):
        await hub.authorize(**EUR_42, idempotency_key=key)
    provider.authorize = real  # type: ignore[method-assign]
    (left,) = (await hub.list()).items
    assert left.status is PaymentStatus.PENDING
    assert [a.status for a in left.attempts] == [AttemptStatus.STARTED]
    return left.id


async def test_reconciler_first_then_retry_charges_once(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    dead = await make_hub({"a": {}}, gateway=LEASES, retry=RETRY)
    payment_id = await die_before_sending(dead, "order-1")
    survivor = await make_hub({"a": {}}, gateway=LEASES, retry=RETRY)
    provider = fake(survivor, "a")

    clock.advance(2.5)  # the attempt is overdue; the dead holder's key lease still runs
    assert await survivor.reconcile() == 1
    looked = await survivor.get(payment_id)
    assert looked.status is PaymentStatus.PENDING, "left for the client's retry"

    clock.advance(1)  # the key's lease has run out: the retry resumes the payment
    paid = await survivor.authorize(**EUR_42, idempotency_key="order-1")
    assert (paid.id, paid.status) == (payment_id, PaymentStatus.CAPTURED)
    assert provider.charges == 1
    keys = [call.key for op, call in provider.calls if op == "authorize"]
    assert keys == [looked.attempts[0].idempotency_key], "re-sent with the journaled key"
    again = await survivor.authorize(**EUR_42, idempotency_key="order-1")
    assert (again.id, again.status) == (payment_id, PaymentStatus.CAPTURED)
    assert provider.charges == 1


async def test_reconciler_during_the_resumed_send_never_hides_the_charge(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    dead = await make_hub({"a": {}}, gateway=LEASES, retry=RETRY)
    payment_id = await die_before_sending(dead, "order-2")
    survivor = await make_hub({"a": {}}, gateway=LEASES, retry=RETRY)
    provider: FakeProvider = fake(survivor, "a")
    real = provider.authorize
    looked_up: list[int] = []

    async def reconciled_meanwhile(call: AuthorizeCall) -> PaymentResult:
        # The resumed request is on its way to the provider; the reconciler asks first and
        # finds nothing, then the request lands and charges.
        looked_up.append(await survivor.reconcile())
        return await real(call)

    provider.authorize = reconciled_meanwhile  # type: ignore[method-assign]
    clock.advance(3.5)
    paid = await survivor.authorize(**EUR_42, idempotency_key="order-2")
    assert looked_up == [1]
    assert provider.charges == 1
    assert (paid.id, paid.status, paid.captured) == (payment_id, PaymentStatus.CAPTURED, 4200)
    assert [a.status for a in paid.attempts] == [AttemptStatus.SUCCEEDED]
    assert await survivor.store.unbalanced_transactions() == []


async def test_a_keyless_payment_nobody_can_retry_still_fails_when_never_sent(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    hub = await make_hub({"a": {}}, gateway=LEASES, retry=RETRY)
    provider = fake(hub, "a")
    real = provider.authorize

    async def dead(call: AuthorizeCall) -> PaymentResult:
        raise Died

    provider.authorize = dead  # type: ignore[method-assign]
    with pytest.raises(Died):
        await hub.authorize(**EUR_42)
    provider.authorize = real  # type: ignore[method-assign]
    clock.advance(2.5)
    assert await hub.reconcile() == 1
    (view,) = (await hub.list()).items
    assert view.status is PaymentStatus.FAILED
    assert view.decline is not None
    assert view.decline.code == "processing_error"
    assert provider.charges == 0
