"""Several gateway instances on one database share the workers' work through leases: each
inbox item and each payment to reconcile is taken by one instance, and work claimed by an
instance that died is taken up by another once its lease runs out. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa

from gatewayhub.errors import OutcomeUnknown
from gatewayhub.hub import Hub
from gatewayhub.models import EventKind, PaymentStatus, ProviderEvent
from gatewayhub.money import Money
from gatewayhub.storage.schema import webhook_inbox
from gatewayhub.testing import FixedClock, charge_then

from .conftest import MakeHub, fake

EUR_10 = {"amount": 1000, "currency": "EUR", "payment_method": "tok_visa"}
MANUAL = {**EUR_10, "capture": "manual"}


async def inbox_rows(hub: Hub) -> list[tuple[str, str, int]]:
    def body(conn: sa.Connection) -> list[tuple[str, str, int]]:
        query = sa.select(webhook_inbox.c.event_id, webhook_inbox.c.status, webhook_inbox.c.tries)
        return [tuple(r) for r in conn.execute(query.order_by(webhook_inbox.c.id))]  # type: ignore[misc]

    return await hub.store.db.run(body)


async def drain_inbox(hub: Hub) -> int:
    handled = 0
    while taken := await hub.intake.process(limit=3):
        handled += taken
        await asyncio.sleep(0)  # let the other instance in between claims
    return handled


async def test_two_instances_apply_each_inbox_item_once(make_hub: MakeHub) -> None:
    a = await make_hub({"a": {}})
    b = await make_hub({"a": {}})
    payments = [await a.authorize(**MANUAL) for _ in range(24)]
    fake(a, "a").events = [
        ProviderEvent(
            event_id=f"evt_{n}",
            kind=EventKind.CAPTURED,
            raw_type="capture.succeeded",
            provider_reference=f"fake_{n + 1}",
            money=Money(1000, "EUR"),
        )
        for n in range(24)
    ]
    await a.handle_webhook("a", {}, b"")

    handled = await asyncio.gather(drain_inbox(a), drain_inbox(b))

    assert sum(handled) == 24, f"claimed {handled}: every item once, by one instance"
    rows = await inbox_rows(a)
    assert [(status, tries) for _, status, tries in rows] == [("processed", 1)] * 24
    for payment in payments:
        assert (await b.get(payment.id)).status is PaymentStatus.CAPTURED


async def test_an_abandoned_inbox_lease_is_taken_up_after_it_expires(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    a = await make_hub({"a": {}}, gateway={"inbox_lease_seconds": 30})
    b = await make_hub({"a": {}}, gateway={"inbox_lease_seconds": 30})
    payment = await a.authorize(**MANUAL)
    fake(a, "a").events = [
        ProviderEvent("evt_1", EventKind.CAPTURED, "capture", "fake_1", money=Money(1000, "EUR"))
    ]
    await a.handle_webhook("a", {}, b"")
    # Instance a claims the item and dies before applying it.
    assert len(await a.store.inbox_claim(clock.now(), timedelta(seconds=30))) == 1

    assert await b.process_webhooks() == 0, "the lease is a's for 30 s"
    clock.advance(29)
    assert await b.process_webhooks() == 0
    clock.advance(2)
    assert await b.process_webhooks() == 1
    assert (await b.get(payment.id)).status is PaymentStatus.CAPTURED
    assert await inbox_rows(b) == [("evt_1", "processed", 2)]


async def unknown_outcomes(hub: Hub, count: int) -> list[str]:
    """`count` payments charged at the provider whose answers were lost."""
    provider = fake(hub, "a")
    ids = []
    for _ in range(count):
        provider.script("authorize", charge_then(OutcomeUnknown("read timeout")))
        provider.script("retrieve", OutcomeUnknown("lookup timed out too"))
        payment = await hub.authorize(**EUR_10)
        assert payment.status is PaymentStatus.PROCESSING
        ids.append(payment.id)
        # Answered payments in between keep the account's circuit breaker closed.
        for _ in range(2):
            assert (await hub.authorize(**EUR_10)).status is PaymentStatus.CAPTURED
    return ids


async def test_two_instances_reconcile_each_payment_once(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    retry = {"tries_per_attempt": 1, "retrieve_tries": 1, "deadline": 10}
    a = await make_hub({"a": {}}, retry=retry)
    b = await make_hub({"a": {}}, retry=retry)
    # One provider behind both instances: b's adapter sees the charges a made.
    fake(b, "a").by_key = fake(a, "a").by_key
    ids = await unknown_outcomes(a, 12)
    lookups_before = len([c for c in fake(a, "a").calls if c[0] == "retrieve"])
    clock.advance(60)

    async def reconcile(hub: Hub) -> int:
        total = 0
        while looked_at := await hub.service.reconcile(timedelta(seconds=30), limit=2):
            total += looked_at
            await asyncio.sleep(0)
        return total

    looked_at = await asyncio.gather(reconcile(a), reconcile(b))

    assert sum(looked_at) == 12, f"looked at {looked_at}: each payment by one instance"
    lookups = len([c for c in fake(a, "a").calls if c[0] == "retrieve"]) - lookups_before
    lookups += len([c for c in fake(b, "a").calls if c[0] == "retrieve"])
    assert lookups == 12
    for payment_id in ids:
        assert (await a.get(payment_id)).status is PaymentStatus.CAPTURED
    assert fake(a, "a").charges == 12 * 3


async def test_an_abandoned_reconciliation_lease_is_taken_up_after_it_expires(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    retry = {"tries_per_attempt": 1, "retrieve_tries": 1, "deadline": 10}
    lease = {"reconcile_lease_seconds": 60, "reconcile_after_seconds": 30}
    a = await make_hub({"a": {}}, retry=retry, gateway=lease)
    b = await make_hub({"a": {}}, retry=retry, gateway=lease)
    fake(b, "a").by_key = fake(a, "a").by_key
    [payment_id] = await unknown_outcomes(a, 1)
    clock.advance(31)
    now = clock.now()
    # Instance a claims the payment for reconciliation and dies.
    claimed = await a.store.claim_unresolved(
        now, now - timedelta(seconds=30), now, timedelta(seconds=60)
    )
    assert claimed == [payment_id]

    assert await b.reconcile() == 0, "the lease is a's for 60 s"
    clock.advance(59)
    assert await b.reconcile() == 0
    clock.advance(2)
    assert await b.reconcile() == 1
    assert (await b.get(payment_id)).status is PaymentStatus.CAPTURED
    assert await b.reconcile() == 0, "a resolved payment is not claimed again"


async def test_a_payment_still_unresolved_waits_one_lease_before_the_next_look(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    a = await make_hub(
        {"a": {}},
        retry={"tries_per_attempt": 1, "retrieve_tries": 1, "deadline": 10},
        gateway={"reconcile_lease_seconds": 60, "reconcile_after_seconds": 30},
    )
    await unknown_outcomes(a, 1)
    fake(a, "a").script("retrieve", OutcomeUnknown("still down"), OutcomeUnknown("still down"))
    clock.advance(31)
    assert await a.reconcile() == 1
    assert await a.reconcile() == 0
    clock.advance(61)
    assert await a.reconcile() == 1
