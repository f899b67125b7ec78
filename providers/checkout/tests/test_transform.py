"""Table-driven tests of the pure Checkout.com translation (amounts, requests, statuses,
declines, events). Expected values are written from Checkout.com's documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gatewayhub.errors import Decision, DeclineCode
from gatewayhub.models import CaptureCall, EventKind, ProviderStatus, RefundCall, VoidCall
from gatewayhub.money import Money, MoneyError
from gatewayhub_checkout import amounts, transform, wire

from .harness import FIXTURES, TOKEN, authorize_call

C = DeclineCode
D = Decision

# -- amounts ("Format the amount value") ----------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "wire_amount"),
    [
        (Money(100, "JPY"), 100),  # full value
        (Money(100, "ISK"), 100),  # full value
        (Money(5000, "KRW"), 5000),
        (Money(1050, "EUR"), 1050),  # x100
        (Money(1, "USD"), 1),
        (Money(1000, "CLP"), 100000),  # ISO has no minor unit; Checkout.com wants x100
        (Money(100000, "BHD"), 100000),  # x1000: 100 BHD
        (Money(1230, "KWD"), 1230),  # 1.230 KWD, last digit 0
        (Money(999_999_999, "USD"), 999_999_999),  # nine digits, the maximum
    ],
)
def test_amount_to_wire(money: Money, wire_amount: int) -> None:
    assert amounts.to_wire(money) == wire_amount


@pytest.mark.parametrize(
    "money",
    [
        Money(1234, "KWD"),  # last digit must be 0
        Money(1001, "BHD"),
        Money(1_000_000_000, "USD"),  # ten digits
        Money(10_000_000, "CLP"),  # 1,000,000,000 on the wire
    ],
)
def test_amount_not_representable(money: Money) -> None:
    with pytest.raises(amounts.AmountNotRepresentable):
        amounts.to_wire(money)


@pytest.mark.parametrize(
    ("wire_amount", "currency", "money"),
    [
        (100, "JPY", Money(100, "JPY")),
        (1050, "EUR", Money(1050, "EUR")),
        (100000, "CLP", Money(1000, "CLP")),
        (1230, "KWD", Money(1230, "KWD")),
    ],
)
def test_amount_from_wire(wire_amount: int, currency: str, money: Money) -> None:
    assert amounts.from_wire(wire_amount, currency) == money


def test_amount_from_wire_finer_than_iso_is_refused() -> None:
    with pytest.raises(MoneyError):
        amounts.from_wire(100050, "CLP")  # 1000.50 CLP does not exist


# -- requests -------------------------------------------------------------------------------------


def test_payment_request() -> None:
    body = transform.payment_request(
        authorize_call(capture=False), processing_channel_id="pc_fake0channel", three_ds=True
    )
    assert body == {
        "source": {"type": "token", "token": TOKEN},
        "amount": 6540,
        "currency": "USD",
        "reference": "pay_01KAVS4B2Y7N3H0Q8G6J5W1RTE",
        "description": "Set of 3 masks",
        "capture": False,
        "processing_channel_id": "pc_fake0channel",
        "3ds": {"enabled": True},
        "success_url": "https://shop.example/return",
        "failure_url": "https://shop.example/return",
        "metadata": {
            "cart": "c-77",
            "gatewayhub_payment_id": "pay_01KAVS4B2Y7N3H0Q8G6J5W1RTE",
            "gatewayhub_attempt_key": "0b6e2f0c-2a47-5d6b-9b0e-5f1c7a8e9d21",
            "merchant_reference": "order-1001",
        },
    }


@pytest.mark.parametrize(
    ("token", "source"),
    [
        (TOKEN, {"type": "token", "token": TOKEN}),
        ("src_nwd3m4in3hkuddfpjsaevunhdy", {"type": "id", "id": "src_nwd3m4in3hkuddfpjsaevunhdy"}),
    ],
)
def test_payment_sources(token: str, source: dict[str, str]) -> None:
    body = transform.payment_request(
        authorize_call(token=token), processing_channel_id=None, three_ds=False
    )
    assert body["source"] == source
    assert "3ds" not in body
    assert "processing_channel_id" not in body


def test_foreign_token_is_refused_before_sending() -> None:
    with pytest.raises(transform.SourceNotSupported):
        transform.source("pm_card_visa")


def test_action_requests() -> None:
    capture = CaptureCall(
        "pay_x", "k-cap", "pay_mbabizu24mvu3mela5njyhpit4", Money(2000, "USD"), False
    )
    assert transform.capture_request(capture) == {
        "amount": 2000,
        "capture_type": "NonFinal",
        "reference": "k-cap",
        "metadata": {"gatewayhub_capture_key": "k-cap"},
    }
    final = CaptureCall("pay_x", "k-cap2", "pay_y", Money(1230, "KWD"), True)
    assert transform.capture_request(final)["capture_type"] == "Final"
    assert transform.capture_request(final)["amount"] == 1230
    void = VoidCall("pay_x", "k-void", "pay_y", Money(6540, "USD"))
    assert transform.void_request(void) == {
        "reference": "k-void",
        "metadata": {"gatewayhub_void_key": "k-void"},
    }
    refund = RefundCall("pay_x", "rfd_1", "k-ref", "pay_y", Money(100, "JPY"))
    assert transform.refund_request(refund) == {
        "amount": 100,
        "reference": "rfd_1",
        "metadata": {"gatewayhub_refund_id": "rfd_1", "gatewayhub_refund_key": "k-ref"},
    }


# -- payment answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "status", "money", "captured", "refunded"),
    [
        ("authorize/approved.json", ProviderStatus.AUTHORIZED, Money(6540, "USD"), None, None),
        ("authorize/pending.json", ProviderStatus.PENDING, None, None, None),
        ("authorize/retry_scheduled.json", ProviderStatus.PENDING, Money(6540, "USD"), None, None),
        ("retrieve/authorized.json", ProviderStatus.AUTHORIZED, Money(6540, "USD"), 0, 0),
        (
            "retrieve/partially_captured.json",
            ProviderStatus.AUTHORIZED,
            Money(6540, "USD"),
            2000,
            0,
        ),
        ("retrieve/captured.json", ProviderStatus.CAPTURED, Money(6540, "USD"), 6540, 0),
        (
            "retrieve/partially_refunded.json",
            ProviderStatus.CAPTURED,
            Money(6540, "USD"),
            6540,
            1540,
        ),
        ("retrieve/voided.json", ProviderStatus.CANCELED, Money(6540, "USD"), 0, 0),
        ("retrieve/declined.json", ProviderStatus.DECLINED, Money(6540, "USD"), 0, 0),
    ],
)
def test_payment_statuses(
    fixture: str,
    status: ProviderStatus,
    money: Money | None,
    captured: int | None,
    refunded: int | None,
) -> None:
    result = transform.payment_result(wire.Payment.model_validate(FIXTURES.json(fixture)))
    assert result.status is status
    assert result.money == money
    assert result.captured == (None if captured is None else Money(captured, "USD"))
    assert result.refunded == (None if refunded is None else Money(refunded, "USD"))
    assert result.provider_reference == FIXTURES.json(fixture)["id"]


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("Pending", ProviderStatus.PENDING),
        ("Authorized", ProviderStatus.AUTHORIZED),
        ("Card Verified", ProviderStatus.AUTHORIZED),
        ("Partially Captured", ProviderStatus.AUTHORIZED),
        ("Captured", ProviderStatus.CAPTURED),
        ("Paid", ProviderStatus.CAPTURED),
        ("Partially Refunded", ProviderStatus.CAPTURED),
        ("Refunded", ProviderStatus.CAPTURED),
        ("Declined", ProviderStatus.DECLINED),
        ("Voided", ProviderStatus.CANCELED),
        ("Canceled", ProviderStatus.CANCELED),
        ("Expired", ProviderStatus.CANCELED),
        ("Retry Scheduled", ProviderStatus.PENDING),  # newer API status, not in the table
        ("Something New", ProviderStatus.PENDING),
    ],
)
def test_status_table(raw: str, status: ProviderStatus) -> None:
    payment = wire.Payment(id="pay_mbabizu24mvu3mela5njyhpit4", status=raw, approved=None)
    assert transform.payment_result(payment).status is status


def test_approved_false_is_never_success() -> None:
    payment = wire.Payment(id="pay_mbabizu24mvu3mela5njyhpit4", status="Authorized", approved=False)
    assert transform.payment_result(payment).status is ProviderStatus.PENDING


def test_three_ds_redirect() -> None:
    result = transform.payment_result(
        wire.Payment.model_validate(FIXTURES.json("authorize/3ds_redirect.json"))
    )
    assert result.status is ProviderStatus.REQUIRES_ACTION
    assert result.next_action is not None
    assert result.next_action.type == "redirect"
    assert result.next_action.url == (
        "https://api.sandbox.checkout.com/3ds/pay_y3oqhf46pyzuxjbcn2giaqnb44"
        "?token=nGsJHzZDJYWNZdbbKXqhfaHy"
    )


@pytest.mark.parametrize(
    ("code", "canonical", "decision", "hard"),
    [
        ("20005", C.DO_NOT_HONOR, D.FINAL, False),
        ("20051", C.INSUFFICIENT_FUNDS, D.FINAL, False),
        ("20054", C.EXPIRED_CARD, D.FINAL, True),
        ("20059", C.FRAUD_SUSPECTED, D.FINAL, True),
        ("20062", C.CARD_BLOCKED, D.FINAL, True),
        ("20087", C.INCORRECT_CVC, D.FINAL, True),
        ("20091", C.ISSUER_UNAVAILABLE, D.RETRY_SAME, False),
        ("20154", C.AUTHENTICATION_REQUIRED, D.STEP_UP, False),
        ("30043", C.CARD_BLOCKED, D.FINAL, True),
        ("41101", C.FRAUD_SUSPECTED, D.FINAL, True),
        ("200T3", C.GENERIC_DECLINE, D.FINAL, False),  # unmapped
    ],
)
def test_declines(code: str, canonical: DeclineCode, decision: Decision, hard: bool) -> None:
    result = transform.payment_result(
        wire.Payment.model_validate(FIXTURES.json(f"authorize/declined_{code}.json"))
    )
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert (result.decline.code, result.decline.decision, result.decline.hard) == (
        canonical,
        decision,
        hard,
    )
    assert result.decline.provider_code == code


@pytest.mark.parametrize(
    ("code", "canonical", "decision"),
    [
        ("20003", C.INVALID_REQUEST, D.FAILOVER),  # invalid merchant: our side
        ("20068", C.PROCESSING_ERROR, D.RETRY_SAME),
        ("200R1", C.DO_NOT_HONOR, D.FINAL),
        ("20152", C.AUTHENTICATION_REQUIRED, D.FINAL),
        ("43401", C.AUTHENTICATION_REQUIRED, D.STEP_UP),
    ],
)
def test_response_code_table(code: str, canonical: DeclineCode, decision: Decision) -> None:
    decline = transform.decline(code)
    assert (decline.code, decline.decision) == (canonical, decision)


@pytest.mark.parametrize(
    ("fixture", "canonical", "decision"),
    [
        ("authorize/refused_card_expired.json", C.EXPIRED_CARD, D.FINAL),
        ("authorize/refused_processing_channel.json", C.INVALID_REQUEST, D.FAILOVER),
        ("refund/refused_amount.json", C.INVALID_REQUEST, D.FINAL),
    ],
)
def test_refused_requests(fixture: str, canonical: DeclineCode, decision: Decision) -> None:
    result = transform.refused_result(wire.ErrorBody.model_validate(FIXTURES.json(fixture)), 422)
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert (result.decline.code, result.decline.decision) == (canonical, decision)


# -- events ---------------------------------------------------------------------------------------

P3 = "pay_y3oqhf46pyzuxjbcn2giaqnb44"
AUTH_KEY = "0b6e2f0c-2a47-5d6b-9b0e-5f1c7a8e9d21"
OUR_PAYMENT = "pay_01KAVS4B2Y7N3H0Q8G6J5W1RTE"


@pytest.mark.parametrize(
    ("fixture", "kind", "reference", "key", "payment_id", "money"),
    [
        ("payment_approved", EventKind.AUTHORIZED, P3, AUTH_KEY, OUR_PAYMENT, Money(6540, "USD")),
        # A capture event never names the authorization's key: it would match the wrong attempt.
        ("payment_captured", EventKind.CAPTURED, P3, None, OUR_PAYMENT, Money(6540, "USD")),
        ("payment_declined", EventKind.FAILED, P3, AUTH_KEY, OUR_PAYMENT, Money(6540, "USD")),
        (
            "payment_voided",
            EventKind.CANCELED,
            "pay_mbabizu24mvu3mela5njyhpit4",
            "2a0e-void-key",
            None,
            Money(6540, "USD"),
        ),
        ("dispute_evidence_required", EventKind.UNHANDLED, None, None, None, None),
    ],
)
def test_events(
    fixture: str,
    kind: EventKind,
    reference: str | None,
    key: str | None,
    payment_id: str | None,
    money: Money | None,
) -> None:
    event = transform.event(
        wire.Event.model_validate(json.loads(FIXTURES.raw(f"webhooks/{fixture}.json")))
    )
    assert event.kind is kind
    assert event.raw_type == fixture
    assert event.event_id == FIXTURES.json(f"webhooks/{fixture}.json")["id"]
    assert event.provider_reference == reference
    assert event.attempt_key == key
    assert event.payment_id == payment_id
    assert event.money == money


def test_declined_event_carries_the_decline() -> None:
    event = transform.event(
        wire.Event.model_validate(FIXTURES.json("webhooks/payment_declined.json"))
    )
    assert event.decline is not None
    assert (event.decline.code, event.decline.provider_code) == (C.INSUFFICIENT_FUNDS, "20051")


def test_refund_event() -> None:
    event = transform.event(
        wire.Event.model_validate(FIXTURES.json("webhooks/payment_refunded.json"))
    )
    assert event.kind is EventKind.REFUND_SUCCEEDED
    assert event.refund_reference == "act_5xjd2zsx5ljeljvcoq3irdjyhi"
    assert event.refund_id == "rfd_01KAVS9W3M0N7R2C5E8T4P6QXA"
    assert event.attempt_key == "7c1d9e34-55b0-5a8f-b2c6-0e4d3f2a1b90"
    assert event.provider_reference == "pay_y3oqhf46pyzuxjbcn2giaqnb44"
    assert event.money == Money(1540, "USD")
    assert event.occurred_at == datetime(2026, 11, 25, 9, 30, 12, 15338, tzinfo=UTC)
