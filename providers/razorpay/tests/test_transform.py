"""Razorpay's tables and pure mappings, case by case (expected values from the documents)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from gatewayhub.currencies import EXPONENTS
from gatewayhub.errors import Decision, DeclineCode
from gatewayhub.models import EventKind, ProviderStatus, RefundStatus
from gatewayhub.money import Money
from gatewayhub_razorpay import transform, wire
from gatewayhub_razorpay.currencies import SUPPORTED

from .harness import settings

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
GRACE = timedelta(minutes=12)


def order(status: str = "attempted", *, capture: str = "automatic", **extra: Any) -> wire.Order:
    return wire.Order.model_validate(
        {
            "id": "order_T1",
            "amount": 5000,
            "currency": "INR",
            "status": status,
            "amount_paid": 5000 if status == "paid" else 0,
            "notes": {
                "gatewayhub_payment_id": "pay_01JDGATEWAYHUBEXAMPLE0000",
                "gatewayhub_key": "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01",
                "gatewayhub_capture": capture,
            },
            **extra,
        }
    )


def payment(status: str, minutes_ago: int = 60, **extra: Any) -> wire.Payment:
    return wire.Payment.model_validate(
        {
            "id": f"pay_{status}",
            "amount": 5000,
            "currency": "INR",
            "status": status,
            "order_id": "order_T1",
            "created_at": int((NOW - timedelta(minutes=minutes_ago)).timestamp()),
            **extra,
        }
    )


FAILED = {"error_code": "BAD_REQUEST_ERROR", "error_reason": "incorrect_otp"}


@pytest.mark.parametrize(
    ("order_status", "capture", "payments", "expected", "raw"),
    [
        ("created", "automatic", [], ProviderStatus.REQUIRES_ACTION, "order:created"),
        ("attempted", "automatic", [payment("created")], ProviderStatus.PENDING, "payment:created"),
        (
            "attempted",
            "automatic",
            [payment("authorized")],
            ProviderStatus.PENDING,
            "payment:authorized",
        ),
        (
            "attempted",
            "manual",
            [payment("authorized")],
            ProviderStatus.AUTHORIZED,
            "payment:authorized",
        ),
        ("paid", "automatic", [payment("captured")], ProviderStatus.CAPTURED, "payment:captured"),
        ("paid", "automatic", [payment("refunded")], ProviderStatus.CAPTURED, "payment:refunded"),
        ("paid", "automatic", [], ProviderStatus.CAPTURED, "order:paid"),
        # a failed try and a captured retry on the same order: captured
        (
            "paid",
            "automatic",
            [payment("failed", **FAILED), payment("captured")],
            ProviderStatus.CAPTURED,
            "payment:captured",
        ),
        # only failed tries: pending inside the auto-capture window, declined after it
        (
            "attempted",
            "automatic",
            [payment("failed", minutes_ago=5, **FAILED)],
            ProviderStatus.PENDING,
            "payment:failed",
        ),
        (
            "attempted",
            "automatic",
            [payment("failed", minutes_ago=13, **FAILED)],
            ProviderStatus.DECLINED,
            "payment:failed",
        ),
        # a status Razorpay may add one day: pending, never success
        (
            "attempted",
            "automatic",
            [payment("under_review")],
            ProviderStatus.PENDING,
            "payment:under_review",
        ),
        ("archived", "automatic", [], ProviderStatus.PENDING, "order:archived"),
    ],
)
def test_order_status_table(
    order_status: str,
    capture: str,
    payments: list[wire.Payment],
    expected: ProviderStatus,
    raw: str,
) -> None:
    result = transform.order_result(
        order(order_status, capture=capture), payments, key_id="rzp_test_K", now=NOW, grace=GRACE
    )
    assert result.status is expected
    assert result.raw_status == raw
    assert result.provider_reference == "order_T1"
    assert result.money == Money(5000, "INR")


def test_declined_order_carries_the_newest_failure() -> None:
    older = payment("failed", minutes_ago=40, error_reason="insufficient_funds")
    newer = payment("failed", minutes_ago=20, **FAILED)
    result = transform.order_result(order(), [older, newer], key_id="k", now=NOW, grace=GRACE)
    assert result.decline is not None
    assert result.decline.provider_code == "incorrect_otp"
    assert result.decline.code is DeclineCode.AUTHENTICATION_REQUIRED


@pytest.mark.parametrize(
    ("reason", "code", "decision", "hard"),
    [
        ("insufficient_funds", DeclineCode.INSUFFICIENT_FUNDS, Decision.FINAL, False),
        ("card_expired", DeclineCode.EXPIRED_CARD, Decision.FINAL, True),
        ("incorrect_cvv", DeclineCode.INCORRECT_CVC, Decision.FINAL, True),
        ("card_declined", DeclineCode.DO_NOT_HONOR, Decision.FINAL, False),
        ("payment_risk_check_failed", DeclineCode.FRAUD_SUSPECTED, Decision.FINAL, True),
        ("debit_instrument_blocked", DeclineCode.CARD_BLOCKED, Decision.FINAL, True),
        ("card_disabled_for_online_payments", DeclineCode.INVALID_CARD, Decision.FINAL, False),
        ("transaction_limit_exceeded", DeclineCode.LIMIT_EXCEEDED, Decision.FINAL, False),
        ("incorrect_otp", DeclineCode.AUTHENTICATION_REQUIRED, Decision.FINAL, False),
        ("payment_cancelled", DeclineCode.GENERIC_DECLINE, Decision.FINAL, False),
        ("bank_technical_error", DeclineCode.ISSUER_UNAVAILABLE, Decision.RETRY_SAME, False),
        ("gateway_technical_error", DeclineCode.PROCESSING_ERROR, Decision.RETRY_SAME, False),
        ("invalid_vpa", DeclineCode.INVALID_CARD, Decision.FINAL, False),
        ("input_validation_failed", DeclineCode.INVALID_REQUEST, Decision.FAILOVER, False),
        ("a_reason_razorpay_adds_later", DeclineCode.GENERIC_DECLINE, Decision.FINAL, False),
    ],
)
def test_failure_reason_table(
    reason: str, code: DeclineCode, decision: Decision, hard: bool
) -> None:
    decline = transform.payment_decline(
        payment("failed", error_code="BAD_REQUEST_ERROR", error_reason=reason)
    )
    assert (decline.code, decline.decision, decline.hard) == (code, decision, hard)
    assert decline.provider_code == reason


@pytest.mark.parametrize(
    ("error", "provider_code", "code"),
    [
        (
            {"code": "BAD_REQUEST_ERROR", "reason": "input_validation_failed"},
            "input_validation_failed",
            DeclineCode.INVALID_REQUEST,
        ),
        (
            {"code": "BAD_REQUEST_ERROR", "reason": "NA"},
            "BAD_REQUEST_ERROR",
            DeclineCode.INVALID_REQUEST,
        ),
        ({"code": "BAD_REQUEST_ERROR"}, "BAD_REQUEST_ERROR", DeclineCode.INVALID_REQUEST),
        ({"code": "GATEWAY_ERROR"}, "GATEWAY_ERROR", DeclineCode.PROCESSING_ERROR),
        ({"code": "SERVER_ERROR"}, "SERVER_ERROR", DeclineCode.PROCESSING_ERROR),
    ],
)
def test_error_body_table(error: dict[str, str], provider_code: str, code: DeclineCode) -> None:
    decline = transform.error_decline(wire.ApiError.model_validate(error))
    assert (decline.provider_code, decline.code) == (provider_code, code)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("processed", RefundStatus.SUCCEEDED),
        ("pending", RefundStatus.PENDING),
        ("failed", RefundStatus.FAILED),
        ("queued_for_later", RefundStatus.PENDING),
    ],
)
def test_refund_status_table(status: str, expected: RefundStatus) -> None:
    refund = wire.Refund(id="rfnd_1", amount=10, currency="INR", payment_id="pay_1", status=status)
    assert transform.refund_result(refund).status is expected


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ("payment.authorized", EventKind.AUTHORIZED),
        ("payment.captured", EventKind.CAPTURED),
        ("payment.failed", EventKind.PENDING),
        ("order.paid", EventKind.CAPTURED),
        ("refund.processed", EventKind.REFUND_SUCCEEDED),
        ("refund.failed", EventKind.REFUND_FAILED),
        ("refund.created", EventKind.UNHANDLED),
        ("payment.dispute.created", EventKind.UNHANDLED),
    ],
)
def test_event_table(event: str, kind: EventKind) -> None:
    assert transform.EVENTS.get(event, EventKind.UNHANDLED) is kind


@pytest.mark.parametrize(
    ("money", "refused"),
    [
        (Money(1230, "KWD"), False),
        (Money(1231, "KWD"), True),
        (Money(990, "OMR"), False),
        (Money(1231, "INR"), False),
        (Money(1231, "JPY"), False),
    ],
)
def test_three_decimal_amounts_must_end_in_zero(money: Money, refused: bool) -> None:
    assert (transform.precision_decline(money) is not None) is refused


def test_razorpay_exponents_agree_with_iso() -> None:
    # Razorpay's table and ISO 4217 agree on every currency both list, so minor units
    # go on the wire unchanged; the codes ISO has withdrawn are not declared at all.
    assert {code: SUPPORTED[code] for code in SUPPORTED if code in EXPONENTS} == {
        code: EXPONENTS[code] for code in SUPPORTED if code in EXPONENTS
    }
    assert set(SUPPORTED) <= set(EXPONENTS)
    assert len(SUPPORTED) == 128 - 3  # the documented rows, less BGN, HRK and SLL
    assert (SUPPORTED["INR"], SUPPORTED["JPY"], SUPPORTED["KWD"]) == (2, 0, 3)


def test_notes_may_be_an_empty_array() -> None:
    assert wire.note([], "gatewayhub_key") is None
    assert wire.note({"gatewayhub_key": "k"}, "gatewayhub_key") == "k"


def test_settings_refuse_unlisted_currencies_and_inverted_windows() -> None:
    with pytest.raises(ValidationError):
        settings(currencies=["INR", "BGN"])  # withdrawn from ISO, listed by Razorpay
    with pytest.raises(ValidationError):
        settings(currencies=["INR", "XAU"])
    with pytest.raises(ValidationError):
        settings(auto_capture_minutes=60, manual_capture_minutes=30)
    with pytest.raises(ValidationError):
        settings(key_id="key_id")  # not rzp_test_... / rzp_live_...
    assert settings().currencies == ["INR", "JPY", "KWD"]
