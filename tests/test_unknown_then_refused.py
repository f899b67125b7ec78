"""A "not sent" after a send whose outcome is unknown is not proof that nothing moved.

Regressions found by the chaos run (docs/reliability.md): a provider in a 429 storm or an
outage refuses the same-key replay before its idempotency layer sees it, so the refusal says
nothing about the first request - which may have charged the card.
"""

from __future__ import annotations

from typing import Any

import pytest

from gatewayhub.errors import DeclineCode, NotSent, OutcomeUnknown
from gatewayhub.models import AttemptStatus, PaymentStatus
from gatewayhub.testing import FixedClock, charge_then

from .conftest import MakeHub, assert_books_balance, fake

EUR_10 = {"amount": 1000, "currency": "EUR", "payment_method": "tok_visa"}


def refused() -> NotSent:
    return NotSent("HTTP 429 rate limited", decline_code=DeclineCode.RATE_LIMITED, retry_after=0.0)


class Crash(BaseException):
    """The gateway process dies (nothing after it runs)."""


async def test_a_refused_replay_after_a_timeout_is_reconciled_not_failed_over(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    hub = await make_hub(retry={"tries_per_attempt": 3, "retrieve_tries": 1})
    a = fake(hub, "a")
    a.script("authorize", charge_then(OutcomeUnknown("read timeout")), refused(), refused())
    a.script("retrieve", refused())
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.PROCESSING
    assert [at.status for at in payment.attempts] == [AttemptStatus.UNKNOWN]
    assert fake(hub, "b").calls == [], "never failed over while the first outcome is unknown"
    clock.advance(100)  # past the reconcile delay
    await hub.reconcile()
    settled = await hub.get(payment.id)
    assert (settled.status, settled.provider) == (PaymentStatus.CAPTURED, "a")
    assert a.charges == 1
    await assert_books_balance(hub)


async def test_refusals_alone_still_fail_over(make_hub: MakeHub) -> None:
    hub = await make_hub(retry={"tries_per_attempt": 2})
    fake(hub, "a").script("authorize", refused(), refused())
    payment = await hub.authorize(**EUR_10)
    assert (payment.status, payment.provider) == (PaymentStatus.CAPTURED, "b")
    assert fake(hub, "a").charges == 0


async def test_a_resumed_attempt_refused_on_replay_is_reconciled_not_failed_over(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    hub = await make_hub(
        retry={"tries_per_attempt": 2, "retrieve_tries": 1, "deadline": 4},
        gateway={"idempotency_lease_seconds": 5},
    )
    a = fake(hub, "a")

    def charge_and_die(call: Any) -> Any:
        a._charge(call)
        raise Crash

    a.script("authorize", charge_and_die)
    with pytest.raises(Crash):
        await hub.authorize(**EUR_10, idempotency_key="order-1")
    clock.advance(6)  # the dead request's lease runs out
    a.script("authorize", refused(), refused())
    a.script("retrieve", refused())
    payment = await hub.authorize(**EUR_10, idempotency_key="order-1")
    assert payment.status is PaymentStatus.PROCESSING
    assert fake(hub, "b").calls == [], "the first send may have charged: no failover"
    clock.advance(100)  # past the reconcile delay
    await hub.reconcile()
    settled = await hub.get(payment.id)
    assert (settled.status, settled.provider) == (PaymentStatus.CAPTURED, "a")
    assert a.charges == 1
    await assert_books_balance(hub)
