"""End to end through the SDK: a Checkout.com payment that needs 3-D Secure comes back
requires_action; Checkout.com's webhooks, received by the hub, settle it; the ledger balances.
Runs on SQLite and PostgreSQL (`database_url`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from gatewayhub.hub import Hub
from gatewayhub.models import PaymentStatus
from gatewayhub.testing import FixedClock
from gatewayhub.testing.end_to_end import assert_payment_books, one_account_hub

from .harness import (
    BASE,
    FIXTURES,
    PROCESSING_CHANNEL,
    SECRET_KEY,
    SIGNATURE_KEY,
    TOKEN,
    check_request,
    sign,
)

ACCOUNT = "cko_eu"
P3 = "pay_y3oqhf46pyzuxjbcn2giaqnb44"  # the payment in authorize/3ds_redirect.json
SENT: list[dict[str, Any]] = []  # request bodies Checkout.com received, in order


@pytest.fixture
async def hub(database_url: str, clock: FixedClock) -> AsyncIterator[Hub]:
    entry = {
        "type": "checkout",  # found through the entry point
        "settings": {
            "secret_key": SECRET_KEY,
            "processing_channel_id": PROCESSING_CHANNEL,
            "webhook_secrets": [SIGNATURE_KEY],
            "three_ds": True,
            "currencies": ["USD", "EUR"],
        },
    }
    async with respx.mock(base_url=BASE, assert_all_called=False) as mock:

        def created(request: httpx.Request) -> httpx.Response:
            check_request(request)
            SENT.append(json.loads(request.content))
            return FIXTURES.response("authorize/3ds_redirect.json", 202)

        def accepted(fixture: str) -> object:
            def respond(request: httpx.Request) -> httpx.Response:
                check_request(request)
                SENT.append(json.loads(request.content))
                return FIXTURES.response(fixture, 202)

            return respond

        SENT.clear()
        mock.post("/payments").mock(side_effect=created)
        mock.post(f"/payments/{P3}/captures", name="capture").mock(
            side_effect=accepted("capture/accepted.json")
        )
        mock.post(f"/payments/{P3}/refunds", name="refund").mock(
            side_effect=accepted("refund/accepted.json")
        )
        async with one_account_hub(database_url, ACCOUNT, entry, clock=clock) as hub:
            yield hub


async def deliver(hub: Hub, name: str) -> None:
    body = FIXTURES.raw(f"webhooks/{name}.json")
    headers = {"Content-Type": "application/json", "Cko-Signature": sign(SIGNATURE_KEY, body)}
    ack = await hub.handle_webhook(ACCOUNT, headers, body)
    assert ack.status_code == 200
    await hub.process_webhooks()


async def test_three_ds_payment_settled_by_webhooks(hub: Hub) -> None:
    view = await hub.authorize(
        amount=6540,
        currency="USD",
        payment_method=TOKEN,
        capture="automatic",
        return_url="https://shop.example/return",
        idempotency_key="order-1001-pay",
    )
    assert view.status is PaymentStatus.REQUIRES_ACTION
    assert (SENT[0]["3ds"], SENT[0]["capture"]) == ({"enabled": True}, True)
    assert view.provider == ACCOUNT
    assert view.provider_reference == P3
    assert view.next_action is not None
    assert view.next_action["url"].startswith(f"{BASE}/3ds/{P3}")

    await deliver(hub, "payment_approved")
    assert (await hub.get(view.id)).status is PaymentStatus.AUTHORIZED

    await deliver(hub, "payment_captured")
    await deliver(hub, "payment_captured")  # a duplicate delivery changes nothing
    done = await hub.get(view.id)
    assert done.status is PaymentStatus.CAPTURED
    assert (done.authorized, done.captured) == (6540, 6540)

    await assert_payment_books(hub, view.id, captured=6540)


async def test_manual_capture_and_refund_settled_by_webhooks(hub: Hub) -> None:
    view = await hub.authorize(amount=6540, currency="USD", payment_method=TOKEN, capture="manual")
    assert view.status is PaymentStatus.REQUIRES_ACTION
    assert SENT[0]["capture"] is False
    await deliver(hub, "payment_approved")
    assert (await hub.get(view.id)).status is PaymentStatus.AUTHORIZED

    # Checkout.com accepts the capture (202); payment_captured confirms it.
    accepted = await hub.capture(view.id)
    assert (accepted.status, accepted.captured) == (PaymentStatus.AUTHORIZED, 0)
    assert (SENT[1]["amount"], SENT[1]["capture_type"]) == (6540, "Final")
    await deliver(hub, "payment_captured")
    assert (await hub.get(view.id)).status is PaymentStatus.CAPTURED

    # The refund is accepted (202) and settled by payment_refunded, matched by its action id.
    refund = await hub.refund(view.id, 1540)
    assert refund.status.value == "pending"
    assert SENT[2]["amount"] == 1540
    await deliver(hub, "payment_refunded")
    done = await hub.get(view.id)
    assert (done.status, done.refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 1540)

    await assert_payment_books(hub, view.id, captured=6540, refunded=1540)
