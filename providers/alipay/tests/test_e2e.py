"""End to end through the SDK, on SQLite and PostgreSQL: a QR payment comes back as
requires_action with the QR code, Alipay's notification arrives at the webhook intake, and
the payment ends captured with balanced books; then a partial refund."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import respx

from gatewayhub.hub import Hub
from gatewayhub.models import PaymentStatus
from gatewayhub.provider import WebhookVerificationError
from gatewayhub.testing import FixedClock
from gatewayhub.testing.end_to_end import assert_payment_books, one_account_hub
from gatewayhub_alipay.provider import LIVE_GATEWAY

from .harness import APP_ID, FIXTURES, NODESDK_VECTOR, answer, form, signed_notification, vector

ACCOUNT = "alipay_cn"


@pytest.fixture
async def hub(database_url: str, clock: FixedClock) -> AsyncIterator[Hub]:
    entry = {
        "type": "alipay",
        "country": "CN",
        "settings": {
            "app_id": APP_ID,
            "app_private_key": vector("alipay_fzlee_test_app_private_key_pkcs1.pem").decode(),
            "alipay_public_keys": [
                vector("alipay_fzlee_test_app_public_key.pem").decode(),
                NODESDK_VECTOR["alipay_public_key_b64_spki"],
            ],
            "notify_url": "https://shop.example/v1/webhooks/alipay/alipay_cn",
        },
    }
    routing = {"strategies": ["priority"]}
    async with one_account_hub(
        database_url, ACCOUNT, entry, clock=clock, routing=routing
    ) as started:
        yield started


async def test_qr_payment_is_captured_by_the_notification(hub: Hub) -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(LIVE_GATEWAY).mock(return_value=answer("precreate/qr_code.json"))
        payment = await hub.authorize(
            amount=2500,
            currency="CNY",
            payment_method={"type": "alipay", "token": "qr"},
            description="订单 order-1001",
            idempotency_key="order-1001",
        )
        assert route.call_count == 1
    assert payment.status is PaymentStatus.REQUIRES_ACTION
    assert payment.provider == ACCOUNT
    assert payment.next_action == {
        "type": "display_qr",
        "url": None,
        "data": {"qr_code": "https://qr.alipay.com/bavh4wjlxf12tper3a"},
    }
    key = payment.attempts[0].idempotency_key
    out_trade_no = uuid.UUID(key).hex
    assert payment.provider_reference == out_trade_no

    # The customer pays; Alipay posts the notification for our out_trade_no.
    fields = form(FIXTURES.raw("notify/trade_success.txt"))
    body = signed_notification({**fields, "out_trade_no": out_trade_no})
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    ack = await hub.handle_webhook(ACCOUNT, headers, body)
    assert (ack.status_code, ack.body) == (200, b"success")
    assert await hub.process_webhooks() == 1

    paid = await hub.get(payment.id)
    assert paid.status is PaymentStatus.CAPTURED
    assert (paid.authorized, paid.captured) == (2500, 2500)
    assert paid.next_action is None
    assert paid.fees == 15  # 0.6 % of 25.00 CNY, the default schedule
    await assert_payment_books(hub, payment.id, captured=2500, refunded=0)

    # Alipay resends until it reads "success": a repeat changes nothing.
    again = await hub.handle_webhook(ACCOUNT, headers, body)
    assert again.body == b"success"
    await hub.process_webhooks()
    assert (await hub.get(payment.id)).captured == 2500

    with respx.mock(assert_all_called=True) as router:
        refund_route = router.post(LIVE_GATEWAY).mock(
            return_value=answer("refund/fund_change_y.json")
        )
        refund = await hub.refund(payment.id, 1000, reason="damaged")
    assert refund.status.value == "succeeded"
    assert refund_route.call_count == 1
    refunded = await hub.get(payment.id)
    assert refunded.status is PaymentStatus.PARTIALLY_REFUNDED
    await assert_payment_books(hub, payment.id, captured=2500, refunded=1000)


async def test_a_forged_notification_changes_nothing(hub: Hub) -> None:
    body = FIXTURES.raw("notify/trade_success.txt").replace(b"25.00", b"2.50")
    with pytest.raises(WebhookVerificationError):
        await hub.handle_webhook(ACCOUNT, {}, body)
    assert await hub.process_webhooks() == 0
