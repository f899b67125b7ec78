"""End to end through the SDK (Hub + respx, on SQLite and PostgreSQL): a Razorpay order
waits for Checkout, Razorpay's webhooks arrive at the intake, and the payment ends captured
with balanced books."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import respx

from gatewayhub.hub import Hub
from gatewayhub.models import PaymentStatus, RefundStatus
from gatewayhub.testing import FixedClock
from gatewayhub.testing.end_to_end import one_account_hub

from .harness import API, FIXTURES, KEY_ID, KEY_SECRET, SECRET_NEW, sign

ORDER = "order_RB58MiP5SPFYyM"  # the id in fixtures/authorize/created.json (5000 paise)


def for_our_order(fixture: str, order_id: str, amount: int) -> bytes:
    """A documented payload, re-pointed at the order of this test (ids and amount)."""
    body = FIXTURES.raw(fixture)
    for documented in (
        b"order_DESlLckIVRkHWj",
        b"order_DEATVTRRctwEGb",
        b"order_N8FRN5zTm5S3wx",
        b"order_GjCr5oKh4AVC51",
    ):
        body = body.replace(documented, order_id.encode())
    for documented_amount in (b'"amount": 100,', b'"amount": 50000,', b'"amount": 1000,'):
        body = body.replace(documented_amount, b'"amount": %d,' % amount)
    return body


async def deliver(hub: Hub, event_id: str, body: bytes) -> None:
    """Post a signed webhook to the intake, then let the inbox apply it."""
    headers = {
        "X-Razorpay-Signature": sign(SECRET_NEW, body),
        "X-Razorpay-Event-Id": event_id,
        "Content-Type": "application/json",
    }
    ack = await hub.handle_webhook("razorpay_in", headers, body)
    assert ack.status_code == 200
    assert await hub.process_webhooks() == 1


async def assert_balanced(hub: Hub, captured: int, refunded: int = 0) -> None:
    assert await hub.store.unbalanced_transactions() == []
    balances = {account: money.amount for account, money in await hub.ledger()}
    assert sum(balances.values()) == 0
    assert balances["sales"] == -captured
    assert balances.get("refunds", 0) == refunded
    assert balances.get("receivable:razorpay_in", 0) + balances.get("fees:razorpay_in", 0) == (
        captured - refunded
    )


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[Hub]:
    entry = {
        "type": "razorpay",
        "settings": {"key_id": KEY_ID, "key_secret": KEY_SECRET, "webhook_secrets": [SECRET_NEW]},
    }
    # The documented webhooks were sent in September 2019; the gateway lives then too.
    clock = FixedClock(datetime(2019, 9, 5, 9, 11, tzinfo=UTC))
    async with one_account_hub(
        database_url, "razorpay_in", entry, clock=clock, rng=random.Random(3)
    ) as hub:
        yield hub


async def test_checkout_payment_ends_captured_after_a_failed_upi_try(hub: Hub) -> None:
    with respx.mock(base_url=API, assert_all_called=True) as api:
        orders = api.post("/v1/orders").mock(
            return_value=FIXTURES.response("authorize/created.json")
        )
        payment = await hub.authorize(
            amount=5000,
            currency="INR",
            payment_method={"type": "upi", "token": "tok_razorpay_checkout"},
            idempotency_key="order-17",
        )
    body = json.loads(orders.calls.last.request.content)
    assert body["notes"]["gatewayhub_payment_id"] == payment.id
    assert payment.status is PaymentStatus.REQUIRES_ACTION
    assert payment.provider_reference == ORDER
    assert payment.next_action is not None
    assert payment.next_action["type"] == "sdk"
    assert payment.next_action["data"]["order_id"] == ORDER
    assert payment.next_action["data"]["key"] == KEY_ID
    assert payment.next_action["data"]["amount"] == 5000
    assert payment.next_action["data"]["currency"] == "INR"

    # The first UPI try fails (Razorpay's documented "payment.failed then payment.captured"):
    # the order stays open, the payment waits.
    await deliver(hub, "evt_failed_1", for_our_order("webhooks/payment_failed.json", ORDER, 5000))
    waiting = await hub.get(payment.id)
    assert waiting.status is PaymentStatus.PROCESSING

    await deliver(
        hub, "evt_captured_1", for_our_order("webhooks/payment_captured.json", ORDER, 5000)
    )
    done = await hub.get(payment.id)
    assert done.status is PaymentStatus.CAPTURED
    assert (done.authorized, done.captured) == (5000, 5000)
    await assert_balanced(hub, captured=5000)


async def test_manual_capture_then_partial_refund(hub: Hub) -> None:
    authorized_list = json.loads(
        for_our_order("retrieve/order_payments_authorized.json", ORDER, 5000)
    )
    captured_list = json.loads(
        for_our_order("retrieve/order_payments_authorized.json", ORDER, 5000)
        .replace(b'"status": "authorized"', b'"status": "captured"')
        .replace(b'"captured": false', b'"captured": true')
    )
    capture_answer = for_our_order("capture/captured.json", ORDER, 5000).replace(
        b"pay_G3P9vcIhRs3NV4", b"pay_DESlfW9H8K9uqM"
    )
    refund_answer = FIXTURES.raw("refund/processed.json").replace(
        b'"amount": 300100', b'"amount": 2000'
    )
    with respx.mock(base_url=API, assert_all_called=True) as api:
        orders = api.post("/v1/orders").mock(
            return_value=FIXTURES.response("authorize/created.json")
        )
        payment = await hub.authorize(
            amount=5000,
            currency="INR",
            payment_method={"type": "card", "token": "tok_razorpay_checkout"},
            capture="manual",
        )
        assert json.loads(orders.calls.last.request.content)["payment"]["capture"] == "manual"
        assert payment.status is PaymentStatus.REQUIRES_ACTION

        await deliver(
            hub, "evt_auth_1", for_our_order("webhooks/payment_authorized.json", ORDER, 5000)
        )
        assert (await hub.get(payment.id)).status is PaymentStatus.AUTHORIZED

        api.get(f"/v1/orders/{ORDER}/payments").mock(
            side_effect=[
                httpx.Response(200, json=authorized_list),
                httpx.Response(200, json=captured_list),
            ]
        )
        capture = api.post("/v1/payments/pay_DESlfW9H8K9uqM/capture").mock(
            return_value=httpx.Response(200, content=capture_answer)
        )
        captured = await hub.capture(payment.id)
        assert json.loads(capture.calls.last.request.content) == {
            "amount": 5000,
            "currency": "INR",
        }
        assert captured.status is PaymentStatus.CAPTURED

        refund = api.post("/v1/payments/pay_DESlfW9H8K9uqM/refund").mock(
            return_value=httpx.Response(200, content=refund_answer)
        )
        refunded = await hub.refund(payment.id, amount=2000)
        sent = refund.calls.last.request
        assert json.loads(sent.content)["amount"] == 2000
    assert refunded.status is RefundStatus.SUCCEEDED
    view = await hub.get(payment.id)
    assert view.status is PaymentStatus.PARTIALLY_REFUNDED
    assert sent.headers["X-Refund-Idempotency"] == view.attempts[-1].idempotency_key
    await assert_balanced(hub, captured=5000, refunded=2000)
