"""End to end through the SDK, on SQLite and PostgreSQL: a Native payment comes back as
requires_action with the QR code URL, WeChat's encrypted notification arrives at the webhook
intake, and the payment ends captured with balanced books; then a refund that WeChat
processes asynchronously is settled by its refund notification."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest
import respx

from gatewayhub.hub import Hub
from gatewayhub.models import Operation, PaymentStatus
from gatewayhub.provider import WebhookVerificationError
from gatewayhub.testing import FixedClock
from gatewayhub.testing.end_to_end import assert_payment_books, one_account_hub
from gatewayhub_wechatpay.provider import API

from .harness import (
    APIV3_KEY,
    APPID,
    FIXTURES,
    MCHID,
    MERCHANT_KEY_PEM,
    MERCHANT_SERIAL,
    NOTIFY_URL,
    notification,
    refund_plaintext,
    signed,
    text,
    transaction_plaintext,
)

ACCOUNT = "wechat_cn"


@pytest.fixture
async def hub(database_url: str, clock: FixedClock) -> AsyncIterator[Hub]:
    entry = {
        "type": "wechatpay",
        "country": "CN",
        "settings": {
            "mchid": MCHID,
            "appid": APPID,
            "merchant_serial_no": MERCHANT_SERIAL,
            "merchant_private_key": MERCHANT_KEY_PEM,
            "apiv3_key": APIV3_KEY,
            "platform_certificates": [
                text("keys", "fake_platform_current_cert.pem"),
                text("keys", "fake_platform_previous_cert.pem"),
            ],
            "notify_url": NOTIFY_URL,
        },
    }
    routing = {"strategies": ["priority"]}
    async with one_account_hub(
        database_url, ACCOUNT, entry, clock=clock, routing=routing
    ) as started:
        yield started


async def test_native_payment_is_captured_by_the_notification(hub: Hub, clock: FixedClock) -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(f"{API}/v3/pay/transactions/native").mock(
            side_effect=signed(200, FIXTURES.raw("create/native.json"), clock)
        )
        payment = await hub.authorize(
            amount=2500,
            currency="CNY",
            payment_method={"type": "wechat_pay", "token": "native"},
            description="Image形象店-深圳腾大-QQ公仔",
            idempotency_key="order-1001",
        )
    assert payment.status is PaymentStatus.REQUIRES_ACTION
    assert payment.next_action == {
        "type": "display_qr",
        "url": None,
        "data": {"code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"},
    }
    out_trade_no = uuid.UUID(payment.attempts[0].idempotency_key).hex
    assert payment.provider_reference == out_trade_no
    sent = json.loads(route.calls.last.request.content)
    assert (sent["out_trade_no"], sent["attach"], sent["amount"]) == (
        out_trade_no,
        payment.id,
        {"total": 2500, "currency": "CNY"},
    )

    # The payer scans and pays; WeChat posts the encrypted notification.
    clock.advance(40)
    plain = transaction_plaintext(
        out_trade_no=out_trade_no,
        attach=payment.id,
        amount={"payer_total": 2500, "total": 2500, "currency": "CNY", "payer_currency": "CNY"},
    )
    headers, body = notification(
        "TRANSACTION.SUCCESS", plain, timestamp=int(clock.now().timestamp())
    )
    ack = await hub.handle_webhook(ACCOUNT, headers, body)
    assert (ack.status_code, ack.body) == (204, b"")
    assert await hub.process_webhooks() == 1
    paid = await hub.get(payment.id)
    assert paid.status is PaymentStatus.CAPTURED
    assert (paid.authorized, paid.captured, paid.fees) == (2500, 2500, 15)
    await assert_payment_books(hub, payment.id, captured=2500, refunded=0)

    # A refund WeChat answers PROCESSING, settled later by REFUND.SUCCESS.
    order = FIXTURES.json("query/success.json")
    order.update(out_trade_no=out_trade_no, amount={"total": 2500, "currency": "CNY"})
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{API}/v3/pay/transactions/out-trade-no/{out_trade_no}").mock(
            side_effect=signed(200, json.dumps(order).encode(), clock)
        )
        refund_route = router.post(f"{API}/v3/refund/domestic/refunds").mock(
            side_effect=signed(200, FIXTURES.raw("refund/processing.json"), clock)
        )
        refund = await hub.refund(payment.id, 100, reason="damaged")
    assert refund.status.value == "pending"
    refund_body = json.loads(refund_route.calls.last.request.content)
    assert refund_body["amount"] == {"refund": 100, "total": 2500, "currency": "CNY"}
    refund_attempt = next(
        a for a in (await hub.get(payment.id)).attempts if a.operation is Operation.REFUND
    )
    assert refund_body["out_refund_no"] == uuid.UUID(refund_attempt.idempotency_key).hex

    clock.advance(60)
    plain = refund_plaintext(
        out_trade_no=out_trade_no,
        out_refund_no=refund_body["out_refund_no"],
        refund_id="50000000382019052709732678859",
        amount={"total": 2500, "refund": 100, "payer_total": 2500, "payer_refund": 100},
    )
    headers, body = notification(
        "REFUND.SUCCESS",
        plain,
        timestamp=int(clock.now().timestamp()),
        event_id="EV-2026112400000000000000000002",
        original_type="refund",
    )
    await hub.handle_webhook(ACCOUNT, headers, body)
    assert await hub.process_webhooks() == 1
    refunded = await hub.get(payment.id)
    assert refunded.status is PaymentStatus.PARTIALLY_REFUNDED
    assert refunded.refunded == 100
    await assert_payment_books(hub, payment.id, captured=2500, refunded=100)


async def test_a_stale_notification_is_refused(hub: Hub, clock: FixedClock) -> None:
    headers, body = notification(
        "TRANSACTION.SUCCESS",
        transaction_plaintext(),
        timestamp=int(clock.now().timestamp()) - 300,
    )
    with pytest.raises(WebhookVerificationError) as raised:
        await hub.handle_webhook(ACCOUNT, headers, body)
    assert raised.value.reason == "expired"
    assert await hub.process_webhooks() == 0
