"""WeChat Pay's tables and pure translations, case by case. Expected values are written from
the fact sheet (wechatpay.md) and WeChat's documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gatewayhub.errors import Decision, DeclineCode
from gatewayhub.idempotency import key_from_hex, key_hex
from gatewayhub.models import AuthorizeCall, PaymentMethod, ProviderStatus, RefundStatus
from gatewayhub.money import Money
from gatewayhub_wechatpay import transform, wire

C = DeclineCode


@pytest.mark.parametrize(
    ("trade_state", "expected"),
    [
        ("SUCCESS", ProviderStatus.CAPTURED),
        ("REFUND", ProviderStatus.CAPTURED),  # paid; refunds are tracked on their own
        ("NOTPAY", ProviderStatus.REQUIRES_ACTION),
        ("USERPAYING", ProviderStatus.PENDING),
        ("ACCEPT", ProviderStatus.PENDING),
        ("CLOSED", ProviderStatus.CANCELED),
        ("REVOKED", ProviderStatus.CANCELED),
        ("PAYERROR", ProviderStatus.DECLINED),
        ("UNDER_REVIEW", ProviderStatus.PENDING),  # unknown means pending
    ],
)
def test_trade_state_table(trade_state: str, expected: ProviderStatus) -> None:
    tx = wire.Transaction(
        out_trade_no="o", trade_state=trade_state, amount=wire.TransactionAmount(total=100)
    )
    result = transform.transaction_result(tx)
    assert result.status is expected
    assert result.money == Money(100, "CNY")
    assert result.provider_reference == "o"
    assert (result.captured is not None) is (expected is ProviderStatus.CAPTURED)
    assert (result.decline is not None) is (expected is ProviderStatus.DECLINED)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("SUCCESS", RefundStatus.SUCCEEDED),
        ("PROCESSING", RefundStatus.PENDING),
        ("ABNORMAL", RefundStatus.PENDING),
        ("CLOSED", RefundStatus.FAILED),
        ("SOMETHING_NEW", RefundStatus.PENDING),
    ],
)
def test_refund_status_table(status: str, expected: RefundStatus) -> None:
    answer = wire.RefundAnswer(
        refund_id="r", out_refund_no="o", status=status, amount=wire.RefundAnswerAmount(refund=250)
    )
    result = transform.refund_result(answer)
    assert result.status is expected
    assert result.money == Money(250, "CNY")
    assert result.provider_reference == "r"


@pytest.mark.parametrize(
    ("code", "expected", "decision"),
    [
        ("PARAM_ERROR", C.INVALID_REQUEST, Decision.FAILOVER),
        ("INVALID_REQUEST", C.INVALID_REQUEST, Decision.FINAL),
        ("OUT_TRADE_NO_USED", C.INVALID_REQUEST, Decision.RECONCILE),
        ("ORDERPAID", C.INVALID_REQUEST, Decision.RECONCILE),
        ("ORDER_CLOSED", C.INVALID_REQUEST, Decision.FINAL),
        ("APPID_MCHID_NOT_MATCH", C.PROVIDER_AUTH_FAILED, Decision.FAILOVER),
        ("MCH_NOT_EXISTS", C.PROVIDER_AUTH_FAILED, Decision.FAILOVER),
        ("NO_AUTH", C.PROVIDER_AUTH_FAILED, Decision.FAILOVER),
        ("NOT_ENOUGH", C.INSUFFICIENT_FUNDS, Decision.FINAL),
        ("USER_ACCOUNT_ABNORMAL", C.PROCESSING_ERROR, Decision.FINAL),
        ("REFUND_CLOSED", C.PROCESSING_ERROR, Decision.FINAL),
        ("FREQUENCY_LIMITED", C.RATE_LIMITED, Decision.RETRY_SAME),
        ("PAYERROR", C.GENERIC_DECLINE, Decision.FINAL),
        ("NEVER_SEEN", C.GENERIC_DECLINE, Decision.FINAL),
    ],
)
def test_error_code_table(code: str, expected: DeclineCode, decision: Decision) -> None:
    result = transform.decline(code, "msg")
    assert result.decline is not None
    assert (result.decline.code, result.decline.decision) == (expected, decision)
    assert result.decline.provider_code == code


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("native", ("/v3/pay/transactions/native", None)),
        (
            "jsapi:oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            ("/v3/pay/transactions/jsapi", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
        ),
        ("jsapi:", None),
        ("h5", None),
        ("tok_visa", None),
    ],
)
def test_flows(token: str, expected: tuple[str, str | None] | None) -> None:
    assert transform.flow(token) == expected


@pytest.mark.parametrize(
    ("key", "order_no"),
    [
        ("6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01", "6f1c2a340d555b7e9a412f2a7c0f1e01"),
        ("0B7D3C5E-8F6A-4E2D-9C1B-0A9F8E7D6C5B", "0b7d3c5e8f6a4e2d9c1b0a9f8e7d6c5b"),
    ],
)
def test_order_numbers_fit_wechats_rules(key: str, order_no: str) -> None:
    assert key_hex(key) == order_no
    assert 6 <= len(order_no) <= 32
    assert key_from_hex(order_no) == key.lower()


def test_foreign_order_numbers_have_no_key() -> None:
    assert key_from_hex("1217752501201407033233368018") is None
    assert key_from_hex(None) is None
    assert len(key_hex("never-sent-key")) == 32


def test_times_are_rfc3339_beijing() -> None:
    assert transform.rfc3339(datetime(2018, 6, 8, 2, 34, 56, 123, tzinfo=UTC)) == (
        "2018-06-08T10:34:56+08:00"
    )
    assert transform.parse_rfc3339("2018-06-08T10:34:56+08:00") == datetime(
        2018, 6, 8, 2, 34, 56, tzinfo=UTC
    )
    assert transform.parse_rfc3339("soon") is None


@pytest.mark.parametrize(
    ("money", "fen"),
    [(Money(1, "CNY"), 1), (Money(100, "CNY"), 100), (Money(123_456, "CNY"), 123_456)],
)
def test_amounts_are_fen(money: Money, fen: int) -> None:
    assert transform.fen(money) == fen
    assert transform.cny(fen) == money


def test_order_body() -> None:
    call = AuthorizeCall(
        "pay_01X",
        "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01",
        Money(2500, "CNY"),
        True,
        PaymentMethod(type="wechat_pay", token="native"),
        "native",
        description="x" * 200,
    )
    body = transform.order(
        call,
        appid="wxd678efh567hg6787",
        mchid="1230000109",
        notify_url="https://shop.example/notify",
        expires=datetime(2026, 11, 24, 12, 15, tzinfo=UTC),
        openid=None,
    )
    assert body.model_dump(exclude_none=True) == {
        "appid": "wxd678efh567hg6787",
        "mchid": "1230000109",
        "description": "x" * 127,
        "out_trade_no": "6f1c2a340d555b7e9a412f2a7c0f1e01",
        "time_expire": "2026-11-24T20:15:00+08:00",
        "attach": "pay_01X",
        "notify_url": "https://shop.example/notify",
        "amount": {"total": 2500, "currency": "CNY"},
    }
