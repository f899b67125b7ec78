"""Table-driven tests of the pure PayPal translation (amounts, requests, statuses,
declines, events). Expected values are written from PayPal's documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gatewayhub.errors import Decision, DeclineCode
from gatewayhub.models import (
    CaptureCall,
    EventKind,
    PaymentMethodType,
    ProviderStatus,
    RefundCall,
    RefundStatus,
)
from gatewayhub.money import Money, MoneyError
from gatewayhub_paypal import amounts, transform, wire

from .harness import FIXTURES, authorize_call

C = DeclineCode
D = Decision
S = ProviderStatus
ORDER, ORDER_AUTH = "5O190127TN364715T", "8AA831015G517922L"
PAY_ID, KEY = "pay_01KAVS4B2Y7N3H0Q8G6J5W1RTE", "0b6e2f0c-2a47-5d6b-9b0e-5f1c7a8e9d21"

# -- amounts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "value"),
    [
        (Money(10000, "USD"), "100.00"),
        (Money(1050, "EUR"), "10.50"),
        (Money(1, "GBP"), "0.01"),
        (Money(1000, "JPY"), "1000"),
        (Money(150000, "HUF"), "1500"),  # no decimals at PayPal, two in ISO
        (Money(20000, "TWD"), "200"),
    ],
)
def test_amount_to_wire(money: Money, value: str) -> None:
    assert amounts.to_wire(money) == value


@pytest.mark.parametrize(
    "money",
    [
        Money(150050, "HUF"),  # 1500.50 HUF: PayPal refuses decimals for HUF
        Money(20001, "TWD"),
        Money(1230, "KWD"),  # no three-decimal currency at PayPal
        Money(1000, "BHD"),
        Money(1000, "CLP"),  # not a PayPal currency
    ],
)
def test_amount_not_representable(money: Money) -> None:
    with pytest.raises(amounts.AmountNotRepresentable):
        amounts.to_wire(money)


@pytest.mark.parametrize(
    ("value", "currency", "money"),
    [
        ("100.00", "USD", Money(10000, "USD")),
        ("10.5", "EUR", Money(1050, "EUR")),
        ("1500", "HUF", Money(150000, "HUF")),
        ("1500.00", "HUF", Money(150000, "HUF")),
        ("1000", "JPY", Money(1000, "JPY")),
    ],
)
def test_amount_from_wire(value: str, currency: str, money: Money) -> None:
    assert amounts.from_wire(value, currency) == money


@pytest.mark.parametrize("value", ["10.001", "1e3", "", "ten"])
def test_unreadable_amounts(value: str) -> None:
    with pytest.raises(MoneyError):
        amounts.from_wire(value, "USD")


# -- requests -------------------------------------------------------------------------------------


def test_order_request_for_buyer_approval() -> None:
    body = transform.order_request(
        authorize_call(token="paypal", method=PaymentMethodType.PAYPAL), brand_name="Shop Example"
    )
    assert body == {
        "intent": "CAPTURE",
        "purchase_units": [
            {
                "reference_id": PAY_ID,
                "amount": {"currency_code": "USD", "value": "100.00"},
                "custom_id": PAY_ID,
                "invoice_id": KEY,
                "description": "contract test",
            }
        ],
        "payment_source": {
            "paypal": {
                "experience_context": {
                    "user_action": "PAY_NOW",
                    "return_url": "https://shop.example/return",
                    "cancel_url": "https://shop.example/return",
                    "brand_name": "Shop Example",
                }
            }
        },
    }


@pytest.mark.parametrize(
    ("method", "token", "source"),
    [
        (PaymentMethodType.CARD, "8kk8451t", {"card": {"vault_id": "8kk8451t"}}),
        (PaymentMethodType.PAYPAL, "2ab3cd4e5f", {"paypal": {"vault_id": "2ab3cd4e5f"}}),
    ],
)
def test_order_request_with_vaulted_source(
    method: PaymentMethodType, token: str, source: dict[str, object]
) -> None:
    body = transform.order_request(authorize_call(capture=False, token=token, method=method))
    assert body["intent"] == "AUTHORIZE"
    assert body["payment_source"] == source


def test_capture_and_refund_requests() -> None:
    capture = CaptureCall("pay_x", "k-cap", ORDER_AUTH, Money(6000, "USD"), final=True)
    assert transform.capture_request(capture) == {
        "amount": {"currency_code": "USD", "value": "60.00"},
        "final_capture": True,
        "invoice_id": "k-cap",
    }
    refund = RefundCall("pay_x", "rfd_1", "k-ref", ORDER, Money(2500, "USD"), "damaged")
    assert transform.refund_request(refund) == {
        "amount": {"currency_code": "USD", "value": "25.00"},
        "invoice_id": "k-ref",
        "custom_id": "rfd_1",
        "note_to_payer": "damaged",
    }


def test_completion_request_id_is_derived_and_within_limits() -> None:
    assert transform.completion_request_id(KEY) == f"{KEY}-complete"
    assert len(transform.completion_request_id(KEY)) <= 108  # PayPal-Request-Id maxLength


# -- orders ---------------------------------------------------------------------------------------


def order(name: str) -> wire.Order:
    return wire.Order.model_validate(FIXTURES.json(name))


@pytest.mark.parametrize(
    ("fixture", "status", "money", "captured", "refunded", "fee"),
    [
        ("authorize/payer_action_required.json", S.REQUIRES_ACTION, 10000, None, None, None),
        ("authorize/created.json", S.REQUIRES_ACTION, 10000, None, None, None),
        ("authorize/unknown_status.json", S.PENDING, 10000, None, None, None),
        ("authorize/completed_captured.json", S.CAPTURED, 10000, 10000, 0, 398),
        ("authorize/completed_authorized.json", S.AUTHORIZED, 10000, 0, 0, None),
        ("retrieve/order_approved.json", S.PENDING, 10000, None, None, None),
        ("retrieve/order_captured.json", S.CAPTURED, 10000, 10000, 0, 398),
        ("retrieve/order_partially_refunded.json", S.CAPTURED, 10000, 10000, 2500, 398),
        ("retrieve/order_capture_pending.json", S.PENDING, 10000, 0, 0, None),
        ("retrieve/order_authorized.json", S.AUTHORIZED, 10000, 0, 0, None),
        ("retrieve/order_authorization_captured.json", S.CAPTURED, 10000, 6000, 0, None),
        ("retrieve/order_authorization_voided.json", S.CANCELED, 10000, 0, 0, None),
    ],
)
def test_order_results(
    fixture: str,
    status: ProviderStatus,
    money: int,
    captured: int | None,
    refunded: int | None,
    fee: int | None,
) -> None:
    result = transform.order_result(order(fixture))
    assert result.status is status
    assert result.provider_reference == FIXTURES.json(fixture)["id"]  # always the order id
    assert result.money == Money(money, "USD")
    assert result.captured == (None if captured is None else Money(captured, "USD"))
    assert result.refunded == (None if refunded is None else Money(refunded, "USD"))
    assert result.fee == (None if fee is None else Money(fee, "USD"))


@pytest.mark.parametrize(
    ("fixture", "rel"),
    [
        ("authorize/payer_action_required.json", "payer-action"),
        ("authorize/created.json", "approve"),
    ],
)
def test_buyer_redirect(fixture: str, rel: str) -> None:
    result = transform.order_result(order(fixture))
    assert result.next_action is not None
    assert result.next_action.type == "redirect"
    assert result.next_action.url == f"https://www.sandbox.paypal.com/checkoutnow?token={ORDER}"
    assert result.next_action.data == {"order_id": ORDER}
    links = {link["rel"] for link in FIXTURES.json(fixture)["links"]}
    assert rel in links


def test_requires_action_without_a_link_is_pending() -> None:
    bare = wire.Order(id=ORDER, status="PAYER_ACTION_REQUIRED", links=[])
    assert transform.order_result(bare).status is S.PENDING


@pytest.mark.parametrize(
    ("table", "raw", "status"),
    [
        (transform.ORDER_STATUS, "CREATED", S.REQUIRES_ACTION),
        (transform.ORDER_STATUS, "PAYER_ACTION_REQUIRED", S.REQUIRES_ACTION),
        (transform.ORDER_STATUS, "APPROVED", S.PENDING),
        (transform.ORDER_STATUS, "SAVED", S.PENDING),
        (transform.ORDER_STATUS, "VOIDED", S.CANCELED),
        (transform.CAPTURE_STATUS, "COMPLETED", S.CAPTURED),
        (transform.CAPTURE_STATUS, "PARTIALLY_REFUNDED", S.CAPTURED),
        (transform.CAPTURE_STATUS, "REFUNDED", S.CAPTURED),
        (transform.CAPTURE_STATUS, "PENDING", S.PENDING),
        (transform.CAPTURE_STATUS, "DECLINED", S.DECLINED),
        (transform.CAPTURE_STATUS, "FAILED", S.DECLINED),
        (transform.AUTHORIZATION_STATUS, "CREATED", S.AUTHORIZED),
        (transform.AUTHORIZATION_STATUS, "PARTIALLY_CAPTURED", S.AUTHORIZED),
        (transform.AUTHORIZATION_STATUS, "CAPTURED", S.CAPTURED),
        (transform.AUTHORIZATION_STATUS, "PENDING", S.PENDING),
        (transform.AUTHORIZATION_STATUS, "DENIED", S.DECLINED),
        (transform.AUTHORIZATION_STATUS, "VOIDED", S.CANCELED),
    ],
)
def test_status_tables(table: object, raw: str, status: ProviderStatus) -> None:
    assert table[raw] is status  # type: ignore[index]


@pytest.mark.parametrize("raw", ["PENDING_APPROVAL", "SOMETHING_NEW", ""])
def test_unknown_statuses_are_pending(raw: str) -> None:
    capture = wire.Capture(id="3C679366HH908993F", status=raw)
    assert transform.capture_result(capture).status is S.PENDING
    auth = wire.Authorization(id="0VF52814937998046", status=raw)
    assert transform.authorization_result(auth).status is S.PENDING
    refund = wire.Refund(id="1JU08902781691411", status=raw)
    assert transform.refund_result(refund).status is RefundStatus.PENDING


@pytest.mark.parametrize(
    ("code", "canonical", "decision", "hard"),
    [
        ("0500", C.DO_NOT_HONOR, D.FINAL, False),
        ("0500_advice21", C.DO_NOT_HONOR, D.FINAL, True),  # Mastercard advice 21: never retry
        ("5120", C.INSUFFICIENT_FUNDS, D.FINAL, False),
        ("5400", C.EXPIRED_CARD, D.FINAL, True),
        ("5110", C.INCORRECT_CVC, D.FINAL, True),
        ("9500", C.FRAUD_SUSPECTED, D.FINAL, True),
        ("9520", C.CARD_BLOCKED, D.FINAL, True),
        ("5650", C.AUTHENTICATION_REQUIRED, D.STEP_UP, False),
        ("9100", C.PROCESSING_ERROR, D.RETRY_SAME, False),
        ("5200", C.GENERIC_DECLINE, D.FINAL, False),  # unmapped
    ],
)
def test_processor_declines(
    code: str, canonical: DeclineCode, decision: Decision, hard: bool
) -> None:
    result = transform.order_result(order(f"authorize/declined_{code}.json"))
    assert result.status is S.DECLINED
    assert result.decline is not None
    assert (result.decline.code, result.decline.decision, result.decline.hard) == (
        canonical,
        decision,
        hard,
    )
    assert result.decline.provider_code == code.split("_", maxsplit=1)[0]


@pytest.mark.parametrize(
    ("fixture", "status", "issue", "canonical", "decision"),
    [
        (
            "authorize/refused_INSTRUMENT_DECLINED.json",
            422,
            "INSTRUMENT_DECLINED",
            C.DO_NOT_HONOR,
            D.FINAL,
        ),
        (
            "authorize/refused_TRANSACTION_REFUSED.json",
            422,
            "TRANSACTION_REFUSED",
            C.GENERIC_DECLINE,
            D.FINAL,
        ),
        (
            "authorize/refused_PAYEE_ACCOUNT_RESTRICTED.json",
            422,
            "PAYEE_ACCOUNT_RESTRICTED",
            C.INVALID_REQUEST,
            D.FAILOVER,
        ),
        (
            "authorize/refused_DECIMAL_PRECISION.json",
            422,
            "DECIMAL_PRECISION",
            C.CURRENCY_NOT_SUPPORTED,
            D.FAILOVER,
        ),
        (
            "authorize/invalid_request.json",
            400,
            "INVALID_PARAMETER_VALUE",
            C.INVALID_REQUEST,
            D.FINAL,
        ),
        (
            "capture/refused_AUTHORIZATION_EXPIRED.json",
            422,
            "AUTHORIZATION_EXPIRED",
            C.INVALID_REQUEST,
            D.FINAL,
        ),
        (
            "refund/refused_REFUND_AMOUNT_EXCEEDED.json",
            422,
            "REFUND_AMOUNT_EXCEEDED",
            C.INVALID_REQUEST,
            D.FINAL,
        ),
        ("retrieve/not_found.json", 404, "INVALID_RESOURCE_ID", C.GENERIC_DECLINE, D.FINAL),
    ],
)
def test_error_issues(
    fixture: str, status: int, issue: str, canonical: DeclineCode, decision: Decision
) -> None:
    error = wire.ErrorBody.model_validate(FIXTURES.json(fixture))
    result = transform.error_result(error, status)
    assert result.status is S.DECLINED
    assert result.raw_status == issue
    assert result.decline is not None
    assert (result.decline.code, result.decline.decision) == (canonical, decision)
    assert FIXTURES.json(fixture)["debug_id"] in result.decline.message


@pytest.mark.parametrize(
    ("issue", "canonical", "decision"),
    [
        ("PAYER_ACTION_REQUIRED", C.AUTHENTICATION_REQUIRED, D.STEP_UP),
        ("REDIRECT_PAYER_FOR_ALTERNATE_FUNDING", C.DO_NOT_HONOR, D.FINAL),
        ("PAYER_CANNOT_PAY", C.GENERIC_DECLINE, D.FINAL),
        ("MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED", C.LIMIT_EXCEEDED, D.FINAL),
        ("TRANSACTION_RECEIVING_LIMIT_EXCEEDED", C.LIMIT_EXCEEDED, D.FAILOVER),
        ("CARD_EXPIRED", C.EXPIRED_CARD, D.FINAL),
        ("REFUND_FAILED_INSUFFICIENT_FUNDS", C.INSUFFICIENT_FUNDS, D.FINAL),
        ("PENDING_CAPTURE", C.PROCESSING_ERROR, D.RETRY_SAME),
    ],
)
def test_issue_table(issue: str, canonical: DeclineCode, decision: Decision) -> None:
    error = wire.ErrorBody(name="UNPROCESSABLE_ENTITY", details=[wire.ErrorDetail(issue=issue)])
    decline = transform.error_decline(error, 422)
    assert (decline.code, decline.decision) == (canonical, decision)


def test_capture_and_refund_results() -> None:
    capture = wire.Capture.model_validate(FIXTURES.json("capture/completed_partial.json"))
    result = transform.capture_result(capture)
    assert (result.status, result.provider_reference) == (S.CAPTURED, "2GG279541U471931P")
    assert (result.money, result.fee) == (Money(6000, "USD"), Money(258, "USD"))
    declined = transform.capture_result(
        wire.Capture.model_validate(FIXTURES.json("capture/declined.json"))
    )
    assert declined.status is S.DECLINED
    assert declined.decline is not None
    assert declined.decline.code is C.INSUFFICIENT_FUNDS
    refund = transform.refund_result(
        wire.Refund.model_validate(FIXTURES.json("refund/completed.json"))
    )
    assert (refund.status, refund.provider_reference, refund.money) == (
        RefundStatus.SUCCEEDED,
        "1JU08902781691411",
        Money(2500, "USD"),
    )
    pending = transform.refund_result(
        wire.Refund.model_validate(FIXTURES.json("refund/pending.json"))
    )
    assert pending.status is RefundStatus.PENDING


def test_finding_the_authorization_and_capture() -> None:
    auth = transform.authorization_of(order("retrieve/order_authorized.json"))
    assert auth is not None
    assert auth.id == "0VF52814937998046"
    capture = transform.capture_of(order("retrieve/order_authorization_captured.json"))
    assert capture is not None
    assert capture.id == "2GG279541U471931P"
    assert transform.capture_of(order("retrieve/order_authorized.json")) is None
    assert transform.authorization_of(order("retrieve/order_captured.json")) is None


# -- events ---------------------------------------------------------------------------------------


def event(name: str) -> wire.Event:
    return wire.Event.model_validate(FIXTURES.json(f"webhooks/{name}.json"))


@pytest.mark.parametrize(
    ("name", "kind", "reference", "key", "payment_id", "money"),
    [
        ("checkout_order_approved", EventKind.PENDING, ORDER, KEY, PAY_ID, 10000),
        # Captures and voids name no attempt key: their invoice id may be the authorization's.
        ("payment_capture_completed", EventKind.CAPTURED, ORDER, None, PAY_ID, 10000),
        ("payment_capture_declined", EventKind.FAILED, ORDER, None, PAY_ID, 10000),
        ("payment_authorization_created", EventKind.AUTHORIZED, ORDER_AUTH, KEY, PAY_ID, 10000),
        ("payment_authorization_voided", EventKind.CANCELED, ORDER_AUTH, None, PAY_ID, 10000),
        ("customer_dispute_created", EventKind.UNHANDLED, None, None, None, None),
    ],
)
def test_events(
    name: str,
    kind: EventKind,
    reference: str | None,
    key: str | None,
    payment_id: str | None,
    money: int | None,
) -> None:
    result = transform.event(event(name))
    assert result.kind is kind
    assert result.event_id == FIXTURES.json(f"webhooks/{name}.json")["id"]
    assert result.raw_type == FIXTURES.json(f"webhooks/{name}.json")["event_type"]
    assert result.provider_reference == reference
    assert result.attempt_key == key
    assert result.payment_id == payment_id
    assert result.money == (None if money is None else Money(money, "USD"))


def test_declined_capture_event_carries_the_decline() -> None:
    result = transform.event(event("payment_capture_declined"))
    assert result.decline is not None
    assert (result.decline.code, result.decline.provider_code) == (C.INSUFFICIENT_FUNDS, "5120")


def test_refund_event() -> None:
    result = transform.event(event("payment_capture_refunded"))
    assert result.kind is EventKind.REFUND_SUCCEEDED
    assert result.provider_reference == "3C679366HH908993F"  # the capture, from rel "up"
    assert result.refund_reference == "1JU08902781691411"
    assert result.refund_id == "rfd_01KAVS9W3M0N7R2C5E8T4P6QXA"
    assert result.attempt_key == "7c1d9e34-55b0-5a8f-b2c6-0e4d3f2a1b90"
    assert result.money == Money(2500, "USD")
    assert result.occurred_at == datetime(2026, 11, 25, 9, 30, 12, 20000, tzinfo=UTC)


def test_completed_order_event_reads_the_payment() -> None:
    resource = FIXTURES.json("retrieve/order_captured.json")
    item = wire.Event(id="WH-1", event_type="CHECKOUT.ORDER.COMPLETED", resource=resource)
    result = transform.event(item)
    assert (result.kind, result.provider_reference, result.money) == (
        EventKind.CAPTURED,
        ORDER,
        Money(10000, "USD"),
    )
