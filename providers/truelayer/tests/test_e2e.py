"""End to end through the SDK (Hub + respx, on SQLite and PostgreSQL): a TrueLayer payment
waits for the payer on the hosted payment page, TrueLayer's signed webhooks arrive at the
intake (JWKS fetched from the allow-listed jku), the payment ends captured when it settles,
and a refund completes by webhook - with balanced books throughout."""

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

from .harness import (
    API,
    AUTH,
    CLIENT_ID,
    CLIENT_SECRET,
    FIXTURES,
    KID,
    MERCHANT_GBP,
    PAYER,
    PRIVATE_PEM,
    SANDBOX_JKU,
    VECTORS,
    webhook_headers,
)

PAYMENT = "9266727c-c67b-4862-899c-9286e129a6e8"  # fixtures/authorize/merchant_account.json
REFUND = "38c76ba95-322f-46a9-b754-***"  # fixtures/refund/created.json
ACCOUNT = "truelayer_gb"


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[Hub]:
    entry = {
        "type": "truelayer",
        "country": "GB",
        "settings": {
            "environment": "sandbox",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "signing_key_id": KID,
            "signing_private_key": PRIVATE_PEM,
            "merchant_accounts": {"GBP": MERCHANT_GBP},
        },
        "fees": {"fixed": {"GBP": "0.20 GBP"}},
    }
    clock = FixedClock(datetime(2021, 12, 25, 15, 0, 5, tzinfo=UTC))
    async with one_account_hub(
        database_url, ACCOUNT, entry, clock=clock, rng=random.Random(5)
    ) as hub:
        yield hub


async def deliver(hub: Hub, body: bytes) -> None:
    """Sign a webhook as TrueLayer does (for this account's receiver path), post it to the
    intake, then let the inbox apply it."""
    stamp = hub.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = webhook_headers(body, stamp, path=f"/v1/webhooks/truelayer/{ACCOUNT}")
    ack = await hub.handle_webhook(ACCOUNT, headers, body)
    assert ack.status_code == 200
    assert await hub.process_webhooks() == 1


async def assert_balanced(hub: Hub, captured: int, refunded: int = 0) -> None:
    assert await hub.store.unbalanced_transactions() == []
    balances = {account: money.amount for account, money in await hub.ledger()}
    assert sum(balances.values()) == 0
    assert balances["sales"] == -captured
    assert balances.get("refunds", 0) == refunded
    assert balances[f"receivable:{ACCOUNT}"] + balances.get(f"fees:{ACCOUNT}", 0) == (
        captured - refunded
    )


async def test_pay_by_bank_payment_settles_and_is_refunded(hub: Hub) -> None:
    with respx.mock(assert_all_called=True) as mock:
        token = mock.post(f"{AUTH}/connect/token").mock(
            return_value=FIXTURES.response("auth/token.json")
        )
        create = mock.post(f"{API}/v3/payments").mock(
            return_value=FIXTURES.response("authorize/merchant_account.json", 201)
        )
        keys = mock.get(SANDBOX_JKU).mock(
            return_value=httpx.Response(200, content=(VECTORS / "truelayer_jwks.json").read_bytes())
        )
        refund = mock.post(f"{API}/v3/payments/{PAYMENT}/refunds").mock(
            return_value=FIXTURES.response("refund/created.json", 202)
        )

        payment = await hub.authorize(
            amount=101,
            currency="GBP",
            payment_method={"type": "open_banking", "token": "tl_hosted_payment_page"},
            return_url="https://shop.example/return",
            metadata=PAYER,
            idempotency_key="basket-42",
        )
        sent = json.loads(create.calls.last.request.content)
        assert sent["metadata"]["gatewayhub_payment_id"] == payment.id
        assert sent["user"] == {"name": "Jane Doe", "email": "jane.doe@example.com"}
        assert payment.status is PaymentStatus.REQUIRES_ACTION
        assert payment.provider_reference == PAYMENT
        assert payment.next_action is not None
        assert payment.next_action["url"] == (
            "https://payment.truelayer-sandbox.com/payments"
            f"#payment_id={PAYMENT}"
            "&resource_token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.***"
            "&return_uri=https://shop.example/return"
        )

        # The bank executed the payment: money on its way, not yet in the merchant account.
        executed = FIXTURES.raw("webhooks/payment_executed.json").replace(
            b"60c0a60ed8d7-4e5b-ac79-401b1d8a8633", PAYMENT.encode()
        )
        await deliver(hub, executed)
        assert (await hub.get(payment.id)).status is PaymentStatus.PROCESSING

        # Settled into the merchant account: captured. The webhook carries our metadata.
        key = payment.attempts[0].idempotency_key
        settled = (
            FIXTURES.raw("webhooks/payment_settled.json")
            .replace(b"pay_01JDGATEWAYHUBEXAMPLE0000", payment.id.encode())
            .replace(b"6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01", key.encode())
        )
        await deliver(hub, settled)
        done = await hub.get(payment.id)
        assert done.status is PaymentStatus.CAPTURED
        assert (done.authorized, done.captured, done.fees) == (101, 101, 20)
        await assert_balanced(hub, captured=101)

        pending = await hub.refund(payment.id, amount=50)
        assert pending.status is RefundStatus.PENDING
        assert pending.provider_reference == REFUND
        assert json.loads(refund.calls.last.request.content)["amount_in_minor"] == 50

        executed_refund = (
            FIXTURES.raw("webhooks/refund_executed.json")
            .replace(b"dfb531ca-8e25-4753-bc23-0c7eeb8d4f29", PAYMENT.encode())
            .replace(b"9c4952c2-efcf-442f-86d6-ee207c2a1d1d", REFUND.encode())
        )
        await deliver(hub, executed_refund)

    assert token.call_count == 1  # cached for the refund
    assert keys.call_count == 1  # the JWKS too, for every webhook after the first
    view = await hub.get(payment.id)
    assert view.status is PaymentStatus.PARTIALLY_REFUNDED
    assert view.refunds[0].status is RefundStatus.SUCCEEDED
    await assert_balanced(hub, captured=101, refunded=50)


async def test_payer_abandoning_the_page_cancels_the_payment(hub: Hub) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.post(f"{AUTH}/connect/token").mock(return_value=FIXTURES.response("auth/token.json"))
        mock.post(f"{API}/v3/payments").mock(
            return_value=FIXTURES.response("authorize/merchant_account.json", 201)
        )
        mock.get(SANDBOX_JKU).mock(
            return_value=httpx.Response(200, content=(VECTORS / "truelayer_jwks.json").read_bytes())
        )
        payment = await hub.authorize(
            amount=101,
            currency="GBP",
            payment_method={"type": "open_banking", "token": "tl_hosted_payment_page"},
            metadata=PAYER,
        )
        assert payment.status is PaymentStatus.REQUIRES_ACTION
        await deliver(hub, FIXTURES.raw("webhooks/payment_expired.json"))
    view = await hub.get(payment.id)
    assert view.status is PaymentStatus.CANCELED
    assert view.captured == 0
    assert await hub.ledger() == []  # no money ever moved
    assert await hub.store.unbalanced_transactions() == []
