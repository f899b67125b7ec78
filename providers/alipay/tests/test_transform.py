"""Alipay's tables and pure translations, case by case. Expected values are written from the
fact sheet (alipay.md) and Alipay's documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gatewayhub.errors import Decision, DeclineCode, NotSent, OutcomeUnknown
from gatewayhub.idempotency import key_from_hex, key_hex
from gatewayhub.models import AuthorizeCall, PaymentMethod, ProviderStatus, RefundStatus
from gatewayhub.money import Money
from gatewayhub_alipay import errors, transform, wire

C = DeclineCode


@pytest.mark.parametrize(
    ("trade_status", "send_pay_date", "expected"),
    [
        ("WAIT_BUYER_PAY", None, ProviderStatus.REQUIRES_ACTION),
        ("TRADE_SUCCESS", "2014-11-27 15:45:57", ProviderStatus.CAPTURED),
        ("TRADE_FINISHED", "2014-11-27 15:45:57", ProviderStatus.CAPTURED),
        ("TRADE_CLOSED", None, ProviderStatus.CANCELED),  # unpaid, timed out or closed
        ("TRADE_CLOSED", "2014-11-27 15:45:57", ProviderStatus.CAPTURED),  # paid, refunded
        ("TRADE_UNDER_REVIEW", None, ProviderStatus.PENDING),  # unknown means pending
        (None, None, ProviderStatus.PENDING),
    ],
)
def test_trade_status_table(
    trade_status: str | None, send_pay_date: str | None, expected: ProviderStatus
) -> None:
    answer = wire.QueryAnswer(
        code="10000",
        trade_status=trade_status,
        total_amount="10.00",
        send_pay_date=send_pay_date,
    )
    result = transform.query_result(answer, "ref")
    assert result.status is expected
    assert result.money == Money(1000, "CNY")
    assert result.provider_reference == "ref"


@pytest.mark.parametrize(
    ("code", "sub_code", "expected", "decision"),
    [
        ("40004", "ACQ.TRADE_HAS_SUCCESS", C.INVALID_REQUEST, Decision.RECONCILE),
        ("40004", "ACQ.TRADE_STATUS_ERROR", C.INVALID_REQUEST, Decision.RECONCILE),
        ("40004", "ACQ.CONTEXT_INCONSISTENT", C.INVALID_REQUEST, Decision.FINAL),
        ("40004", "ACQ.TRADE_HAS_CLOSE", C.INVALID_REQUEST, Decision.FINAL),
        ("40004", "ACQ.TRADE_NOT_EXIST", C.INVALID_REQUEST, Decision.FINAL),
        ("40004", "ACQ.BUYER_BALANCE_NOT_ENOUGH", C.INSUFFICIENT_FUNDS, Decision.FINAL),
        ("40004", "ACQ.SELLER_BALANCE_NOT_ENOUGH", C.INSUFFICIENT_FUNDS, Decision.FINAL),
        ("40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", C.INVALID_REQUEST, Decision.FINAL),
        ("40004", "ACQ.INVALID_PARAMETER", C.INVALID_REQUEST, Decision.FAILOVER),
        ("40001", "isv.missing-method", C.INVALID_REQUEST, Decision.FAILOVER),
        ("40001", None, C.INVALID_REQUEST, Decision.FAILOVER),
        ("40002", None, C.INVALID_REQUEST, Decision.FAILOVER),
        ("40004", None, C.GENERIC_DECLINE, Decision.FINAL),
        ("40004", "ACQ.NEVER_SEEN_BEFORE", C.GENERIC_DECLINE, Decision.FINAL),
    ],
)
def test_decline_table(
    code: str, sub_code: str | None, expected: DeclineCode, decision: Decision
) -> None:
    answer = wire.Envelope(code=code, msg="Business Failed", sub_code=sub_code, sub_msg="x")
    assert errors.failure(answer, "acct") is None
    result = transform.decline(answer)
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert (result.decline.code, result.decline.decision) == (expected, decision)
    assert result.decline.provider_code == (
        code if code in ("40001", "40002") else sub_code or code
    )


@pytest.mark.parametrize(
    ("code", "sub_code", "error", "canonical"),
    [
        ("20000", "isp.unknow-error", OutcomeUnknown, C.PROVIDER_UNAVAILABLE),
        ("40004", "ACQ.SYSTEM_ERROR", OutcomeUnknown, C.PROVIDER_UNAVAILABLE),
        ("20001", "aop.invalid-auth-token", NotSent, C.PROVIDER_AUTH_FAILED),
        ("40002", "isv.invalid-signature", NotSent, C.PROVIDER_AUTH_FAILED),
        ("40002", "isv.invalid-app-id", NotSent, C.PROVIDER_AUTH_FAILED),
        ("40006", "isv.insufficient-isv-permissions", NotSent, C.PROVIDER_AUTH_FAILED),
    ],
)
def test_failures_are_exceptions(
    code: str, sub_code: str, error: type[Exception], canonical: DeclineCode
) -> None:
    failure = errors.failure(wire.Envelope(code=code, sub_code=sub_code), "acct")
    assert type(failure) is error
    assert failure.decline_code is canonical  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("key", "order_no", "back"),
    [
        (
            "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01",
            "6f1c2a340d555b7e9a412f2a7c0f1e01",
            "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01",
        ),
        (
            "6F1C2A34-0D55-5B7E-9A41-2F2A7C0F1E01",
            "6f1c2a340d555b7e9a412f2a7c0f1e01",
            "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01",
        ),
    ],
)
def test_order_numbers_are_the_key_in_hex(key: str, order_no: str, back: str) -> None:
    assert key_hex(key) == order_no
    assert key_from_hex(order_no) == back


def test_a_key_that_is_not_a_uuid_still_fits_alipays_rules() -> None:
    order_no = key_hex("never-sent-key")
    assert len(order_no) == 32
    assert order_no.isalnum()
    assert order_no == key_hex("never-sent-key")


@pytest.mark.parametrize(
    "order_no", ["20190815155618536-564-57", None, "", "zz1c2a340d555b7e9a412f2a7c0f1e01"]
)
def test_foreign_order_numbers_have_no_key(order_no: str | None) -> None:
    assert key_from_hex(order_no) is None


@pytest.mark.parametrize(
    ("money", "wire_amount"),
    [
        (Money(1, "CNY"), "0.01"),
        (Money(10, "CNY"), "0.10"),
        (Money(1050, "CNY"), "10.50"),
        (Money(10_000_000_000, "CNY"), "100000000.00"),
    ],
)
def test_amounts_are_yuan_with_two_decimals(money: Money, wire_amount: str) -> None:
    assert transform.yuan(money) == wire_amount
    assert transform.cny(wire_amount) == money


def test_times_are_beijing() -> None:
    moment = datetime(2024, 1, 1, 4, 0, 0, 999_999, tzinfo=UTC)
    assert transform.beijing(moment) == "2024-01-01 12:00:00"
    parsed = transform.parse_beijing("2019-08-15 15:56:25")
    assert parsed == datetime(2019, 8, 15, 7, 56, 25, tzinfo=UTC)
    assert transform.parse_beijing("yesterday") is None


@pytest.mark.parametrize(
    ("description", "reference", "expected"),
    [
        ("iPhone6 16G", None, "iPhone6 16G"),
        ("a/b=c&d", None, "a b c d"),
        (None, "order-1001", "order-1001"),
        (None, None, "Payment pay_1"),
    ],
)
def test_subject(description: str | None, reference: str | None, expected: str) -> None:
    call = AuthorizeCall(
        "pay_1",
        "k",
        Money(1, "CNY"),
        True,
        PaymentMethod(token="qr"),
        "qr",
        reference=reference,
        description=description,
    )
    assert transform.subject(call) == expected


@pytest.mark.parametrize(
    ("fund_change", "expected"),
    [("Y", RefundStatus.SUCCEEDED), ("N", RefundStatus.PENDING), (None, RefundStatus.PENDING)],
)
def test_refund_fund_change(fund_change: str | None, expected: RefundStatus) -> None:
    answer = wire.RefundAnswer(code="10000", fund_change=fund_change, refund_fee="30.00")
    result = transform.refund_result(answer, "rq")
    assert result.status is expected
    assert result.money is None  # refund_fee is cumulative: never echoed as this refund


@pytest.mark.parametrize(
    ("refund_amount", "refund_status", "expected"),
    [
        ("0.01", None, RefundStatus.SUCCEEDED),
        ("0.01", "REFUND_SUCCESS", RefundStatus.SUCCEEDED),
        (None, None, RefundStatus.PENDING),
        ("0.01", "REFUND_PROCESSING", RefundStatus.PENDING),
    ],
)
def test_refund_query(
    refund_amount: str | None, refund_status: str | None, expected: RefundStatus
) -> None:
    answer = wire.RefundQueryAnswer(
        code="10000", refund_amount=refund_amount, refund_status=refund_status
    )
    assert transform.refund_query_result(answer, "rq").status is expected


def test_flows() -> None:
    assert {name: (f.method, f.product_code, f.server) for name, f in transform.FLOWS.items()} == {
        "page": ("alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY", False),
        "wap": ("alipay.trade.wap.pay", "QUICK_WAP_WAY", False),
        "app": ("alipay.trade.app.pay", "QUICK_MSECURITY_PAY", False),
        "qr": ("alipay.trade.precreate", None, True),
    }


def test_biz_content_is_compact_utf8() -> None:
    model = wire.Refund(
        out_trade_no="o", refund_amount="1.00", out_request_no="r", refund_reason="退款"
    )
    assert transform.biz_content(model) == (
        '{"out_trade_no":"o","refund_amount":"1.00","out_request_no":"r","refund_reason":"退款"}'
    )
    assert transform.biz_content(
        wire.Refund(out_trade_no="o", refund_amount="1.00", out_request_no="r")
    ) == ('{"out_trade_no":"o","refund_amount":"1.00","out_request_no":"r"}')
