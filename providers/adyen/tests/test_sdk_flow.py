"""End to end through the SDK: a Hub with an Adyen account, Adyen mocked with respx.

Adyen has no payment lookup, so webhooks carry every outcome: a payment needing 3-D Secure
comes back `requires_action` (RedirectShopper), the AUTHORISATION webhook arrives through
`hub.handle_webhook` and `hub.process_webhooks()` applies it; captures, cancels and refunds
are accepted with "received" and settled by their CAPTURE / CANCELLATION / REFUND webhooks.
The books balance at every step, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

import respx

from gatewayhub.hub import Hub
from gatewayhub.models import PaymentStatus, RefundStatus
from gatewayhub.testing import FixedClock
from gatewayhub.testing.end_to_end import one_account_hub

from .harness import API, API_KEY, FIXTURES, HMAC_NEW, MERCHANT, sign_item

PAYMENT_PSP = "JLCMPCQ8HXSKGK82"  # pspReference of the RedirectShopper fixture
MODIFICATION_PSP = "993617894906488A"  # pspReference of the capture/cancel/refund fixtures


ADYEN_EU = {
    "type": "adyen",
    "country": "NL",
    "settings": {
        "api_key": API_KEY,
        "merchant_account": MERCHANT,
        "hmac_keys": [HMAC_NEW],
        "return_url": "https://shop.example/checkout/return",
        "currencies": ["EUR"],
    },
}


def notification(code: str, **item: Any) -> bytes:
    """A standard webhook from the spec's example for `code`, with `item` fields set and
    signed with the account's HMAC key."""
    data = FIXTURES.json(f"webhooks/{code}.json")
    body = data["notificationItems"][0]["NotificationRequestItem"]
    body.update(item)
    body.setdefault("additionalData", {})["hmacSignature"] = sign_item(HMAC_NEW, body)
    return json.dumps(data).encode()


async def deliver(hub: Hub, body: bytes) -> None:
    ack = await hub.handle_webhook("adyen_eu", {"Content-Type": "application/json"}, body)
    assert (ack.status_code, ack.body) == (200, b"[accepted]")
    assert await hub.process_webhooks() == 1


async def test_3ds_purchase_is_captured_by_the_authorisation_webhook(
    database_url: str, clock: FixedClock
) -> None:
    with respx.mock(base_url=API, assert_all_called=True) as adyen:
        payments = adyen.post("/payments").mock(
            return_value=FIXTURES.response("authorize/redirect_shopper.json")
        )
        async with one_account_hub(database_url, "adyen_eu", ADYEN_EU, clock=clock) as hub:
            payment = await hub.authorize(
                amount=1000,
                currency="EUR",
                payment_method="M5N7TQ4TG5PFWR50",
                return_url="https://shop.example/return",
                metadata={"shopper_reference": "shopper-42"},
                idempotency_key="order-1001",
            )
            assert payment.status is PaymentStatus.REQUIRES_ACTION
            assert payment.next_action is not None
            assert payment.next_action["type"] == "redirect"
            assert payment.next_action["url"].startswith("https://checkoutshopper-test.adyen.com/")
            sent = json.loads(payments.calls.last.request.content)
            key = payment.attempts[0].idempotency_key
            assert payments.calls.last.request.headers["Idempotency-Key"] == key
            assert sent["reference"] == f"{payment.id}:{key}:auto"

            await deliver(
                hub,
                notification(
                    "AUTHORISATION",
                    pspReference=PAYMENT_PSP,
                    merchantReference=sent["reference"],
                    merchantAccountCode=MERCHANT,
                ),
            )
            payment = await hub.get(payment.id)
            assert payment.status is PaymentStatus.CAPTURED
            assert payment.captured == 1000
            assert payment.provider_reference == PAYMENT_PSP
            assert await hub.store.unbalanced_transactions() == []


