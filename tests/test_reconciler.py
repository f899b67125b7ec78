"""The background reconciler's schedule: per-payment back-off, a bound, and the alert."""

from __future__ import annotations

import logging

import pytest

from gatewayhub.errors import OperationPending, OutcomeUnknown
from gatewayhub.hub import Hub
from gatewayhub.models import PaymentStatus
from gatewayhub.testing import FixedClock, charge_then

from .conftest import MakeHub, assert_books_balance, fake

EUR_10 = {"amount": 1000, "currency": "EUR", "payment_method": "tok_visa"}
GATEWAY = {
    "reconcile_after_seconds": 30,
    "reconcile_backoff_max_seconds": 40,
    "reconcile_alert_after_seconds": 100,
}


async def unknown_payment(make_hub: MakeHub, lookups_failing: int) -> tuple[Hub, str]:
    hub = await make_hub(
        retry={"tries_per_attempt": 1, "retrieve_tries": 1, "deadline": 10}, gateway=GATEWAY
    )
    a = fake(hub, "a")
    a.script("authorize", charge_then(OutcomeUnknown("timeout")))
    a.script("retrieve", *[OutcomeUnknown("lookup timed out")] * (lookups_failing + 1))
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.PROCESSING
    return hub, payment.id


async def test_lookups_back_off_per_payment_up_to_the_maximum(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    hub, payment_id = await unknown_payment(make_hub, lookups_failing=10)
    reconciler = hub.reconciler
    a = fake(hub, "a")
    lookups_before = len([c for c in a.calls if c[0] == "retrieve"])
    clock.advance(29)
    assert (await reconciler.run_once()).looked_up == 0, "not overdue yet"
    clock.advance(2)
    waits = []
    for _ in range(5):
        done = await reconciler.run_once()
        assert (done.looked_up, done.resolved) == (1, 0)
        next_at = reconciler.next_lookup(payment_id)
        waits.append((next_at - clock.now()).total_seconds())
        assert (await reconciler.run_once()).looked_up == 0, "backing off"
        clock.advance(waits[-1])
    # The interval is the worker's (30 / 3 = 10 s), doubling, capped at 40 s.
    assert waits == [10, 20, 40, 40, 40]
    lookups = len([c for c in a.calls if c[0] == "retrieve"]) - lookups_before
    assert lookups == 5


async def test_an_outcome_unknown_past_the_bound_is_logged_and_counted(
    make_hub: MakeHub, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    hub, payment_id = await unknown_payment(make_hub, lookups_failing=10)
    reconciler = hub.reconciler
    clock.advance(30)
    await reconciler.run_once()
    assert hub.reconciler_unresolved == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    clock.advance(80)  # 110 s since the attempt: past the 100 s bound
    with caplog.at_level(logging.WARNING, logger="gatewayhub.reconciler"):
        done = await reconciler.run_once()
    assert done.unresolved_past_bound == 1
    assert hub.reconciler_unresolved == 1
    alerts = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(alerts) == 1
    assert payment_id in alerts[0].getMessage()


async def test_a_settled_payment_leaves_the_schedule_and_the_gauge(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    hub, payment_id = await unknown_payment(make_hub, lookups_failing=1)
    reconciler = hub.reconciler
    clock.advance(200)
    first = await reconciler.run_once()
    assert (first.looked_up, first.resolved, first.unresolved_past_bound) == (1, 0, 1)
    clock.advance(10)
    second = await reconciler.run_once()
    assert (second.looked_up, second.resolved, second.unresolved_past_bound) == (1, 1, 0)
    assert hub.reconciler_unresolved == 0
    assert reconciler.next_lookup(payment_id) is None
    payment = await hub.get(payment_id)
    assert payment.status is PaymentStatus.CAPTURED
    assert fake(hub, "a").charges == 1
    assert fake(hub, "b").calls == []
    await assert_books_balance(hub)


async def test_a_refund_that_never_reached_the_provider_is_settled_by_a_same_key_replay(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    # Regression (chaos run): the gateway process died between journaling a refund and
    # sending it. A lookup of the charge shows no refund, which settled nothing, so the
    # refund stayed open - and the payment unresolved - forever.
    hub = await make_hub(
        retry={"tries_per_attempt": 1, "retrieve_tries": 1, "deadline": 10}, gateway=GATEWAY
    )
    a = fake(hub, "a")
    payment = await hub.authorize(**EUR_10)
    a.script("refund", OutcomeUnknown("the connection dropped before the request went out"))
    with pytest.raises(OperationPending):
        await hub.refund(payment.id, 400)
    clock.advance(31)
    done = await hub.reconciler.run_once()
    assert (done.looked_up, done.resolved) == (1, 1)
    settled = await hub.get(payment.id)
    assert (settled.status, settled.refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 400)
    refund_keys = [c[1].key for c in a.calls if c[0] == "refund"]
    assert len(refund_keys) == 2
    assert len(set(refund_keys)) == 1, "the replay used the refund's own key"
    await assert_books_balance(hub)


async def test_a_refund_the_provider_made_is_not_made_again_by_the_replay(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    hub = await make_hub(
        retry={"tries_per_attempt": 1, "retrieve_tries": 1, "deadline": 10}, gateway=GATEWAY
    )
    a = fake(hub, "a")
    payment = await hub.authorize(**EUR_10)
    a.script("refund", charge_then(OutcomeUnknown("timeout after the refund was made")))
    a.script("retrieve", OutcomeUnknown("the lookup failed too"))
    with pytest.raises(OperationPending):
        await hub.refund(payment.id, 400)
    clock.advance(31)
    await hub.reconciler.run_once()
    settled = await hub.get(payment.id)
    assert settled.refunded == 400
    (charge,) = a.by_key.values()
    assert charge.refunded == 400, "the provider refunded once"
    await assert_books_balance(hub)


async def test_one_pass_looks_up_every_due_payment(make_hub: MakeHub, clock: FixedClock) -> None:
    hub = await make_hub(
        retry={"tries_per_attempt": 1, "retrieve_tries": 1, "deadline": 10}, gateway=GATEWAY
    )
    a = fake(hub, "a")
    ids = []
    for _ in range(3):
        a.script("authorize", charge_then(OutcomeUnknown("timeout")))
        a.script("retrieve", OutcomeUnknown("lookup timed out"))
        ids.append((await hub.authorize(**EUR_10)).id)
    clock.advance(31)
    done = await hub.reconciler.run_once()
    assert (done.looked_up, done.resolved) == (3, 3)
    for payment_id in ids:
        assert (await hub.get(payment_id)).status is PaymentStatus.CAPTURED
    assert a.charges == 3
    await assert_books_balance(hub)
