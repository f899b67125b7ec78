"""Every Razorpay operation against respx: what is sent (URL, Basic auth, body, headers) and
how each answer and each transport failure is read."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from gatewayhub.errors import DeclineCode, NotSent, OutcomeUnknown
from gatewayhub.models import (
    AuthorizeCall,
    CaptureCall,
    PaymentMethod,
    ProviderStatus,
    RefundCall,
    RefundStatus,
    RetrieveCall,
)
from gatewayhub.money import Money
from gatewayhub.testing.faults import TRANSPORT_FAILURES

from .harness import FIXTURES, KEY_ID, KEY_SECRET, RazorpayHarness

KEY = "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01"
BASIC = "Basic " + base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()


@pytest.fixture
async def harness() -> AsyncIterator[RazorpayHarness]:
    harness = RazorpayHarness()
    yield harness
    await harness.client.aclose()


INR_50 = Money(5000, "INR")


def authorize_call(money: Money = INR_50, *, capture: bool = True) -> AuthorizeCall:
    return AuthorizeCall(
        payment_id="pay_01JDGATEWAYHUBEXAMPLE0000",
        key=KEY,
        money=money,
        capture=capture,
        method=PaymentMethod(type="upi", token="tok_razorpay_checkout"),
        token="tok_razorpay_checkout",
        reference="order-1001",
        description="Two teas",
        return_url="https://shop.example/paid",
    )


# -- authorize ------------------------------------------------------------------------------


async def test_authorize_creates_an_order_and_asks_for_checkout(harness: RazorpayHarness) -> None:
    route = harness.router.post("/v1/orders").mock(
        return_value=FIXTURES.response("authorize/created.json")
    )
    result = await harness.provider.authorize(authorize_call())
    request = route.calls.last.request
    assert request.headers["Authorization"] == BASIC
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "amount": 5000,
        "currency": "INR",
        "receipt": KEY,
        "notes": {
            "gatewayhub_payment_id": "pay_01JDGATEWAYHUBEXAMPLE0000",
            "gatewayhub_key": KEY,
            "gatewayhub_capture": "automatic",
            "merchant_reference": "order-1001",
        },
        "payment": {
            "capture": "automatic",
            "capture_options": {
                "automatic_expiry_period": 12,
                "manual_expiry_period": 7200,
                "refund_speed": "normal",
            },
        },
    }
    assert result.status is ProviderStatus.REQUIRES_ACTION
    assert result.provider_reference == "order_RB58MiP5SPFYyM"
    assert result.money == Money(5000, "INR")
    assert result.next_action is not None
    assert result.next_action.type == "sdk"
    assert dict(result.next_action.data) == {
        "key": KEY_ID,
        "order_id": "order_RB58MiP5SPFYyM",
        "amount": 5000,
        "currency": "INR",
        "notes": {},
        "checkout_script": "https://checkout.razorpay.com/v1/checkout.js",
        "description": "Two teas",
        "callback_url": "https://shop.example/paid",
    }


async def test_manual_capture_order_asks_for_manual_capture(harness: RazorpayHarness) -> None:
    route = harness.router.post("/v1/orders").mock(
        return_value=FIXTURES.response("authorize/created.json")
    )
    await harness.provider.authorize(authorize_call(capture=False))
    body = json.loads(route.calls.last.request.content)
    assert body["payment"] == {
        "capture": "manual",
        "capture_options": {"manual_expiry_period": 7200, "refund_speed": "normal"},
    }
    assert body["notes"]["gatewayhub_capture"] == "manual"


async def test_three_decimal_amount_not_ending_in_zero_is_refused_unsent(
    harness: RazorpayHarness,
) -> None:
    route = harness.router.post("/v1/orders")
    result = await harness.provider.authorize(authorize_call(Money(1231, "KWD")))
    assert not route.called
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert result.decline.code is DeclineCode.INVALID_REQUEST
    assert result.decline.decision.value == "failover"


async def test_validation_refusal_is_a_decline_that_may_fail_over(
    harness: RazorpayHarness,
) -> None:
    harness.router.post("/v1/orders").mock(
        return_value=FIXTURES.response("authorize/amount_too_small.json", 400)
    )
    result = await harness.provider.authorize(authorize_call(Money(50, "INR")))
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert (result.decline.code, result.decline.decision.value) == (
        DeclineCode.INVALID_REQUEST,
        "failover",
    )
    assert result.decline.provider_code == "input_validation_failed"
    assert result.decline.message == "The amount must be at least INR 1.00"


@pytest.mark.parametrize("status", [400, 401])
async def test_invalid_api_key_is_not_sent(harness: RazorpayHarness, status: int) -> None:
    harness.router.post("/v1/orders").mock(
        return_value=FIXTURES.response("errors/invalid_api_key.json", status)
    )
    with pytest.raises(NotSent) as raised:
        await harness.provider.authorize(authorize_call())
    assert raised.value.decline_code is DeclineCode.PROVIDER_AUTH_FAILED


@pytest.mark.parametrize(("error", "expected"), TRANSPORT_FAILURES, ids=lambda v: v.__name__)
async def test_authorize_transport_failures(
    harness: RazorpayHarness, error: type[Exception], expected: type[Exception]
) -> None:
    harness.router.post("/v1/orders").mock(side_effect=error)
    with pytest.raises(expected) as raised:
        await harness.provider.authorize(authorize_call())
    if expected is NotSent:
        assert not isinstance(raised.value, OutcomeUnknown)


# -- capture --------------------------------------------------------------------------------


def capture_call(reference: str = "order_DESlLckIVRkHWj") -> CaptureCall:
    return CaptureCall("pay_01JDGATEWAYHUBEXAMPLE0000", KEY, reference, Money(100, "INR"))


async def test_capture_finds_the_authorized_payment_and_captures_it(
    harness: RazorpayHarness,
) -> None:
    harness.router.get("/v1/orders/order_DESlLckIVRkHWj/payments").mock(
        return_value=FIXTURES.response("retrieve/order_payments_authorized.json")
    )
    route = harness.router.post("/v1/payments/pay_DESlfW9H8K9uqM/capture").mock(
        return_value=FIXTURES.response("capture/captured.json")
    )
    result = await harness.provider.capture(capture_call())
    assert json.loads(route.calls.last.request.content) == {"amount": 100, "currency": "INR"}
    assert route.calls.last.request.headers["Authorization"] == BASIC
    assert result.status is ProviderStatus.CAPTURED
    # the documented capture answer is another payment of 1000 paise: echoed as is
    assert result.money == Money(1000, "INR")
    assert result.provider_reference == "order_GjCr5oKh4AVC51"
    assert result.fee == Money(1, "INR")


async def test_capture_by_payment_id(harness: RazorpayHarness) -> None:
    authorized = json.loads(FIXTURES.raw("retrieve/order_payments_authorized.json"))["items"][0]
    harness.router.get("/v1/payments/pay_G3P9vcIhRs3NV4").mock(
        return_value=httpx.Response(200, json=authorized | {"id": "pay_G3P9vcIhRs3NV4"})
    )
    route = harness.router.post("/v1/payments/pay_G3P9vcIhRs3NV4/capture").mock(
        return_value=FIXTURES.response("capture/captured.json")
    )
    result = await harness.provider.capture(capture_call("pay_G3P9vcIhRs3NV4"))
    assert route.called
    assert result.status is ProviderStatus.CAPTURED


async def test_capture_already_won_by_auto_capture_sends_nothing(
    harness: RazorpayHarness,
) -> None:
    harness.router.get("/v1/orders/order_N8FRN5zTm5S3wx/payments").mock(
        return_value=FIXTURES.response("retrieve/order_payments_failed_then_captured.json")
    )
    capture = harness.router.post(path__regex=r"/capture$")
    result = await harness.provider.capture(capture_call("order_N8FRN5zTm5S3wx"))
    assert not capture.called
    assert result.status is ProviderStatus.CAPTURED
    assert result.captured == Money(100, "INR")


async def test_capture_refused_but_captured_meanwhile_is_success(
    harness: RazorpayHarness,
) -> None:
    harness.router.get("/v1/orders/order_DESlLckIVRkHWj/payments").mock(
        return_value=FIXTURES.response("retrieve/order_payments_authorized.json")
    )
    harness.router.post("/v1/payments/pay_DESlfW9H8K9uqM/capture").mock(
        return_value=FIXTURES.response("capture/amount_not_integer.json", 400)
    )
    captured = json.loads(FIXTURES.raw("capture/captured.json")) | {"id": "pay_DESlfW9H8K9uqM"}
    harness.router.get("/v1/payments/pay_DESlfW9H8K9uqM").mock(
        return_value=httpx.Response(200, json=captured)
    )
    result = await harness.provider.capture(capture_call())
    assert result.status is ProviderStatus.CAPTURED


async def test_capture_refused_is_a_decline(harness: RazorpayHarness) -> None:
    harness.router.get("/v1/orders/order_DESlLckIVRkHWj/payments").mock(
        return_value=FIXTURES.response("retrieve/order_payments_authorized.json")
    )
    harness.router.post("/v1/payments/pay_DESlfW9H8K9uqM/capture").mock(
        return_value=FIXTURES.response("capture/amount_not_integer.json", 400)
    )
    authorized = json.loads(FIXTURES.raw("retrieve/order_payments_authorized.json"))["items"][0]
    harness.router.get("/v1/payments/pay_DESlfW9H8K9uqM").mock(
        return_value=httpx.Response(200, json=authorized)
    )
    result = await harness.provider.capture(capture_call())
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert result.decline.code is DeclineCode.INVALID_REQUEST
    assert result.decline.message == "The amount must be an integer."


@pytest.mark.parametrize(
    ("error", "expected"),
    [(httpx.ConnectError, NotSent), (httpx.ReadTimeout, OutcomeUnknown)],
)
async def test_capture_transport_failures(
    harness: RazorpayHarness, error: type[Exception], expected: type[Exception]
) -> None:
    harness.router.get("/v1/orders/order_DESlLckIVRkHWj/payments").mock(
        return_value=FIXTURES.response("retrieve/order_payments_authorized.json")
    )
    harness.router.post("/v1/payments/pay_DESlfW9H8K9uqM/capture").mock(side_effect=error)
    with pytest.raises(expected):
        await harness.provider.capture(capture_call())


# -- refund ---------------------------------------------------------------------------------


def refund_call(amount: int = 40) -> RefundCall:
    return RefundCall(
        "pay_01JDGATEWAYHUBEXAMPLE0000",
        "rfd_01JDGATEWAYHUBEXAMPLE0000",
        "0b4f5c8e-3d2a-5f1e-9c7b-1a2b3c4d5e6f",
        "order_N8FRN5zTm5S3wx",
        Money(amount, "INR"),
        "damaged",
    )


@pytest.fixture
def paid_order(harness: RazorpayHarness) -> None:
    harness.router.get("/v1/orders/order_N8FRN5zTm5S3wx/payments").mock(
        return_value=FIXTURES.response("retrieve/order_payments_failed_then_captured.json")
    )


@pytest.mark.usefixtures("paid_order")
async def test_refund_sends_the_idempotency_header_and_our_ids(harness: RazorpayHarness) -> None:
    route = harness.router.post("/v1/payments/pay_N8FVRD1DzYzBh1/refund").mock(
        return_value=FIXTURES.response("refund/processed.json")
    )
    result = await harness.provider.refund(refund_call())
    request = route.calls.last.request
    assert request.headers["X-Refund-Idempotency"] == "0b4f5c8e-3d2a-5f1e-9c7b-1a2b3c4d5e6f"
    assert request.headers["Authorization"] == BASIC
    assert json.loads(request.content) == {
        "amount": 40,
        "speed": "normal",
        "receipt": "rfd_01JDGATEWAYHUBEXAMPLE0000",
        "notes": {
            "gatewayhub_payment_id": "pay_01JDGATEWAYHUBEXAMPLE0000",
            "gatewayhub_refund_id": "rfd_01JDGATEWAYHUBEXAMPLE0000",
            "gatewayhub_key": "0b4f5c8e-3d2a-5f1e-9c7b-1a2b3c4d5e6f",
        },
    }
    assert result.status is RefundStatus.SUCCEEDED
    assert result.provider_reference == "rfnd_FP8DDKxqJif6ca"
    assert result.money == Money(300100, "INR")


@pytest.mark.usefixtures("paid_order")
async def test_several_partial_refunds_each_carry_their_own_key(harness: RazorpayHarness) -> None:
    route = harness.router.post("/v1/payments/pay_N8FVRD1DzYzBh1/refund").mock(
        return_value=FIXTURES.response("refund/processed_idempotent.json")
    )
    first = refund_call(30)
    second = RefundCall(
        first.payment_id,
        "rfd_02",
        "7c1d9e2f-aaaa-4bbb-8ccc-000000000002",
        first.provider_reference,
        Money(20, "INR"),
    )
    await harness.provider.refund(first)
    result = await harness.provider.refund(second)
    keys = [c.request.headers["X-Refund-Idempotency"] for c in route.calls]
    assert keys == [first.key, second.key]
    assert [json.loads(c.request.content)["amount"] for c in route.calls] == [30, 20]
    # the documented answer leaves `currency` empty: no amount can be echoed from it
    assert result.status is RefundStatus.SUCCEEDED
    assert result.money is None


@pytest.mark.usefixtures("paid_order")
async def test_refund_refused_is_failed(harness: RazorpayHarness) -> None:
    harness.router.post("/v1/payments/pay_N8FVRD1DzYzBh1/refund").mock(
        return_value=FIXTURES.response("refund/different_request_same_key.json", 400)
    )
    result = await harness.provider.refund(refund_call())
    assert result.status is RefundStatus.FAILED
    assert result.decline is not None
    assert result.decline.provider_code == "BAD_REQUEST_ERROR"


@pytest.mark.usefixtures("paid_order")
@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (httpx.ConnectError, NotSent),
        (httpx.ReadTimeout, OutcomeUnknown),
        (httpx.Response(409), OutcomeUnknown),  # same key still in flight: retry later
        (httpx.Response(500), OutcomeUnknown),
    ],
)
async def test_refund_failures(
    harness: RazorpayHarness, answer: object, expected: type[Exception]
) -> None:
    route = harness.router.post("/v1/payments/pay_N8FVRD1DzYzBh1/refund")
    if isinstance(answer, httpx.Response):
        route.mock(return_value=answer)
    else:
        route.mock(side_effect=answer)
    with pytest.raises(expected):
        await harness.provider.refund(refund_call())


async def test_refund_of_an_order_without_captured_payment_sends_nothing(
    harness: RazorpayHarness,
) -> None:
    harness.router.get("/v1/orders/order_N8FRN5zTm5S3wx/payments").mock(
        return_value=FIXTURES.response("retrieve/order_payments_authorized.json")
    )
    refunds = harness.router.post(path__regex=r"/refund$")
    result = await harness.provider.refund(refund_call())
    assert not refunds.called
    assert result.status is RefundStatus.FAILED


# -- retrieve -------------------------------------------------------------------------------


async def test_retrieve_by_receipt_when_the_order_id_never_arrived(
    harness: RazorpayHarness,
) -> None:
    lookup = harness.router.get("/v1/orders", params={"receipt": KEY}).mock(
        return_value=FIXTURES.response("retrieve/orders_by_receipt.json")
    )
    harness.router.get("/v1/orders/fake_order_id/payments").mock(
        return_value=FIXTURES.response("retrieve/order_payments_created.json")
    )
    result = await harness.provider.retrieve(RetrieveCall("pay_x", KEY, Money(500, "INR")))
    assert lookup.called
    assert result.status is ProviderStatus.PENDING
    assert result.provider_reference == "fake_order_id"
    assert result.raw_status == "payment:created"


async def test_retrieve_by_receipt_prefers_the_paid_order(harness: RazorpayHarness) -> None:
    first = json.loads(FIXTURES.raw("retrieve/orders_by_receipt.json"))["items"][0]
    paid = first | {"id": "order_N8FRN5zTm5S3wx", "status": "paid", "amount": 100}
    harness.router.get("/v1/orders", params={"receipt": KEY}).mock(
        return_value=httpx.Response(
            200, json={"entity": "collection", "count": 2, "items": [first, paid]}
        )
    )
    harness.router.get("/v1/orders/order_N8FRN5zTm5S3wx/payments").mock(
        return_value=FIXTURES.response("retrieve/order_payments_failed_then_captured.json")
    )
    result = await harness.provider.retrieve(RetrieveCall("pay_x", KEY, Money(100, "INR")))
    assert result.status is ProviderStatus.CAPTURED
    assert result.provider_reference == "order_N8FRN5zTm5S3wx"
    assert (result.captured, result.refunded, result.fee) == (
        Money(100, "INR"),
        Money(0, "INR"),
        Money(2, "INR"),
    )


async def test_retrieve_by_payment_id(harness: RazorpayHarness) -> None:
    harness.router.get("/v1/payments/pay_G3P9vcIhRs3NV4").mock(
        return_value=FIXTURES.response("capture/captured.json")
    )
    result = await harness.provider.retrieve(
        RetrieveCall("pay_x", KEY, Money(1000, "INR"), "pay_G3P9vcIhRs3NV4")
    )
    assert result.status is ProviderStatus.CAPTURED
    assert result.provider_reference == "order_GjCr5oKh4AVC51"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(
            400,
            json={
                "error": {
                    "code": "BAD_REQUEST_ERROR",
                    "description": "The id provided does not exist",
                    "source": "business",
                    "step": "payment_initiation",
                    "reason": "input_validation_failed",
                    "metadata": {},
                    "field": "id",
                }
            },
        ),
        httpx.Response(404),
    ],
)
async def test_retrieve_unknown_order_is_not_found(
    harness: RazorpayHarness, answer: httpx.Response
) -> None:
    harness.router.get("/v1/orders/order_UNKNOWN0000001").mock(return_value=answer)
    result = await harness.provider.retrieve(
        RetrieveCall("pay_x", KEY, Money(100, "INR"), "order_UNKNOWN0000001")
    )
    assert result.status is ProviderStatus.NOT_FOUND


async def test_retrieve_failed_tries_are_pending_until_the_auto_capture_window_ends(
    harness: RazorpayHarness,
) -> None:
    body = json.loads(FIXTURES.raw("retrieve/order_payments_failed_then_captured.json"))
    only_failed = body | {"count": 1, "items": body["items"][:1]}
    order = json.loads(FIXTURES.raw("retrieve/order_attempted.json")) | {
        "id": "order_N8FRN5zTm5S3wx",
        "amount": 100,
    }
    harness.router.get("/v1/orders/order_N8FRN5zTm5S3wx").mock(
        return_value=httpx.Response(200, json=order)
    )
    harness.router.get("/v1/orders/order_N8FRN5zTm5S3wx/payments").mock(
        return_value=httpx.Response(200, json=only_failed)
    )
    call = RetrieveCall("pay_x", KEY, Money(100, "INR"), "order_N8FRN5zTm5S3wx")
    failed_at = 1701688684  # the failed payment's created_at
    harness.clock.advance(failed_at + 11 * 60 - harness.clock.now().timestamp())
    assert (await harness.provider.retrieve(call)).status is ProviderStatus.PENDING
    harness.clock.advance(timedelta(minutes=2).total_seconds())
    result = await harness.provider.retrieve(call)
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert (result.decline.code, result.decline.provider_code) == (
        DeclineCode.GENERIC_DECLINE,
        "payment_failed",
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [(httpx.ConnectError, NotSent), (httpx.ReadTimeout, OutcomeUnknown)],
)
async def test_retrieve_transport_failures(
    harness: RazorpayHarness, error: type[Exception], expected: type[Exception]
) -> None:
    harness.router.get("/v1/orders/fake_order_id").mock(side_effect=error)
    with pytest.raises(expected):
        await harness.provider.retrieve(
            RetrieveCall("pay_x", KEY, Money(500, "INR"), "fake_order_id")
        )


async def test_checkout_signature_uses_the_account_key_secret(harness: RazorpayHarness) -> None:
    # the harness secret differs from R1's, so R1's signature must not verify here
    assert not harness.provider.verify_payment_signature(
        "fake_order_id",
        "fake_payment_id",
        "b2335e3b0801106b84a7faff035df56ecffde06918c9ddd1f0fafbb37a51cc89",
    )
