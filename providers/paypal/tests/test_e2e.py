"""End to end through the SDK: PayPal payments that need the buyer's approval come back
requires_action; PayPal's webhooks, received by the hub (certificate fetched from the pinned
PayPal URL), and the hub's lookups settle them; the ledger balances. Runs on SQLite and
PostgreSQL (`database_url`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from gatewayhub.hub import Hub
from gatewayhub.models import PaymentStatus
from gatewayhub.testing import FixedClock
from gatewayhub.testing.end_to_end import assert_payment_books, one_account_hub

from .harness import (
    AUTH,
    BASE,
    CERT_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    FIXTURES,
    ORDER,
    ORDER_AUTH,
    WEBHOOK_ID,
    check_request,
    sign,
)

ACCOUNT = "pp_us"
ORDERS = "/v2/checkout/orders"


class PayPal:
    """PayPal's side of the test: routes answering with fixtures, every request checked."""

    def __init__(self, mock: respx.MockRouter) -> None:
        self.mock = mock
        mock.post(f"{BASE}/v1/oauth2/token").mock(side_effect=self._answer(200, "oauth/token.json"))
        self.cert = mock.get(CERT_URL).mock(
            return_value=httpx.Response(200, content=FIXTURES.raw("certs/test_signer_cert.pem"))
        )

    @staticmethod
    def _answer(status: int, fixture: str) -> object:
        def respond(request: httpx.Request) -> httpx.Response:
            check_request(request)
            return FIXTURES.response(fixture, status)

        return respond

    def on(self, method: str, path: str, status: int, fixture: str) -> respx.Route:
        return self.mock.route(method=method, url=f"{BASE}{path}").mock(
            side_effect=self._answer(status, fixture)
        )


@pytest.fixture
async def paypal() -> AsyncIterator[PayPal]:
    async with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield PayPal(mock)


@pytest.fixture
async def hub(paypal: PayPal, database_url: str, clock: FixedClock) -> AsyncIterator[Hub]:
    entry = {
        "type": "paypal",  # found through the entry point
        "settings": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "webhook_ids": [WEBHOOK_ID],
            "currencies": ["USD"],
        },
    }
    async with one_account_hub(database_url, ACCOUNT, entry, clock=clock) as hub:
        yield hub


async def deliver(hub: Hub, name: str) -> None:
    body = FIXTURES.raw(f"webhooks/{name}.json")
    ack = await hub.handle_webhook(ACCOUNT, sign(body), body)
    assert ack.status_code == 200
    await hub.process_webhooks()


async def start_checkout(hub: Hub, capture: str) -> str:
    view = await hub.authorize(
        amount=10000,
        currency="USD",
        payment_method={"type": "paypal", "token": "paypal"},
        capture=capture,
        return_url="https://shop.example/return",
    )
    assert view.status is PaymentStatus.REQUIRES_ACTION
    assert view.provider == ACCOUNT
    assert view.next_action is not None
    assert view.next_action["url"].startswith("https://www.sandbox.paypal.com/checkoutnow?token=")
    return view.id


async def test_approval_webhook_then_lookup_captures(hub: Hub, paypal: PayPal) -> None:
    paypal.on("POST", ORDERS, 201, "authorize/payer_action_required.json")
    payment_id = await start_checkout(hub, "automatic")
    assert (await hub.get(payment_id)).provider_reference == ORDER

    # The buyer approves on PayPal: the order is approved, no money has moved yet.
    await deliver(hub, "checkout_order_approved")
    assert (await hub.get(payment_id)).status is PaymentStatus.PROCESSING

    # The hub's lookup finds the approved order and captures it, once.
    paypal.on("GET", f"{ORDERS}/{ORDER}", 200, "retrieve/order_approved.json")
    completion = paypal.on("POST", f"{ORDERS}/{ORDER}/capture", 201, "complete/captured.json")
    view = await hub.sync(payment_id)
    assert view.status is PaymentStatus.CAPTURED
    assert (view.captured, view.fees) == (10000, 398)  # PayPal's fee from the capture
    assert completion.call_count == 1

    await deliver(hub, "payment_capture_completed")  # PayPal confirms: nothing changes
    assert (await hub.get(payment_id)).captured == 10000
    assert paypal.cert.call_count == 1  # fetched once from the pinned URL, then cached
    await assert_payment_books(hub, payment_id, captured=10000)


async def test_capture_webhook_alone_settles(hub: Hub, paypal: PayPal) -> None:
    # The front end captured the order itself (PayPal JS SDK): only the webhook tells us.
    paypal.on("POST", ORDERS, 201, "authorize/payer_action_required.json")
    payment_id = await start_checkout(hub, "automatic")
    await deliver(hub, "payment_capture_completed")
    view = await hub.get(payment_id)
    assert view.status is PaymentStatus.CAPTURED
    assert view.captured == 10000
    await assert_payment_books(hub, payment_id, captured=10000)


async def test_manual_capture_and_refund(hub: Hub, paypal: PayPal) -> None:
    paypal.on("POST", ORDERS, 201, "authorize/payer_action_required_authorize.json")
    payment_id = await start_checkout(hub, "manual")
    await deliver(hub, "checkout_order_approved_authorize")

    paypal.on("GET", f"{ORDERS}/{ORDER_AUTH}", 200, "retrieve/order_approved_authorize.json")
    paypal.on("POST", f"{ORDERS}/{ORDER_AUTH}/authorize", 201, "complete/authorized.json")
    assert (await hub.sync(payment_id)).status is PaymentStatus.AUTHORIZED

    paypal.on("GET", f"{ORDERS}/{ORDER_AUTH}", 200, "retrieve/order_authorized.json")
    paypal.on(
        "POST", f"/v2/payments/authorizations/{AUTH}/capture", 201, "capture/completed_partial.json"
    )
    view = await hub.capture(payment_id, 6000)
    assert (view.status, view.captured) == (PaymentStatus.CAPTURED, 6000)

    paypal.on("GET", f"{ORDERS}/{ORDER_AUTH}", 200, "retrieve/order_authorization_captured.json")
    paypal.on(
        "POST",
        "/v2/payments/captures/2GG279541U471931P/refund",
        201,
        "refund/completed_on_partial_capture.json",
    )
    refund = await hub.refund(payment_id, 2500, reason="damaged")
    assert refund.status.value == "succeeded"
    view = await hub.get(payment_id)
    assert (view.status, view.refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 2500)
    await assert_payment_books(hub, payment_id, captured=6000, refunded=2500)
