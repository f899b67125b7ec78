"""The PayPal adapter's plumbing: headers, refusals made before sending, the order lookups
behind capture/void/refund, completing an approved order, and the verify-webhook-signature
API alternative."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError

from gatewayhub.errors import Decision, DeclineCode, OutcomeUnknown
from gatewayhub.models import (
    CaptureCall,
    PaymentMethodType,
    ProviderStatus,
    RefundCall,
    RefundStatus,
    RetrieveCall,
    VoidCall,
)
from gatewayhub.money import Money
from gatewayhub.provider import UnsupportedOperation, WebhookVerificationError

from .harness import (
    ACCESS_TOKEN,
    AUTH,
    CAPTURE,
    FIXTURES,
    NOTIFICATIONS,
    ORDER,
    ORDER_AUTH,
    WEBHOOK_ID,
    PayPalHarness,
    authorize_call,
    settings,
    sign,
)

KEY = "0b6e2f0c-2a47-5d6b-9b0e-5f1c7a8e9d21"
ORDERS = "/v2/checkout/orders"


@pytest.fixture
async def harness() -> AsyncIterator[PayPalHarness]:
    harness = PayPalHarness()
    yield harness
    await harness.client.aclose()


def posts(harness: PayPalHarness) -> list[httpx.Request]:
    return [r for r in harness.requests() if r.method == "POST"]


# -- settings -------------------------------------------------------------------------------------


def test_base_urls() -> None:
    assert PayPalHarness().provider._url(ORDERS) == f"https://api-m.sandbox.paypal.com{ORDERS}"
    live = PayPalHarness(environment="live").provider
    assert live._url(ORDERS) == f"https://api-m.paypal.com{ORDERS}"


@pytest.mark.parametrize("host", ["evil.example", "paypal.com.evil.example", "notpaypal.com"])
def test_cert_hosts_must_be_paypal(host: str) -> None:
    with pytest.raises(ValidationError):
        settings(cert_hosts=[host])


def test_capabilities() -> None:
    caps = PayPalHarness(currencies=["USD", "KWD", "JPY"]).provider.capabilities
    assert caps.currencies == frozenset({"USD", "JPY"})  # KWD is no PayPal currency
    assert caps.methods == frozenset({PaymentMethodType.CARD, PaymentMethodType.PAYPAL})
    assert caps.multiple_captures is False  # one capture per authorization (see README)
    assert caps.idempotency_header == "PayPal-Request-Id"


# -- authorize ------------------------------------------------------------------------------------


async def test_headers(harness: PayPalHarness) -> None:
    harness.arrange("authorize", "approved")
    await harness.provider.authorize(authorize_call())
    [request] = posts(harness)
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.headers["paypal-request-id"] == KEY
    assert request.headers["prefer"] == "return=representation"


@pytest.mark.parametrize("money", [Money(1230, "KWD"), Money(150050, "HUF")])
async def test_unsendable_amounts_refused_without_sending(
    harness: PayPalHarness, money: Money
) -> None:
    harness.arrange("authorize", "approved")
    result = await harness.provider.authorize(authorize_call(money))
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert result.decline.code is DeclineCode.CURRENCY_NOT_SUPPORTED
    assert result.decline.decision is Decision.FAILOVER
    assert harness.router.calls == []  # not even a token


async def test_debug_id_in_unexpected_answers(harness: PayPalHarness) -> None:
    harness.reset()
    harness.answer("POST", ORDERS, 418, content=b"teapot")
    with pytest.raises(OutcomeUnknown, match="debug_id f0e1d2c3b4a59"):
        await harness.provider.authorize(authorize_call())


# -- capture, void, refund ------------------------------------------------------------------------


async def test_partial_capture_of_the_orders_authorization(harness: PayPalHarness) -> None:
    harness.reset()
    harness.answer("GET", f"{ORDERS}/{ORDER_AUTH}", 200, "retrieve/order_authorized.json")
    harness.answer(
        "POST", f"/v2/payments/authorizations/{AUTH}/capture", 201, "capture/completed_partial.json"
    )
    call = CaptureCall("pay_x", "k-cap", ORDER_AUTH, Money(6000, "USD"), final=True)
    result = await harness.provider.capture(call)
    assert (result.status, result.money) == (ProviderStatus.CAPTURED, Money(6000, "USD"))
    [request] = posts(harness)
    assert request.headers["paypal-request-id"] == "k-cap"
    assert json.loads(request.content) == {
        "amount": {"currency_code": "USD", "value": "60.00"},
        "final_capture": True,
        "invoice_id": "k-cap",
    }


async def test_capture_of_an_unknown_order(harness: PayPalHarness) -> None:
    harness.reset()
    harness.answer("GET", f"{ORDERS}/{ORDER_AUTH}", 404, "retrieve/not_found.json")
    result = await harness.provider.capture(
        CaptureCall("pay_x", "k", ORDER_AUTH, Money(6000, "USD"))
    )
    assert result.status is ProviderStatus.DECLINED
    assert result.raw_status == "order_not_found"
    assert posts(harness) == []


async def test_capture_refused(harness: PayPalHarness) -> None:
    harness.reset()
    harness.answer("GET", f"{ORDERS}/{ORDER_AUTH}", 200, "retrieve/order_authorized.json")
    harness.answer(
        "POST",
        f"/v2/payments/authorizations/{AUTH}/capture",
        422,
        "capture/refused_AUTHORIZATION_EXPIRED.json",
    )
    result = await harness.provider.capture(
        CaptureCall("pay_x", "k", ORDER_AUTH, Money(10000, "USD"))
    )
    assert result.status is ProviderStatus.DECLINED
    assert result.raw_status == "AUTHORIZATION_EXPIRED"


@pytest.mark.parametrize(
    ("status", "fixture"),
    [(200, "void/voided.json"), (204, None), (422, "void/refused_PREVIOUSLY_VOIDED.json")],
)
async def test_void_answers(harness: PayPalHarness, status: int, fixture: str | None) -> None:
    harness.reset()
    harness.answer("GET", f"{ORDERS}/{ORDER_AUTH}", 200, "retrieve/order_authorized.json")
    harness.answer("POST", f"/v2/payments/authorizations/{AUTH}/void", status, fixture)
    result = await harness.provider.void(
        VoidCall("pay_x", "k-void", ORDER_AUTH, Money(10000, "USD"))
    )
    assert result.status is ProviderStatus.CANCELED
    [request] = posts(harness)
    assert request.headers["paypal-request-id"] == "k-void"


async def test_void_refused(harness: PayPalHarness) -> None:
    harness.reset()
    harness.answer("GET", f"{ORDERS}/{ORDER_AUTH}", 200, "retrieve/order_authorized.json")
    harness.answer(
        "POST",
        f"/v2/payments/authorizations/{AUTH}/void",
        422,
        "void/refused_PREVIOUSLY_CAPTURED.json",
    )
    result = await harness.provider.void(VoidCall("pay_x", "k", ORDER_AUTH, Money(10000, "USD")))
    assert result.status is ProviderStatus.DECLINED


async def test_void_of_a_voided_authorization_sends_nothing(harness: PayPalHarness) -> None:
    harness.reset()
    harness.answer("GET", f"{ORDERS}/{ORDER_AUTH}", 200, "retrieve/order_authorization_voided.json")
    result = await harness.provider.void(VoidCall("pay_x", "k", ORDER_AUTH, Money(10000, "USD")))
    assert result.status is ProviderStatus.CANCELED
    assert posts(harness) == []


async def test_refund_of_the_orders_capture(harness: PayPalHarness) -> None:
    harness.arrange("refund", "refunded")
    call = RefundCall("pay_x", "rfd_1", "k-ref", ORDER, Money(2500, "USD"), "damaged")
    result = await harness.provider.refund(call)
    assert (result.status, result.money) == (RefundStatus.SUCCEEDED, Money(2500, "USD"))
    [request] = posts(harness)
    assert request.url.path == f"/v2/payments/captures/{CAPTURE}/refund"
    assert json.loads(request.content)["custom_id"] == "rfd_1"


async def test_refund_refused_fails(harness: PayPalHarness) -> None:
    harness.reset()
    harness.answer("GET", f"{ORDERS}/{ORDER}", 200, "retrieve/order_captured.json")
    harness.answer(
        "POST",
        f"/v2/payments/captures/{CAPTURE}/refund",
        422,
        "refund/refused_REFUND_AMOUNT_EXCEEDED.json",
    )
    result = await harness.provider.refund(
        RefundCall("pay_x", "r", "k", ORDER, Money(99999, "USD"))
    )
    assert result.status is RefundStatus.FAILED
    assert result.decline is not None
    assert result.decline.provider_code == "REFUND_AMOUNT_EXCEEDED"


async def test_refund_without_capture(harness: PayPalHarness) -> None:
    harness.reset()
    harness.answer("GET", f"{ORDERS}/{ORDER_AUTH}", 200, "retrieve/order_authorized.json")
    result = await harness.provider.refund(
        RefundCall("pay_x", "r", "k", ORDER_AUTH, Money(1, "USD"))
    )
    assert result.status is RefundStatus.FAILED
    assert result.raw_status == "no_capture"


# -- retrieve and completing approved orders ------------------------------------------------------


def lookup(order_id: str | None = ORDER) -> RetrieveCall:
    return RetrieveCall("pay_x", KEY, Money(10000, "USD"), order_id)


@pytest.mark.parametrize(
    ("order_id", "approved", "action", "completed", "status"),
    [
        (
            ORDER,
            "retrieve/order_approved.json",
            "capture",
            "complete/captured.json",
            ProviderStatus.CAPTURED,
        ),
        (
            ORDER_AUTH,
            "retrieve/order_approved_authorize.json",
            "authorize",
            "complete/authorized.json",
            ProviderStatus.AUTHORIZED,
        ),
    ],
)
async def test_approved_order_is_completed_as_its_intent_says(
    harness: PayPalHarness,
    order_id: str,
    approved: str,
    action: str,
    completed: str,
    status: ProviderStatus,
) -> None:
    harness.reset()
    harness.answer("GET", f"{ORDERS}/{order_id}", 200, approved)
    harness.answer("POST", f"{ORDERS}/{order_id}/{action}", 201, completed)
    result = await harness.provider.retrieve(lookup(order_id))
    assert result.status is status
    assert result.provider_reference == order_id
    [request] = posts(harness)
    assert request.headers["paypal-request-id"] == f"{KEY}-complete"
    assert json.loads(request.content) == {}


async def test_completion_can_be_turned_off(harness: PayPalHarness) -> None:
    provider = PayPalHarness(complete_on_approval=False)
    provider.reset()
    provider.answer("GET", f"{ORDERS}/{ORDER}", 200, "retrieve/order_approved.json")
    result = await provider.provider.retrieve(lookup())
    assert result.status is ProviderStatus.PENDING
    assert posts(provider) == []
    await provider.client.aclose()


async def test_completed_elsewhere_is_read_back(harness: PayPalHarness) -> None:
    harness.reset()
    harness.router.route(
        method="GET", url=f"https://api-m.sandbox.paypal.com{ORDERS}/{ORDER}"
    ).mock(
        side_effect=[
            FIXTURES.response("retrieve/order_approved.json"),
            FIXTURES.response("retrieve/order_captured.json"),
        ]
    )
    harness.answer("POST", f"{ORDERS}/{ORDER}/capture", 422, "complete/already_captured.json")
    result = await harness.provider.retrieve(lookup())
    assert result.status is ProviderStatus.CAPTURED


async def test_declined_instrument_sends_the_buyer_back(harness: PayPalHarness) -> None:
    harness.reset()
    harness.answer("GET", f"{ORDERS}/{ORDER}", 200, "retrieve/order_approved.json")
    harness.answer("POST", f"{ORDERS}/{ORDER}/capture", 422, "complete/instrument_declined.json")
    result = await harness.provider.retrieve(lookup())
    assert result.status is ProviderStatus.REQUIRES_ACTION
    assert result.next_action is not None
    assert result.next_action.url == f"https://www.sandbox.paypal.com/checkoutnow?token={ORDER}"


async def test_retrieve_not_found(harness: PayPalHarness) -> None:
    harness.reset()
    harness.answer("GET", f"{ORDERS}/{ORDER}", 404, "retrieve/not_found.json")
    assert (await harness.provider.retrieve(lookup())).status is ProviderStatus.NOT_FOUND


async def test_retrieve_without_id_is_unsupported(harness: PayPalHarness) -> None:
    with pytest.raises(UnsupportedOperation):
        await harness.provider.retrieve(lookup(None))


# -- the verify-webhook-signature API -------------------------------------------------------------


async def test_verification_by_api(harness: PayPalHarness) -> None:
    provider = PayPalHarness(webhook_verification="api")
    route = provider.answer(
        "POST", "/v1/notifications/verify-webhook-signature", 200, "verify/success.json"
    )
    body = FIXTURES.raw("webhooks/payment_capture_completed.json")
    headers = sign(body)
    await provider.provider.verify_webhook_async(headers, body)
    [call] = route.calls
    sent = call.request.content
    # The event travels as the bytes received, not re-serialized.
    assert sent.endswith(b',"webhook_event":' + body + b"}")
    payload = json.loads(sent)
    NOTIFICATIONS.check("verify_webhook_signature", payload, strict=True)
    assert payload["webhook_id"] == WEBHOOK_ID
    assert payload["transmission_sig"] == headers["PAYPAL-TRANSMISSION-SIG"]
    assert provider.cert_route.call_count == 0  # PayPal checks the certificate itself
    await provider.client.aclose()


async def test_verification_by_api_failure(harness: PayPalHarness) -> None:
    provider = PayPalHarness(webhook_verification="api")
    route = provider.answer(
        "POST", "/v1/notifications/verify-webhook-signature", 200, "verify/failure.json"
    )
    body = FIXTURES.raw("webhooks/payment_capture_completed.json")
    with pytest.raises(WebhookVerificationError) as raised:
        await provider.provider.verify_webhook_async(sign(body), body)
    assert raised.value.reason == "bad_signature"
    assert route.call_count == 2  # one try per configured webhook id
    await provider.client.aclose()


async def test_declined_instrument_without_a_link_is_declined(harness: PayPalHarness) -> None:
    harness.reset()
    harness.answer("GET", f"{ORDERS}/{ORDER}", 200, "retrieve/order_approved.json")
    harness.answer(
        "POST", f"{ORDERS}/{ORDER}/capture", 422, "authorize/refused_INSTRUMENT_DECLINED.json"
    )
    result = await harness.provider.retrieve(lookup())
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert result.decline.code is DeclineCode.DO_NOT_HONOR
