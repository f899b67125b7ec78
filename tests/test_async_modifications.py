"""Captures and voids that a provider accepts first and settles later by webhook (Adyen's
modifications answer "received"): a later failure declines the open attempt and leaves the
authorization usable; on SQLite and PostgreSQL."""

from __future__ import annotations

from gatewayhub.errors import Decision, Decline, DeclineCode
from gatewayhub.models import (
    AttemptStatus,
    EventKind,
    Operation,
    PaymentResult,
    PaymentStatus,
    ProviderEvent,
    ProviderStatus,
)

from .conftest import MakeHub, assert_books_balance, fake

EUR_10 = {"amount": 1000, "currency": "EUR", "payment_method": "tok_visa", "capture": "manual"}
REFUSED = Decline(DeclineCode.GENERIC_DECLINE, Decision.FINAL, "Capture Failed", "")


def failed(event_id: str, raw_type: str) -> ProviderEvent:
    return ProviderEvent(
        event_id=event_id,
        kind=EventKind.FAILED,
        raw_type=raw_type,
        provider_reference="fake_1",
        decline=REFUSED,
    )


async def test_a_refused_capture_leaves_the_authorization_capturable(make_hub: MakeHub) -> None:
    hub = await make_hub({"a": {}})
    provider = fake(hub, "a")
    payment = await hub.authorize(**EUR_10)
    provider.script(
        "capture", PaymentResult(ProviderStatus.PENDING, "cap_1", raw_status="received")
    )
    payment = await hub.capture(payment.id)
    assert payment.status is PaymentStatus.AUTHORIZED

    provider.events = [failed("e1", "CAPTURE")]
    await hub.handle_webhook("a", {}, b"")
    assert await hub.process_webhooks() == 1

    payment = await hub.get(payment.id)
    assert payment.status is PaymentStatus.AUTHORIZED
    capture = [a for a in payment.attempts if a.operation is Operation.CAPTURE]
    assert [(a.status, a.provider_code) for a in capture] == [
        (AttemptStatus.DECLINED, "Capture Failed")
    ]
    # nothing is left open: the capture can be tried again
    payment = await hub.capture(payment.id)
    assert payment.status is PaymentStatus.CAPTURED
    await assert_books_balance(hub)


async def test_a_refused_void_leaves_the_authorization_voidable(make_hub: MakeHub) -> None:
    hub = await make_hub({"a": {}})
    provider = fake(hub, "a")
    payment = await hub.authorize(**EUR_10)
    provider.script("void", PaymentResult(ProviderStatus.PENDING, "can_1", raw_status="received"))
    await hub.void(payment.id)

    provider.events = [failed("e1", "CANCELLATION")]
    await hub.handle_webhook("a", {}, b"")
    await hub.process_webhooks()

    payment = await hub.get(payment.id)
    assert payment.status is PaymentStatus.AUTHORIZED
    voids = [a for a in payment.attempts if a.operation is Operation.VOID]
    assert [a.status for a in voids] == [AttemptStatus.DECLINED]
    payment = await hub.void(payment.id)
    assert payment.status is PaymentStatus.CANCELED
    await assert_books_balance(hub)


async def test_a_failure_event_without_an_open_modification_changes_nothing(
    make_hub: MakeHub,
) -> None:
    hub = await make_hub({"a": {}})
    payment = await hub.authorize(**EUR_10)
    fake(hub, "a").events = [failed("e1", "CAPTURE_FAILED")]
    await hub.handle_webhook("a", {}, b"")
    await hub.process_webhooks()
    after = await hub.get(payment.id)
    assert after.status is PaymentStatus.AUTHORIZED
    assert [a.operation for a in after.attempts] == [Operation.AUTHORIZE]
    await assert_books_balance(hub)
