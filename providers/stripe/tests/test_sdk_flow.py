"""End to end through the SDK: a Hub with a Stripe account, Stripe mocked with respx.

A payment needing 3-D Secure comes back `requires_action` with Stripe's redirect; Stripe's
webhook then arrives through `hub.handle_webhook`, is applied by `hub.process_webhooks()`,
and the payment ends captured (or authorized, then captured and refunded) with balanced
books - on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import respx

from gatewayhub.models import PaymentStatus, RefundStatus
from gatewayhub.testing import FixedClock
from gatewayhub.testing.end_to_end import one_account_hub

from .harness import API, FIXTURES, PI_ID, SECRET_KEY, WHSEC_NEW, sign

RETURN_URL = "https://shop.example/return"


STRIPE_US = {
    "type": "stripe",
    "country": "US",
    "settings": {"secret_key": SECRET_KEY, "webhook_secrets": [WHSEC_NEW]},
}


def signed(clock: FixedClock, name: str) -> tuple[dict[str, str], bytes]:
    body = FIXTURES.raw(f"webhooks/{name}.json")
    now = int(clock.now().timestamp())
    return {"Stripe-Signature": f"t={now},v1={sign(WHSEC_NEW, now, body)}"}, body


async def test_3ds_purchase_is_captured_by_the_webhook(
    database_url: str, clock: FixedClock
) -> None:
    with respx.mock(base_url=API, assert_all_called=True) as stripe:
        create = stripe.post("/v1/payment_intents").mock(
            return_value=FIXTURES.response("authorize/requires_action.json")
        )
        async with one_account_hub(database_url, "stripe_us", STRIPE_US, clock=clock) as hub:
            payment = await hub.authorize(
                amount=2000,
                currency="USD",
                payment_method="pm_card_threeDSecure2Required",
                return_url=RETURN_URL,
                idempotency_key="order-1001",
            )
            assert payment.status is PaymentStatus.REQUIRES_ACTION
            assert payment.provider == "stripe_us"
            assert payment.next_action is not None
            assert payment.next_action["url"].startswith("https://hooks.stripe.com/3d_secure_2/")
            sent = create.calls.last.request
            assert sent.headers["Idempotency-Key"] == payment.attempts[0].idempotency_key

            headers, body = signed(clock, "payment_intent.succeeded")
            ack = await hub.handle_webhook("stripe_us", headers, body)
            assert ack.status_code == 200
            assert await hub.process_webhooks() == 1

            payment = await hub.get(payment.id)
            assert payment.status is PaymentStatus.CAPTURED
            assert payment.captured == 2000
            assert payment.provider_reference == PI_ID
            assert await hub.store.unbalanced_transactions() == []
            # Stripe delivers at least once: the same event again changes nothing.
            await hub.handle_webhook("stripe_us", headers, body)
            await hub.process_webhooks()
            assert (await hub.get(payment.id)).captured == 2000


async def test_3ds_authorization_then_capture_and_refund(
    database_url: str, clock: FixedClock
) -> None:
    requires_action = FIXTURES.json("authorize/requires_action.json")
    requires_action["capture_method"] = "manual"
    with respx.mock(base_url=API, assert_all_called=True) as stripe:
        stripe.post("/v1/payment_intents").respond(200, json=requires_action)
        capture = stripe.post(f"/v1/payment_intents/{PI_ID}/capture").mock(
            return_value=FIXTURES.response("capture/partial.json")
        )
        refund = stripe.post("/v1/refunds").mock(
            return_value=FIXTURES.response("refund/partial.json")
        )
        async with one_account_hub(database_url, "stripe_us", STRIPE_US, clock=clock) as hub:
            payment = await hub.authorize(
                amount=2000,
                currency="USD",
                payment_method="pm_card_threeDSecure2Required",
                capture="manual",
                return_url=RETURN_URL,
            )
            assert payment.status is PaymentStatus.REQUIRES_ACTION

            headers, body = signed(clock, "payment_intent.amount_capturable_updated")
            await hub.handle_webhook("stripe_us", headers, body)
            assert await hub.process_webhooks() == 1
            payment = await hub.get(payment.id)
            assert payment.status is PaymentStatus.AUTHORIZED
            assert payment.authorized == 2000

            payment = await hub.capture(payment.id, 1500)
            assert payment.status is PaymentStatus.CAPTURED
            assert payment.captured == 1500
            assert capture.calls.last.request.content == b"amount_to_capture=1500"

            done = await hub.refund(payment.id, 500)
            assert done.status is RefundStatus.SUCCEEDED
            assert b"amount=500" in refund.calls.last.request.content
            payment = await hub.get(payment.id)
            assert payment.status is PaymentStatus.PARTIALLY_REFUNDED
            assert payment.refunded == 500
            assert await hub.store.unbalanced_transactions() == []
