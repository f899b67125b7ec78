"""TrueLayer's tables and pure mappings, case by case (expected values from the documents)."""

from __future__ import annotations

import json

import pytest

from gatewayhub.errors import Decision, DeclineCode
from gatewayhub.models import EventKind, ProviderStatus, RefundStatus
from gatewayhub.money import Money
from gatewayhub_truelayer import transform, wire

from .harness import FIXTURES


def payment(fixture: str) -> wire.Payment:
    return wire.Payment.model_validate_json(FIXTURES.raw(fixture))


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("retrieve/authorization_required.json", ProviderStatus.REQUIRES_ACTION),
        ("retrieve/attempt_failed.json", ProviderStatus.REQUIRES_ACTION),
        ("retrieve/authorized.json", ProviderStatus.PENDING),
        ("retrieve/executed.json", ProviderStatus.PENDING),
        ("retrieve/settled.json", ProviderStatus.CAPTURED),
        ("retrieve/failed.json", ProviderStatus.DECLINED),
    ],
)
def test_payment_status_from_fixtures(fixture: str, status: ProviderStatus) -> None:
    result = transform.payment_result(payment(fixture))
    assert result.status is status
    assert result.raw_status == json.loads(FIXTURES.raw(fixture))["status"]


@pytest.mark.parametrize(
    ("status", "stage", "reason", "expected"),
    [
        ("authorizing", None, None, ProviderStatus.REQUIRES_ACTION),
        ("failed", "authorization_required", "expired", ProviderStatus.CANCELED),
        ("failed", "authorizing", "user_canceled_at_provider", ProviderStatus.CANCELED),
        ("failed", "authorizing", "canceled", ProviderStatus.CANCELED),
        # once the payer consented, a failure is a failure (nothing to cancel)
        ("failed", "authorized", "canceled", ProviderStatus.DECLINED),
        ("failed", "authorizing", "authorization_failed", ProviderStatus.DECLINED),
        ("failed", "authorized", "provider_rejected", ProviderStatus.DECLINED),
        # unknown statuses are pending, never success
        ("queued_somewhere", None, None, ProviderStatus.PENDING),
    ],
)
def test_status_table(
    status: str, stage: str | None, reason: str | None, expected: ProviderStatus
) -> None:
    item = wire.Payment(
        id="p1",
        amount_in_minor=1000,
        currency="EUR",
        status=status,
        failure_stage=stage,
        failure_reason=reason,
    )
    result = transform.payment_result(item)
    assert result.status is expected
    assert result.money == Money(1000, "EUR")
    assert result.captured is None


@pytest.mark.parametrize(
    ("reason", "code", "decision"),
    [
        ("authorization_failed", DeclineCode.AUTHENTICATION_REQUIRED, Decision.FINAL),
        ("rejected", DeclineCode.DO_NOT_HONOR, Decision.FINAL),
        ("provider_rejected", DeclineCode.DO_NOT_HONOR, Decision.FINAL),
        ("insufficient_funds", DeclineCode.INSUFFICIENT_FUNDS, Decision.FINAL),
        ("expired", DeclineCode.GENERIC_DECLINE, Decision.FINAL),
        ("provider_error", DeclineCode.ISSUER_UNAVAILABLE, Decision.RETRY_SAME),
        ("internal_server_error", DeclineCode.PROCESSING_ERROR, Decision.RETRY_SAME),
        ("blocked", DeclineCode.FRAUD_SUSPECTED, Decision.FINAL),
        ("payment_limit_exceeded", DeclineCode.LIMIT_EXCEEDED, Decision.FINAL),
        ("failed", DeclineCode.GENERIC_DECLINE, Decision.FINAL),
        ("a_reason_truelayer_adds_later", DeclineCode.GENERIC_DECLINE, Decision.FINAL),
    ],
)
def test_failure_reason_table(reason: str, code: DeclineCode, decision: Decision) -> None:
    decline = transform.failure_decline(reason, "authorizing")
    assert (decline.code, decline.decision, decline.provider_code) == (code, decision, reason)


@pytest.mark.parametrize(
    ("title", "code", "decision"),
    [
        ("Invalid Parameters", DeclineCode.INVALID_REQUEST, Decision.FAILOVER),
        ("Invalid State", DeclineCode.INVALID_REQUEST, Decision.FINAL),
        ("Idempotency-Key Reuse", DeclineCode.INVALID_REQUEST, Decision.FINAL),
        ("Not Found", DeclineCode.INVALID_REQUEST, Decision.FINAL),
    ],
)
def test_problem_table(title: str, code: DeclineCode, decision: Decision) -> None:
    decline = transform.problem_decline(wire.Problem(title=title))
    assert (decline.code, decline.decision) == (code, decision)


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("refund/pending.json", RefundStatus.PENDING),
        ("refund/executed.json", RefundStatus.SUCCEEDED),
        ("refund/failed.json", RefundStatus.FAILED),
    ],
)
def test_refund_status_from_fixtures(fixture: str, status: RefundStatus) -> None:
    result = transform.refund_result(wire.Refund.model_validate_json(FIXTURES.raw(fixture)))
    assert result.status is status
    assert result.money == Money(100, "GBP")


def test_refund_status_table_unknown_is_pending() -> None:
    refund = wire.Refund(id="r", amount_in_minor=1, currency="GBP", status="reviewing")
    assert transform.refund_result(refund).status is RefundStatus.PENDING


def test_refunded_total_counts_executed_refunds_only() -> None:
    refunds = [
        wire.Refund(id="a", amount_in_minor=30, currency="GBP", status="executed"),
        wire.Refund(id="b", amount_in_minor=20, currency="GBP", status="pending"),
        wire.Refund(id="c", amount_in_minor=10, currency="GBP", status="executed"),
    ]
    result = transform.payment_result(payment("retrieve/settled.json"), refunds)
    assert result.refunded == Money(40, "GBP")


@pytest.mark.parametrize(
    ("type_", "kind"),
    [
        ("payment_authorized", EventKind.PENDING),
        ("payment_executed", EventKind.PENDING),
        ("payment_settled", EventKind.CAPTURED),
        ("payment_failed", EventKind.FAILED),
        ("refund_executed", EventKind.REFUND_SUCCEEDED),
        ("refund_failed", EventKind.REFUND_FAILED),
        ("payment_creditable", EventKind.UNHANDLED),
        ("payment_settlement_stalled", EventKind.UNHANDLED),
        ("mandate_authorized", EventKind.UNHANDLED),
    ],
)
def test_event_table(type_: str, kind: EventKind) -> None:
    assert transform.EVENTS.get(type_, EventKind.UNHANDLED) is kind


def test_hosted_page_url() -> None:
    assert transform.hosted_page_url(
        "https://payment.truelayer.com/", "pid", "tok", "https://shop.example/r?x=1"
    ) == (
        "https://payment.truelayer.com/payments#payment_id=pid&resource_token=tok"
        "&return_uri=https://shop.example/r?x=1"
    )


@pytest.mark.parametrize(
    ("metadata", "ok"),
    [
        ({"customer_name": "A", "customer_email": "a@example.com"}, True),
        ({"customer_name": "A", "customer_phone": "+447700900000"}, True),
        ({"customer_name": "A"}, False),
        ({"customer_email": "a@example.com"}, False),
        ({}, False),
    ],
)
def test_payer_details(metadata: dict[str, str], ok: bool) -> None:
    assert (transform.user_details(metadata) is not None) is ok
