"""The payment flows through the SDK, on SQLite and PostgreSQL, with scripted providers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gatewayhub.errors import (
    Decision,
    Decline,
    DeclineCode,
    IdempotencyConflict,
    IntegrityError,
    InvalidState,
    NotFound,
    NotSent,
    OperationPending,
    OutcomeUnknown,
    RequestInProgress,
)
from gatewayhub.models import (
    AttemptStatus,
    NextAction,
    PaymentResult,
    PaymentStatus,
    ProviderStatus,
)
from gatewayhub.money import Money
from gatewayhub.testing import FixedClock, charge_then

from .conftest import MakeHub, assert_books_balance, fake

EUR_10 = {"amount": 1000, "currency": "EUR", "payment_method": "tok_visa"}


def declined(
    code: DeclineCode, decision: Decision = Decision.FINAL, hard: bool = False
) -> PaymentResult:
    return PaymentResult(
        ProviderStatus.DECLINED,
        "ref_declined",
        decline=Decline(code, decision, code.value, "", hard),
    )


async def test_purchase_is_captured_with_balanced_books(make_hub: MakeHub) -> None:
    hub = await make_hub()
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.CAPTURED
    assert (payment.authorized, payment.captured, payment.provider) == (1000, 1000, "a")
    assert [a.status for a in payment.attempts] == [AttemptStatus.SUCCEEDED]
    assert fake(hub, "a").charges == 1
    await assert_books_balance(hub)


async def test_soft_decline_is_final_by_default(make_hub: MakeHub) -> None:
    hub = await make_hub()
    fake(hub, "a").script("authorize", declined(DeclineCode.INSUFFICIENT_FUNDS))
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.FAILED
    assert payment.decline is not None
    assert payment.decline.code == "insufficient_funds"
    assert fake(hub, "b").calls == []


async def test_soft_decline_cascades_when_enabled(make_hub: MakeHub) -> None:
    hub = await make_hub(retry={"cascade_soft_declines": True})
    fake(hub, "a").script("authorize", declined(DeclineCode.DO_NOT_HONOR))
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.CAPTURED
    assert payment.provider == "b"
    assert [(a.provider, a.status) for a in payment.attempts] == [
        ("a", AttemptStatus.DECLINED),
        ("b", AttemptStatus.SUCCEEDED),
    ]


async def test_cascade_limit_is_respected(make_hub: MakeHub) -> None:
    hub = await make_hub(retry={"cascade_soft_declines": True, "max_cascades": 1})
    fake(hub, "a").script("authorize", declined(DeclineCode.DO_NOT_HONOR))
    fake(hub, "b").script("authorize", declined(DeclineCode.DO_NOT_HONOR))
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.FAILED
    assert fake(hub, "c").calls == []


async def test_hard_decline_never_cascades_even_when_enabled(make_hub: MakeHub) -> None:
    hub = await make_hub(retry={"cascade_soft_declines": True})
    fake(hub, "a").script("authorize", declined(DeclineCode.CARD_BLOCKED, hard=True))
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.FAILED
    assert payment.decline is not None
    assert payment.decline.code == "card_blocked"
    assert len(fake(hub, "a").calls) == 1
    assert fake(hub, "b").calls == []


async def test_not_sent_retries_same_provider_then_fails_over(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    hub = await make_hub(retry={"tries_per_attempt": 3})
    a = fake(hub, "a")
    a.script("authorize", *[NotSent("connection refused")] * 3)
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.CAPTURED
    assert payment.provider == "b"
    first = payment.attempts[0]
    assert (first.provider, first.status, first.tries) == ("a", AttemptStatus.NOT_SENT, 3)
    keys = {call.key for op, call in a.calls}
    assert keys == {first.idempotency_key}, "every retry of an attempt reuses its key"
    assert len(clock.slept) == 2, "back-off between the three tries"


async def test_rate_limit_honours_retry_after(make_hub: MakeHub, clock: FixedClock) -> None:
    hub = await make_hub()
    fake(hub, "a").script(
        "authorize", NotSent("429", decline_code=DeclineCode.RATE_LIMITED, retry_after=2.0)
    )
    payment = await hub.authorize(**EUR_10)
    assert payment.provider == "a"
    assert clock.slept == [2.0]


async def test_retry_after_beyond_budget_fails_over(make_hub: MakeHub, clock: FixedClock) -> None:
    hub = await make_hub(retry={"max_retry_after": 5})
    fake(hub, "a").script(
        "authorize", NotSent("429", decline_code=DeclineCode.RATE_LIMITED, retry_after=60.0)
    )
    payment = await hub.authorize(**EUR_10)
    assert payment.provider == "b"
    assert clock.slept == []


async def test_timeout_after_charge_is_replayed_never_failed_over(make_hub: MakeHub) -> None:
    hub = await make_hub()
    a = fake(hub, "a")
    a.script("authorize", charge_then(OutcomeUnknown("read timeout")))
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.CAPTURED
    assert payment.provider == "a"
    assert a.charges == 1
    assert fake(hub, "b").calls == []
    assert payment.attempts[0].tries == 2
    await assert_books_balance(hub)


async def test_replays_carry_the_attempt_start_time(make_hub: MakeHub, clock: FixedClock) -> None:
    # Providers that put an absolute expiry in the body derive it from `started_at`, so a
    # same-key replay after a back-off must carry the time the attempt began, not "now".
    hub = await make_hub()
    a = fake(hub, "a")
    a.script("authorize", charge_then(OutcomeUnknown("read timeout")))
    started = clock.now()
    await hub.authorize(**EUR_10)
    calls = [call for op, call in a.calls if op == "authorize"]
    assert len(calls) == 2
    assert clock.now() > started
    assert [call.started_at for call in calls] == [started, started]


async def test_unknown_outcome_is_looked_up_before_anything_else(make_hub: MakeHub) -> None:
    hub = await make_hub(retry={"tries_per_attempt": 2})
    a = fake(hub, "a")
    a.script("authorize", charge_then(OutcomeUnknown("reset")), OutcomeUnknown("reset again"))
    payment = await hub.authorize(**EUR_10)
    # The replay failed too; the lookup found the charge.
    assert payment.status is PaymentStatus.CAPTURED
    assert [op for op, _ in a.calls] == ["authorize", "authorize", "retrieve"]
    assert fake(hub, "b").calls == []
    assert a.charges == 1


async def test_unknown_outcome_without_lookup_stays_processing(make_hub: MakeHub) -> None:
    hub = await make_hub(accounts={"a": {"settings": {"retrieve": False}}, "b": {}})
    a = fake(hub, "a")
    a.script(
        "authorize",
        charge_then(OutcomeUnknown("timeout")),
        OutcomeUnknown("timeout"),
        OutcomeUnknown("timeout"),
    )
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.PROCESSING
    assert payment.attempts[-1].status is AttemptStatus.UNKNOWN
    assert fake(hub, "b").calls == [], "never fail over while the outcome is unknown"
    assert a.charges == 1


async def test_a_lookup_finding_nothing_right_after_an_unknown_outcome_never_fails_over(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    # The last try may still be on its way to the provider: "no such payment" right after
    # it proves nothing, and another provider charging now would make two charges when it
    # lands. The payment waits; after the send window the reconciler's lookup decides.
    hub = await make_hub(retry={"tries_per_attempt": 1})
    fake(hub, "a").script("authorize", OutcomeUnknown("502 from the provider"))
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.PROCESSING
    assert [a.status for a in payment.attempts] == [AttemptStatus.UNKNOWN]
    assert [c[0] for c in fake(hub, "a").calls] == ["authorize", "retrieve"]
    assert fake(hub, "b").calls == []
    clock.advance(91)  # past gateway.reconcile_after_seconds (90)
    assert await hub.reconcile() == 1
    settled = await hub.get(payment.id)
    assert settled.status is PaymentStatus.FAILED, "nobody will retry it: nothing was charged"
    assert settled.attempts[0].status is AttemptStatus.NOT_SENT
    assert fake(hub, "a").charges == 0
    assert fake(hub, "b").calls == []


async def test_unknown_status_is_pending_never_success(make_hub: MakeHub) -> None:
    hub = await make_hub()
    fake(hub, "a").script(
        "authorize", PaymentResult(ProviderStatus.PENDING, "ref_1", raw_status="under_review")
    )
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.PROCESSING
    assert payment.captured == 0
    assert await hub.ledger() == []


async def test_echoed_amount_mismatch_is_never_approved(make_hub: MakeHub) -> None:
    hub = await make_hub(accounts={"a": {"settings": {"retrieve": False}}, "b": {}})
    wrong = PaymentResult(ProviderStatus.CAPTURED, "ref_1", money=Money(1001, "EUR"))
    fake(hub, "a").script("authorize", wrong)
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.PROCESSING
    assert payment.captured == 0
    assert fake(hub, "b").calls == []


async def test_integrity_error_is_not_replayed(make_hub: MakeHub) -> None:
    hub = await make_hub(accounts={"a": {"settings": {"retrieve": False}}})
    fake(hub, "a").script("authorize", IntegrityError("echo mismatch"))
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.PROCESSING
    assert len(fake(hub, "a").calls) == 1


async def test_requires_action(make_hub: MakeHub) -> None:
    hub = await make_hub()
    action = NextAction("redirect", "https://acs.example/challenge/1")
    fake(hub, "a").script(
        "authorize", PaymentResult(ProviderStatus.REQUIRES_ACTION, "ref_3ds", next_action=action)
    )
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.REQUIRES_ACTION
    assert payment.next_action == {
        "type": "redirect",
        "url": "https://acs.example/challenge/1",
        "data": {},
    }


async def test_manual_capture_partial_then_refunds(make_hub: MakeHub) -> None:
    hub = await make_hub()
    payment = await hub.authorize(**EUR_10, capture="manual")
    assert payment.status is PaymentStatus.AUTHORIZED
    await assert_books_balance(hub)
    payment = await hub.capture(payment.id, 600)
    assert (payment.status, payment.captured) == (PaymentStatus.CAPTURED, 600)
    with pytest.raises(InvalidState, match="cannot capture"):
        await hub.capture(payment.id, 100)
    first = await hub.refund(payment.id, 200)
    second = await hub.refund(payment.id, 300)
    assert (first.amount, second.amount) == (200, 300)
    with pytest.raises(InvalidState, match="refundable"):
        await hub.refund(payment.id, 101)
    payment = await hub.get(payment.id)
    assert (payment.status, payment.refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 500)
    last = await hub.refund(payment.id)
    assert last.amount == 100
    payment = await hub.get(payment.id)
    assert payment.status is PaymentStatus.REFUNDED
    await assert_books_balance(hub)


async def test_multiple_partial_captures(make_hub: MakeHub) -> None:
    hub = await make_hub()
    payment = await hub.authorize(**EUR_10, capture="manual")
    payment = await hub.capture(payment.id, 300, final=False)
    assert (payment.status, payment.captured) == (PaymentStatus.PARTIALLY_CAPTURED, 300)
    payment = await hub.capture(payment.id, 700, final=False)
    assert (payment.status, payment.captured) == (PaymentStatus.CAPTURED, 1000)
    await assert_books_balance(hub)


async def test_capture_more_than_authorized_is_refused_before_any_call(make_hub: MakeHub) -> None:
    hub = await make_hub()
    payment = await hub.authorize(**EUR_10, capture="manual")
    calls = len(fake(hub, "a").calls)
    with pytest.raises(InvalidState, match=r"only 10\.00 EUR of the authorization remains"):
        await hub.capture(payment.id, 1001)
    assert len(fake(hub, "a").calls) == calls


async def test_void_releases_the_hold(make_hub: MakeHub) -> None:
    hub = await make_hub()
    payment = await hub.authorize(**EUR_10, capture="manual")
    payment = await hub.void(payment.id)
    assert payment.status is PaymentStatus.CANCELED
    with pytest.raises(InvalidState):
        await hub.capture(payment.id)
    with pytest.raises(InvalidState):
        await hub.refund(payment.id)
    balances = {account: money.amount for account, money in await hub.ledger()}
    assert balances["authorizations:a"] == 0
    await assert_books_balance(hub)


async def test_capture_outcome_unknown_is_pending_and_synced_later(make_hub: MakeHub) -> None:
    hub = await make_hub(retry={"tries_per_attempt": 1})
    payment = await hub.authorize(**EUR_10, capture="manual")
    a = fake(hub, "a")
    a.script("capture", charge_then(OutcomeUnknown("timeout")))
    with pytest.raises(OperationPending):
        await hub.capture(payment.id, 400)
    with pytest.raises(InvalidState, match="still unresolved"):
        await hub.capture(payment.id, 400)
    payment = await hub.sync(payment.id)
    assert (payment.status, payment.captured) == (PaymentStatus.CAPTURED, 400)
    await assert_books_balance(hub)


async def test_idempotent_replay_and_conflict(make_hub: MakeHub) -> None:
    hub = await make_hub()
    first = await hub.authorize(**EUR_10, idempotency_key="order-1")
    again = await hub.authorize(**EUR_10, idempotency_key="order-1")
    assert again.id == first.id
    assert fake(hub, "a").charges == 1
    with pytest.raises(IdempotencyConflict):
        await hub.authorize(
            amount=1001, currency="EUR", payment_method="tok_visa", idempotency_key="order-1"
        )
    other = await hub.authorize(**EUR_10, idempotency_key="order-1", merchant_id="another-merchant")
    assert other.id != first.id, "keys are scoped per merchant"


async def test_refund_idempotency(make_hub: MakeHub) -> None:
    hub = await make_hub()
    payment = await hub.authorize(**EUR_10)
    one = await hub.refund(payment.id, 100, idempotency_key="r-1")
    two = await hub.refund(payment.id, 100, idempotency_key="r-1")
    assert one.id == two.id
    assert (await hub.get(payment.id)).refunded == 100


async def test_merchants_cannot_see_each_other(make_hub: MakeHub) -> None:
    hub = await make_hub()
    payment = await hub.authorize(**EUR_10, merchant_id="m1")
    with pytest.raises(NotFound):
        await hub.get(payment.id, merchant_id="m2")
    with pytest.raises(NotFound):
        await hub.refund(payment.id, merchant_id="m2")
    assert (await hub.list(merchant_id="m2")).items == []


async def test_list_paginates_and_filters(make_hub: MakeHub, clock: FixedClock) -> None:
    hub = await make_hub()
    ids = []
    for index in range(5):
        clock.advance(1)
        currency = "EUR" if index % 2 else "USD"
        ids.append(
            (
                await hub.authorize(
                    amount=100 + index, currency=currency, payment_method="tok_visa"
                )
            ).id
        )
    first = await hub.list(limit=2)
    assert [p.id for p in first.items] == ids[::-1][:2]
    second = await hub.list(limit=2, before=first.next_cursor)
    assert [p.id for p in second.items] == ids[::-1][2:4]
    eur = await hub.list(currency="EUR")
    assert {p.id for p in eur.items} == {ids[1], ids[3]}


async def test_events_tell_the_story(make_hub: MakeHub) -> None:
    hub = await make_hub()
    payment = await hub.authorize(**EUR_10)
    types = [e.type for e in await hub.events(payment.id)]
    assert types[:2] == ["payment.created", "payment.routed"]
    assert "payment.captured" in types


async def test_fifty_concurrent_requests_with_one_key_charge_once(make_hub: MakeHub) -> None:
    hub = await make_hub()
    results = await asyncio.gather(
        *(hub.authorize(**EUR_10, idempotency_key="same") for _ in range(50)),
        return_exceptions=True,
    )
    payments = {r.id for r in results if not isinstance(r, BaseException)}
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(payments) == 1
    assert all(isinstance(e, RequestInProgress) for e in errors)
    assert fake(hub, "a").charges == 1
    assert (await hub.authorize(**EUR_10, idempotency_key="same")).id in payments


async def test_reconciler_settles_an_unknown_outcome(make_hub: MakeHub, clock: FixedClock) -> None:
    hub = await make_hub(retry={"tries_per_attempt": 1, "retrieve_tries": 1})
    a = fake(hub, "a")
    a.script("authorize", charge_then(OutcomeUnknown("timeout")))
    a.script("retrieve", OutcomeUnknown("lookup timed out too"))
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.PROCESSING
    clock.advance(60)
    assert await hub.reconcile(older_than=timedelta(seconds=30)) == 1
    payment = await hub.get(payment.id)
    assert payment.status is PaymentStatus.CAPTURED
    assert a.charges == 1
    assert fake(hub, "b").calls == []
    await assert_books_balance(hub)


async def test_a_lookup_inside_the_send_window_settles_only_what_it_finds(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    # Deadline 10 + timeout 1 (+ no grace): for 11 s the capture may still land, so a lookup
    # showing no capture yet leaves it open; after that, "no capture" is the answer.
    hub = await make_hub(
        {"a": {}}, retry={"tries_per_attempt": 1, "retrieve_tries": 1, "deadline": 10}
    )
    payment = await hub.authorize(**EUR_10, capture="manual")
    fake(hub, "a").script("capture", OutcomeUnknown("read timeout"))
    with pytest.raises(OperationPending):
        await hub.capture(payment.id)
    clock.advance(5)
    early = await hub.sync(payment.id)
    assert [a.status for a in early.attempts] == [AttemptStatus.SUCCEEDED, AttemptStatus.UNKNOWN]
    clock.advance(7)
    late = await hub.sync(payment.id)
    assert [a.status for a in late.attempts] == [AttemptStatus.SUCCEEDED, AttemptStatus.NOT_SENT]
    assert (late.status, late.captured) == (PaymentStatus.AUTHORIZED, 0)
