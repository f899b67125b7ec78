"""Table-driven tests of the Stripe translation: amounts, statuses, declines, errors, events.

Every expected value is written by hand from Stripe's documentation (currencies, decline
codes, PaymentIntent statuses, error handling), not derived from the adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gatewayhub.errors import Decision, DeclineCode, NotSent, OutcomeUnknown
from gatewayhub.models import (
    AuthorizeCall,
    CaptureCall,
    EventKind,
    PaymentMethod,
    ProviderStatus,
    RefundCall,
    RefundStatus,
    RetrieveCall,
    VoidCall,
)
from gatewayhub.money import Money, MoneyError
from gatewayhub_stripe import amounts, wire
from gatewayhub_stripe.webhooks import parse

from .harness import FIXTURES, PI_ID, StripeHarness, form_of

C = DeclineCode
PAYMENT_ID = "pay_01JDQ8ZB7M3K6N2P4R5S7T9V0W"
ATTEMPT_KEY = "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01"


@pytest.fixture
async def harness() -> AsyncIterator[StripeHarness]:
    harness = StripeHarness()
    yield harness
    await harness.client.aclose()


USD_20 = Money(2000, "USD")


def authorize_call(money: Money = USD_20, **fields: Any) -> AuthorizeCall:
    values: dict[str, Any] = {
        "payment_id": PAYMENT_ID,
        "key": ATTEMPT_KEY,
        "money": money,
        "capture": True,
        "method": PaymentMethod(token="pm_card_visa"),
        "token": "pm_card_visa",
        "reference": "order-1001",
        "description": "contract test",
        "return_url": "https://shop.example/return",
        **fields,
    }
    return AuthorizeCall(**values)


# -- amounts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "wire_amount"),
    [
        (Money(2000, "USD"), 2000),  # two-decimal: cents
        (Money(500, "JPY"), 500),  # zero-decimal in ISO and Stripe
        (Money(5000, "CLP"), 5000),  # zero-decimal
        (Money(1000, "MGA"), 10),  # ISO two-decimal, Stripe zero-decimal: 10.00 MGA -> 10
        (Money(1000, "ISK"), 100000),  # ISO zero-decimal, Stripe two-decimal: 1000 kr -> 100000
        (Money(1230, "KWD"), 1230),  # three-decimal, last digit 0
        (Money(5120, "KWD"), 5120),  # Stripe's own example: 5.124 KWD must become 5120
        (Money(100000, "HUF"), 100000),  # two-decimal on the wire
    ],
)
def test_amount_to_wire(money: Money, wire_amount: int) -> None:
    assert amounts.to_wire(money) == wire_amount


@pytest.mark.parametrize(
    "money",
    [
        Money(1234, "KWD"),  # last digit must be 0
        Money(5124, "KWD"),
        Money(1050, "MGA"),  # ariary cents do not exist at Stripe
    ],
)
def test_amount_stripe_cannot_carry(money: Money) -> None:
    with pytest.raises(amounts.AmountNotAccepted):
        amounts.to_wire(money)


@pytest.mark.parametrize(
    ("value", "currency", "money"),
    [
        (2000, "usd", Money(2000, "USD")),
        (500, "jpy", Money(500, "JPY")),
        (10, "mga", Money(1000, "MGA")),
        (100000, "isk", Money(1000, "ISK")),
        (1230, "kwd", Money(1230, "KWD")),
    ],
)
def test_amount_from_wire(value: int, currency: str, money: Money) -> None:
    assert amounts.from_wire(value, currency) == money


def test_amount_from_wire_refuses_fractions_iso_lacks() -> None:
    with pytest.raises(MoneyError):
        amounts.from_wire(100050, "isk")  # 1000.50 ISK has no ISO representation


# -- statuses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "status", "raw"),
    [
        ("authorize/approved.json", ProviderStatus.CAPTURED, "succeeded"),
        ("authorize/approved_manual.json", ProviderStatus.AUTHORIZED, "requires_capture"),
        ("authorize/requires_action.json", ProviderStatus.REQUIRES_ACTION, "requires_action"),
        ("authorize/processing.json", ProviderStatus.PENDING, "processing"),
        (
            "authorize/unknown_status.json",
            ProviderStatus.PENDING,
            "requires_review_future_status",
        ),
        ("void/voided.json", ProviderStatus.CANCELED, "canceled"),
        ("retrieve/declined.json", ProviderStatus.DECLINED, "requires_payment_method"),
    ],
)
async def test_payment_intent_statuses(
    harness: StripeHarness, fixture: str, status: ProviderStatus, raw: str
) -> None:
    harness.answer("GET", f"/v1/payment_intents/{PI_ID}", fixture)
    result = await harness.provider.retrieve(
        RetrieveCall(PAYMENT_ID, ATTEMPT_KEY, Money(2000, "USD"), PI_ID)
    )
    assert result.status is status
    assert result.raw_status == raw
    assert result.provider_reference == PI_ID


async def test_declined_intent_carries_last_payment_error(harness: StripeHarness) -> None:
    harness.answer("GET", f"/v1/payment_intents/{PI_ID}", "retrieve/declined.json")
    result = await harness.provider.retrieve(
        RetrieveCall(PAYMENT_ID, ATTEMPT_KEY, Money(2000, "USD"), PI_ID)
    )
    assert result.decline is not None
    assert result.decline.code is C.INSUFFICIENT_FUNDS
    assert result.decline.provider_code == "insufficient_funds"


@pytest.mark.parametrize(
    ("fixture", "action_type", "url"),
    [
        (
            "authorize/requires_action.json",
            "redirect",
            "https://hooks.stripe.com/3d_secure_2/hosted?merchant=acct_1FAKEexample",
        ),
        ("authorize/requires_action_sdk.json", "sdk", None),
    ],
)
async def test_next_action(
    harness: StripeHarness, fixture: str, action_type: str, url: str | None
) -> None:
    harness.answer("POST", "/v1/payment_intents", fixture)
    result = await harness.provider.authorize(authorize_call())
    assert result.next_action is not None
    assert result.next_action.type == action_type
    if url is None:
        assert result.next_action.url is None
        assert result.next_action.data["type"] == "use_stripe_sdk"
        assert result.next_action.data["payment_intent"] == PI_ID
    else:
        assert result.next_action.url is not None
        assert result.next_action.url.startswith(url)


# -- declines -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "code", "decision", "hard"),
    [
        ("insufficient_funds", C.INSUFFICIENT_FUNDS, Decision.FINAL, False),
        ("generic_decline", C.GENERIC_DECLINE, Decision.FINAL, False),
        ("do_not_honor", C.DO_NOT_HONOR, Decision.FINAL, False),
        # advice_code do_not_try_again makes any decline hard
        ("do_not_honor_never_retry", C.DO_NOT_HONOR, Decision.FINAL, True),
        # advice_code try_again_later: retry with Stripe later
        ("try_again_later", C.GENERIC_DECLINE, Decision.RETRY_SAME, False),
        ("lost_card", C.CARD_BLOCKED, Decision.FINAL, True),
        ("stolen_card", C.CARD_BLOCKED, Decision.FINAL, True),
        ("fraudulent", C.FRAUD_SUSPECTED, Decision.FINAL, True),
        ("expired_card", C.EXPIRED_CARD, Decision.FINAL, True),
        ("incorrect_number", C.INVALID_CARD, Decision.FINAL, True),
        ("incorrect_cvc", C.INCORRECT_CVC, Decision.FINAL, True),
        ("processing_error", C.PROCESSING_ERROR, Decision.RETRY_SAME, False),
        ("authentication_required", C.AUTHENTICATION_REQUIRED, Decision.STEP_UP, False),
        ("card_velocity_exceeded", C.LIMIT_EXCEEDED, Decision.FINAL, False),
        ("brand_new_code", C.GENERIC_DECLINE, Decision.FINAL, False),
    ],
)
async def test_402_declines(
    harness: StripeHarness, fixture: str, code: DeclineCode, decision: Decision, hard: bool
) -> None:
    harness.answer("POST", "/v1/payment_intents", f"authorize/decline_{fixture}.json", 402)
    result = await harness.provider.authorize(authorize_call())
    assert result.status is ProviderStatus.DECLINED
    assert result.provider_reference == PI_ID  # error.payment_intent.id
    assert result.decline is not None
    assert (result.decline.code, result.decline.decision, result.decline.hard) == (
        code,
        decision,
        hard,
    )


# -- HTTP failures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "status", "headers", "outcome"),
    [
        ("authorize/invalid_request.json", 400, {}, C.INVALID_REQUEST),
        ("authorize/idempotency_error.json", 400, {}, OutcomeUnknown),
        ("authorize/lock_timeout.json", 429, {}, NotSent),
        ("authorize/lock_timeout.json", 400, {}, NotSent),
        ("authorize/rate_limited.json", 429, {}, NotSent),
        ("authorize/auth_failed.json", 401, {}, NotSent),
        ("authorize/auth_failed.json", 403, {}, NotSent),
        ("authorize/server_error.json", 500, {}, OutcomeUnknown),
        # Should-Retry false never makes an unknown outcome known
        ("authorize/server_error.json", 500, {"Stripe-Should-Retry": "false"}, OutcomeUnknown),
        ("authorize/server_error.json", 409, {}, OutcomeUnknown),
        # a request refusal Stripe asks to retry was not executed
        ("authorize/invalid_request.json", 400, {"Stripe-Should-Retry": "true"}, NotSent),
    ],
)
async def test_error_answers(
    harness: StripeHarness,
    fixture: str,
    status: int,
    headers: dict[str, str],
    outcome: DeclineCode | type[Exception],
) -> None:
    harness.answer("POST", "/v1/payment_intents", fixture, status, headers)
    if isinstance(outcome, DeclineCode):
        result = await harness.provider.authorize(authorize_call())
        assert result.status is ProviderStatus.DECLINED
        assert result.decline is not None
        assert result.decline.code is outcome
        assert result.decline.decision is Decision.FINAL
        return
    with pytest.raises(outcome):
        await harness.provider.authorize(authorize_call())


# -- requests -----------------------------------------------------------------------------------


async def test_authorize_request(harness: StripeHarness) -> None:
    route = harness.answer("POST", "/v1/payment_intents", "authorize/approved.json")
    call = authorize_call(metadata={"cart": "c-17"})
    await harness.provider.authorize(call)
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer sk_test_FAKEgatewayhubContract0000"
    assert request.headers["Stripe-Version"] == "2026-10-28.endive"
    assert request.headers["Idempotency-Key"] == ATTEMPT_KEY
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.content.decode() == (
        "amount=2000&currency=usd&payment_method=pm_card_visa&confirm=true"
        "&capture_method=automatic&return_url=https%3A%2F%2Fshop.example%2Freturn"
        "&description=contract+test"
        "&metadata%5Bgatewayhub_payment_id%5D=pay_01JDQ8ZB7M3K6N2P4R5S7T9V0W"
        "&metadata%5Bgatewayhub_attempt_key%5D=6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01"
        "&metadata%5Bgatewayhub_reference%5D=order-1001&metadata%5Bcart%5D=c-17"
    )


async def test_authorize_without_return_url_turns_redirects_off(harness: StripeHarness) -> None:
    route = harness.answer("POST", "/v1/payment_intents", "authorize/approved_manual.json")
    await harness.provider.authorize(authorize_call(capture=False, return_url=None))
    form = form_of(route.calls.last.request)
    assert form["capture_method"] == "manual"
    assert "return_url" not in form
    assert form["automatic_payment_methods[enabled]"] == "true"
    assert form["automatic_payment_methods[allow_redirects]"] == "never"


async def test_amount_stripe_cannot_carry_is_never_sent(harness: StripeHarness) -> None:
    route = harness.answer("POST", "/v1/payment_intents", "authorize/approved.json")
    result = await harness.provider.authorize(authorize_call(Money(1234, "KWD")))
    assert not route.called
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert result.decline.code is C.CURRENCY_NOT_SUPPORTED
    assert result.decline.decision is Decision.FAILOVER


@pytest.mark.parametrize(
    ("fixture", "money", "echo"),
    [
        ("capture/captured.json", Money(2000, "USD"), Money(2000, "USD")),
        ("capture/partial.json", Money(1500, "USD"), Money(1500, "USD")),
    ],
)
async def test_capture(harness: StripeHarness, fixture: str, money: Money, echo: Money) -> None:
    route = harness.answer("POST", f"/v1/payment_intents/{PI_ID}/capture", fixture)
    result = await harness.provider.capture(CaptureCall(PAYMENT_ID, "cap-key", PI_ID, money))
    assert form_of(route.calls.last.request) == {"amount_to_capture": str(money.amount)}
    assert route.calls.last.request.headers["Idempotency-Key"] == "cap-key"
    assert result.status is ProviderStatus.CAPTURED
    assert result.money == echo


async def test_capture_not_final_only_with_multicapture() -> None:
    harness = StripeHarness(multicapture=True)
    route = harness.answer("POST", f"/v1/payment_intents/{PI_ID}/capture", "capture/partial.json")
    result = await harness.provider.capture(
        CaptureCall(PAYMENT_ID, "cap-key", PI_ID, Money(1500, "USD"), final=False)
    )
    await harness.client.aclose()
    assert form_of(route.calls.last.request) == {
        "amount_to_capture": "1500",
        "final_capture": "false",
    }
    assert result.money is None  # amount_received is a running total with multicapture


async def test_capture_refused(harness: StripeHarness) -> None:
    harness.answer(
        "POST", f"/v1/payment_intents/{PI_ID}/capture", "capture/not_capturable.json", 400
    )
    result = await harness.provider.capture(
        CaptureCall(PAYMENT_ID, "cap-key", PI_ID, Money(2000, "USD"))
    )
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert result.decline.code is C.INVALID_REQUEST


async def test_void(harness: StripeHarness) -> None:
    route = harness.answer("POST", f"/v1/payment_intents/{PI_ID}/cancel", "void/voided.json")
    result = await harness.provider.void(
        VoidCall(PAYMENT_ID, "void-key", PI_ID, Money(2000, "USD"))
    )
    assert route.calls.last.request.content == b""
    assert result.status is ProviderStatus.CANCELED


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("requested_by_customer", {"reason": "requested_by_customer"}),
        ("damaged in transit", {"metadata[gatewayhub_reason]": "damaged in transit"}),
        (None, {}),
    ],
)
async def test_refund_request(
    harness: StripeHarness, reason: str | None, expected: dict[str, str]
) -> None:
    route = harness.answer("POST", "/v1/refunds", "refund/partial.json")
    call = RefundCall(
        PAYMENT_ID, "rfd_01JDQ9A1B2C3D4E5F6G7H8J9K0", "ref-key", PI_ID, Money(500, "USD"), reason
    )
    result = await harness.provider.refund(call)
    assert form_of(route.calls.last.request) == {
        "payment_intent": PI_ID,
        "amount": "500",
        "metadata[gatewayhub_payment_id]": PAYMENT_ID,
        "metadata[gatewayhub_attempt_key]": "ref-key",
        "metadata[gatewayhub_refund_id]": "rfd_01JDQ9A1B2C3D4E5F6G7H8J9K0",
        **expected,
    }
    assert result.status is RefundStatus.SUCCEEDED
    assert result.money == Money(500, "USD")
    assert result.provider_reference == "re_3QfGhbLkdIwHu7ix0r1e2f3d"


@pytest.mark.parametrize(
    ("fixture", "http_status", "status", "code"),
    [
        ("refund/refunded.json", 200, RefundStatus.SUCCEEDED, None),
        ("refund/pending.json", 200, RefundStatus.PENDING, None),
        ("refund/failed.json", 200, RefundStatus.FAILED, C.EXPIRED_CARD),
        ("refund/already_refunded.json", 400, RefundStatus.FAILED, C.INVALID_REQUEST),
    ],
)
async def test_refund_outcomes(
    harness: StripeHarness,
    fixture: str,
    http_status: int,
    status: RefundStatus,
    code: DeclineCode | None,
) -> None:
    harness.answer("POST", "/v1/refunds", fixture, http_status)
    result = await harness.provider.refund(
        RefundCall(PAYMENT_ID, "rfd_1", "ref-key", PI_ID, Money(2000, "USD"))
    )
    assert result.status is status
    assert (result.decline.code if result.decline else None) is code


# -- retrieve -----------------------------------------------------------------------------------


async def test_retrieve_reads_refund_totals_from_latest_charge(harness: StripeHarness) -> None:
    route = harness.answer("GET", f"/v1/payment_intents/{PI_ID}", "retrieve/found.json")
    result = await harness.provider.retrieve(
        RetrieveCall(PAYMENT_ID, ATTEMPT_KEY, Money(2000, "USD"), PI_ID)
    )
    assert route.calls.last.request.url.params["expand[]"] == "latest_charge"
    assert result.status is ProviderStatus.CAPTURED
    assert result.captured == Money(2000, "USD")
    assert result.refunded == Money(500, "USD")


async def test_retrieve_missing_payment_intent(harness: StripeHarness) -> None:
    harness.answer("GET", "/v1/payment_intents/pi_missing", "retrieve/not_found.json", 404)
    result = await harness.provider.retrieve(
        RetrieveCall(PAYMENT_ID, ATTEMPT_KEY, Money(2000, "USD"), "pi_missing")
    )
    assert result.status is ProviderStatus.NOT_FOUND


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("retrieve/search_found.json", ProviderStatus.CAPTURED),
        # search lags writes: no hit is not proof of absence
        ("retrieve/search_empty.json", ProviderStatus.PENDING),
    ],
)
async def test_retrieve_by_attempt_key(
    harness: StripeHarness, fixture: str, status: ProviderStatus
) -> None:
    route = harness.answer("GET", "/v1/payment_intents/search", fixture)
    result = await harness.provider.retrieve(
        RetrieveCall(PAYMENT_ID, ATTEMPT_KEY, Money(2000, "USD"), None)
    )
    params = route.calls.last.request.url.params
    assert params["query"] == f"metadata['gatewayhub_attempt_key']:'{ATTEMPT_KEY}'"
    assert result.status is status


# -- events -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "kind", "attempt_key", "money"),
    [
        ("payment_intent.succeeded", EventKind.CAPTURED, ATTEMPT_KEY, Money(2000, "USD")),
        # a manual-capture PaymentIntent succeeding is a capture, not the authorization
        ("payment_intent.succeeded.manual", EventKind.CAPTURED, None, Money(2000, "USD")),
        (
            "payment_intent.amount_capturable_updated",
            EventKind.AUTHORIZED,
            ATTEMPT_KEY,
            Money(2000, "USD"),
        ),
        ("payment_intent.payment_failed", EventKind.FAILED, ATTEMPT_KEY, Money(2000, "USD")),
        (
            "payment_intent.requires_action",
            EventKind.REQUIRES_ACTION,
            ATTEMPT_KEY,
            Money(2000, "USD"),
        ),
        ("payment_intent.processing", EventKind.PENDING, ATTEMPT_KEY, Money(2000, "USD")),
        ("payment_intent.canceled", EventKind.CANCELED, None, Money(2000, "USD")),
    ],
)
def test_payment_events(
    fixture: str, kind: EventKind, attempt_key: str | None, money: Money
) -> None:
    (event,) = parse(FIXTURES.raw(f"webhooks/{fixture}.json"))
    assert event.kind is kind
    assert event.raw_type == fixture.removesuffix(".manual")
    assert event.provider_reference == PI_ID
    assert event.payment_id == PAYMENT_ID
    assert event.attempt_key == attempt_key
    assert event.money == money
    assert event.event_id.startswith("evt_")
    if kind is EventKind.FAILED:
        assert event.decline is not None
        assert event.decline.code is C.INSUFFICIENT_FUNDS


@pytest.mark.parametrize(
    ("fixture", "kind", "money"),
    [
        ("refund.created", EventKind.UNHANDLED, Money(2000, "USD")),  # still pending
        ("refund.updated", EventKind.REFUND_SUCCEEDED, Money(2000, "USD")),
        ("refund.failed", EventKind.REFUND_FAILED, Money(2000, "USD")),
        ("charge.refunded", EventKind.REFUND_SUCCEEDED, Money(500, "USD")),
    ],
)
def test_refund_events(fixture: str, kind: EventKind, money: Money) -> None:
    (event,) = parse(FIXTURES.raw(f"webhooks/{fixture}.json"))
    assert event.kind is kind
    assert event.provider_reference == PI_ID
    assert event.refund_reference == "re_3QfGhbLkdIwHu7ix0r1e2f3d"
    assert event.refund_id == "rfd_01JDQ9A1B2C3D4E5F6G7H8J9K0"
    assert event.attempt_key == "0b9b3f0e-7d4c-5a1e-8f2b-3c4d5e6f7a80"
    assert event.money == money
    if kind is EventKind.REFUND_FAILED:
        assert event.decline is not None
        assert event.decline.code is C.EXPIRED_CARD


@pytest.mark.parametrize("fixture", ["charge.refunded.thin", "charge.dispute.created"])
def test_events_we_do_not_act_on(fixture: str) -> None:
    (event,) = parse(FIXTURES.raw(f"webhooks/{fixture}.json"))
    assert event.kind is EventKind.UNHANDLED
    assert event.event_id.startswith("evt_")


def test_wire_form_flattens_with_brackets() -> None:
    body = wire.PaymentIntentCreate(
        amount=1,
        currency="usd",
        payment_method="pm_card_visa",
        confirm=True,
        capture_method="manual",
        automatic_payment_methods=wire.AutomaticPaymentMethods(
            enabled=True, allow_redirects="never"
        ),
        metadata={"a": "b"},
    )
    assert wire.form_pairs(body) == [
        ("amount", "1"),
        ("currency", "usd"),
        ("payment_method", "pm_card_visa"),
        ("confirm", "true"),
        ("capture_method", "manual"),
        ("automatic_payment_methods[enabled]", "true"),
        ("automatic_payment_methods[allow_redirects]", "never"),
        ("metadata[a]", "b"),
    ]