async def test_manual_capture_and_refund_settle_by_webhooks(
    database_url: str, clock: FixedClock
) -> None:
    with respx.mock(base_url=API, assert_all_called=True) as adyen:
        payments = adyen.post("/payments").mock(
            return_value=FIXTURES.response("authorize/redirect_shopper.json")
        )
        captures = adyen.post(f"/payments/{PAYMENT_PSP}/captures").mock(
            return_value=FIXTURES.response("capture/partial.json", 201)
        )
        refunds = adyen.post(f"/payments/{PAYMENT_PSP}/refunds").mock(
            return_value=FIXTURES.response("refund/partial.json", 201)
        )
        async with one_account_hub(database_url, "adyen_eu", ADYEN_EU, clock=clock) as hub:
            payment = await hub.authorize(
                amount=2000, currency="EUR", payment_method="M5N7TQ4TG5PFWR50", capture="manual"
            )
            reference = json.loads(payments.calls.last.request.content)["reference"]
            assert reference.endswith(":manual")
            await deliver(
                hub,
                notification(
                    "AUTHORISATION",
                    pspReference=PAYMENT_PSP,
                    merchantReference=reference,
                    amount={"currency": "EUR", "value": 2000},
                ),
            )
            assert (await hub.get(payment.id)).status is PaymentStatus.AUTHORIZED

            # accepted ("received"): the payment waits for the CAPTURE webhook
            payment = await hub.capture(payment.id, 1500)
            assert payment.status is PaymentStatus.AUTHORIZED
            capture_key = payment.attempts[-1].idempotency_key
            assert json.loads(captures.calls.last.request.content)["reference"] == capture_key
            await deliver(
                hub,
                notification(
                    "CAPTURE",
                    pspReference=MODIFICATION_PSP,
                    originalReference=PAYMENT_PSP,
                    merchantReference=capture_key,
                    amount={"currency": "EUR", "value": 1500},
                ),
            )
            payment = await hub.get(payment.id)
            assert payment.status is PaymentStatus.CAPTURED
            assert payment.captured == 1500

            refund = await hub.refund(payment.id, 500)
            assert refund.status is RefundStatus.PENDING
            assert json.loads(refunds.calls.last.request.content)["reference"] == refund.id
            await deliver(
                hub,
                notification(
                    "REFUND",
                    success="true",
                    reason="",
                    pspReference=MODIFICATION_PSP,
                    originalReference=PAYMENT_PSP,
                    merchantReference=refund.id,
                    amount={"currency": "EUR", "value": 500},
                ),
            )
            payment = await hub.get(payment.id)
            assert payment.status is PaymentStatus.PARTIALLY_REFUNDED
            assert payment.refunded == 500
            assert await hub.store.unbalanced_transactions() == []


async def test_void_settles_by_the_cancellation_webhook(
    database_url: str, clock: FixedClock
) -> None:
    with respx.mock(base_url=API, assert_all_called=True) as adyen:
        adyen.post("/payments").mock(return_value=FIXTURES.response("authorize/approved.json"))
        adyen.post("/payments/993617895204576J/cancels").mock(
            return_value=FIXTURES.response("void/voided.json", 201)
        )
        async with one_account_hub(database_url, "adyen_eu", ADYEN_EU, clock=clock) as hub:
            payment = await hub.authorize(
                amount=1000, currency="EUR", payment_method="M5N7TQ4TG5PFWR50", capture="manual"
            )
            assert payment.status is PaymentStatus.AUTHORIZED
            payment = await hub.void(payment.id)
            assert payment.status is PaymentStatus.AUTHORIZED  # cancel received, not done
            await deliver(
                hub,
                notification(
                    "CANCELLATION",
                    pspReference=MODIFICATION_PSP,
                    originalReference="993617895204576J",
                ),
            )
            payment = await hub.get(payment.id)
            assert payment.status is PaymentStatus.CANCELED
            assert await hub.store.unbalanced_transactions() == []


async def test_a_failed_capture_can_be_tried_again(database_url: str, clock: FixedClock) -> None:
    with respx.mock(base_url=API, assert_all_called=True) as adyen:
        adyen.post("/payments").mock(return_value=FIXTURES.response("authorize/approved.json"))
        captures = adyen.post("/payments/993617895204576J/captures").mock(
            return_value=FIXTURES.response("capture/captured.json", 201)
        )
        async with one_account_hub(database_url, "adyen_eu", ADYEN_EU, clock=clock) as hub:
            payment = await hub.authorize(
                amount=2000, currency="EUR", payment_method="M5N7TQ4TG5PFWR50", capture="manual"
            )
            await hub.capture(payment.id)
            # CAPTURE with success=false: the acquirer refused the accepted capture
            await deliver(
                hub,
                notification(
                    "CAPTURE",
                    success="false",
                    reason="Insufficient balance on payment",
                    pspReference=MODIFICATION_PSP,
                    originalReference="993617895204576J",
                    amount={"currency": "EUR", "value": 2000},
                ),
            )
            payment = await hub.get(payment.id)
            assert payment.status is PaymentStatus.AUTHORIZED
            assert payment.attempts[-1].status.value == "declined"

            await hub.capture(payment.id)
            assert captures.call_count == 2
            await deliver(
                hub,
                notification(
                    "CAPTURE",
                    pspReference="993617894906489B",
                    originalReference="993617895204576J",
                    amount={"currency": "EUR", "value": 2000},
                ),
            )
            payment = await hub.get(payment.id)
            assert payment.status is PaymentStatus.CAPTURED
            assert payment.captured == 2000
            assert await hub.store.unbalanced_transactions() == []
