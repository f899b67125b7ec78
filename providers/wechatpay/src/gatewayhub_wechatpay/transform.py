"""Pure translation between gatewayhub's calls/results and WeChat Pay API v3 objects.

Our order number: WeChat allows 6-32 digits, letters and `_-*` in `out_trade_no`. We send the
attempt's idempotency key (a UUID) as its 32 hex digits, so every retry of an attempt reuses
the same order (WeChat answers a repeated identical order with the same code_url/prepay_id),
and a notification leads back to the attempt even when the create answer was lost. Refunds
use their key the same way as `out_refund_no`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import MappingProxyType

from gatewayhub.declines import translate
from gatewayhub.idempotency import key_from_hex, key_hex
from gatewayhub.models import (
    AuthorizeCall,
    EventKind,
    NextAction,
    PaymentResult,
    ProviderEvent,
    ProviderStatus,
    RefundResult,
    RefundStatus,
)
from gatewayhub.money import Money
from gatewayhub_wechatpay import wire
from gatewayhub_wechatpay.errors import CODES

NAME = "wechatpay"
CURRENCY = "CNY"
# WeChat writes times in Beijing time (UTC+8, no daylight saving since 1991).
BEIJING = timezone(timedelta(hours=8), "CST")
NATIVE = "native"
JSAPI_PREFIX = "jsapi:"

# trade_state -> status. NOTPAY waits for the customer; SUCCESS is paid; REFUND is a paid
# order with refunds (tracked separately); CLOSED and REVOKED ended unpaid; PAYERROR is a
# failed 付款码 payment. USERPAYING and ACCEPT are not decided yet; anything else is pending.
TRADE_STATE = MappingProxyType(
    {
        "SUCCESS": ProviderStatus.CAPTURED,
        "REFUND": ProviderStatus.CAPTURED,
        "NOTPAY": ProviderStatus.REQUIRES_ACTION,
        "USERPAYING": ProviderStatus.PENDING,
        "ACCEPT": ProviderStatus.PENDING,
        "CLOSED": ProviderStatus.CANCELED,
        "REVOKED": ProviderStatus.CANCELED,
        "PAYERROR": ProviderStatus.DECLINED,
    }
)
# Refund status -> status. ABNORMAL (the user's account cannot receive it) stays pending: it
# needs manual handling in the merchant platform and may still succeed.
REFUND_STATUS = MappingProxyType(
    {
        "SUCCESS": RefundStatus.SUCCEEDED,
        "PROCESSING": RefundStatus.PENDING,
        "ABNORMAL": RefundStatus.PENDING,
        "CLOSED": RefundStatus.FAILED,
    }
)
PAYMENT_EVENTS = frozenset({"TRANSACTION.SUCCESS"})
REFUND_EVENTS = MappingProxyType(
    {"REFUND.SUCCESS": EventKind.REFUND_SUCCEEDED, "REFUND.CLOSED": EventKind.REFUND_FAILED}
)
_PAYMENT_KINDS = MappingProxyType(
    {
        ProviderStatus.CAPTURED: EventKind.CAPTURED,
        ProviderStatus.REQUIRES_ACTION: EventKind.REQUIRES_ACTION,
        ProviderStatus.CANCELED: EventKind.CANCELED,
        ProviderStatus.DECLINED: EventKind.FAILED,
    }
)


# -- identifiers, times, amounts -----------------------------------------------------------------


def rfc3339(moment: datetime) -> str:
    """`2018-06-08T10:34:56+08:00`, WeChat's time format."""
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


def parse_rfc3339(text: str | None) -> datetime | None:
    """A WeChat time as an aware datetime; None when absent or unreadable."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def fen(money: Money) -> int:
    """An amount as WeChat writes it: integer fen, the minor unit of CNY."""
    assert money.currency == CURRENCY
    return money.amount


def cny(amount: int, currency: str = CURRENCY) -> Money:
    """Fen from WeChat as money."""
    return Money(amount, currency)


def description(call: AuthorizeCall) -> str:
    """The goods description shown to the payer (required, at most 127 characters)."""
    return (call.description or call.reference or f"Payment {call.payment_id}")[:127]


# -- requests ------------------------------------------------------------------------------------


def flow(token: str) -> tuple[str, str | None] | None:
    """The order path and JSAPI payer openid a payment method token asks for: `native`
    (a QR code) or `jsapi:<openid>` (inside WeChat); None for anything else."""
    if token == NATIVE:
        return "/v3/pay/transactions/native", None
    if token.startswith(JSAPI_PREFIX) and len(token) > len(JSAPI_PREFIX):
        return "/v3/pay/transactions/jsapi", token[len(JSAPI_PREFIX) :]
    return None


def order(
    call: AuthorizeCall,
    *,
    appid: str,
    mchid: str,
    notify_url: str,
    expires: datetime,
    openid: str | None,
) -> wire.Order:
    """The body of a Native or JSAPI order. Our payment id travels as `attach`, which WeChat
    echoes in queries and notifications."""
    return wire.Order(
        appid=appid,
        mchid=mchid,
        description=description(call),
        out_trade_no=key_hex(call.key),
        time_expire=rfc3339(expires),
        attach=call.payment_id,
        notify_url=notify_url,
        amount=wire.Amount(total=fen(call.money), currency=CURRENCY),
        payer=wire.Payer(openid=openid) if openid else None,
    )


# -- answers -------------------------------------------------------------------------------------


def decline(code: str, message: str = "") -> PaymentResult:
    """A refusal (a 4xx error body) as a declined result."""
    return PaymentResult(
        status=ProviderStatus.DECLINED,
        decline=translate(CODES, NAME, code, message),
        raw_status=code,
    )


def native_result(answer: wire.NativeAnswer, out_trade_no: str) -> PaymentResult:
    """A QR code to show: the payer scans `code_url` with WeChat."""
    return PaymentResult(
        status=ProviderStatus.REQUIRES_ACTION,
        provider_reference=out_trade_no,
        next_action=NextAction("display_qr", data={"code_url": answer.code_url}),
        raw_status="NOTPAY",
    )


def jsapi_result(out_trade_no: str, parameters: dict[str, str]) -> PaymentResult:
    """The signed parameters the page inside WeChat passes to `requestPayment`."""
    return PaymentResult(
        status=ProviderStatus.REQUIRES_ACTION,
        provider_reference=out_trade_no,
        next_action=NextAction("sdk", data=parameters),
        raw_status="NOTPAY",
    )


def transaction_result(tx: wire.Transaction) -> PaymentResult:
    """A queried order as a result."""
    status = TRADE_STATE.get(tx.trade_state, ProviderStatus.PENDING)
    total = cny(tx.amount.total, tx.amount.currency) if tx.amount else None
    return PaymentResult(
        status=status,
        provider_reference=tx.out_trade_no,
        money=total,
        captured=total if status is ProviderStatus.CAPTURED else None,
        decline=decline(tx.trade_state, tx.trade_state_desc or "").decline
        if status is ProviderStatus.DECLINED
        else None,
        raw_status=tx.trade_state,
    )


def refund_result(answer: wire.RefundAnswer) -> RefundResult:
    """A refund as a result; its amount is this refund's, in fen."""
    status = REFUND_STATUS.get(answer.status, RefundStatus.PENDING)
    return RefundResult(
        status=status,
        provider_reference=answer.refund_id,
        money=cny(answer.amount.refund, answer.amount.currency),
        decline=translate(CODES, NAME, f"REFUND_{answer.status}")
        if status is RefundStatus.FAILED
        else None,
        raw_status=answer.status,
    )


def refund_decline(code: str, message: str = "") -> RefundResult:
    """A refused refund request."""
    return RefundResult(
        RefundStatus.FAILED, decline=translate(CODES, NAME, code, message), raw_status=code
    )


# -- notifications -------------------------------------------------------------------------------


def payment_event(note: wire.Notification, tx: wire.Transaction) -> ProviderEvent:
    """A TRANSACTION.* notification's plaintext as an event."""
    result = transaction_result(tx)
    return ProviderEvent(
        event_id=note.id,
        kind=_PAYMENT_KINDS.get(result.status, EventKind.PENDING),
        raw_type=f"{note.event_type}:{tx.trade_state}",
        provider_reference=tx.out_trade_no,
        attempt_key=key_from_hex(tx.out_trade_no),
        payment_id=tx.attach or None,
        money=result.money,
        captured=result.captured,
        decline=result.decline,
        occurred_at=parse_rfc3339(tx.success_time or note.create_time),
    )


def refund_event(note: wire.Notification, refund: wire.RefundResource) -> ProviderEvent:
    """A REFUND.* notification's plaintext as an event."""
    kind = REFUND_EVENTS[note.event_type]
    return ProviderEvent(
        event_id=note.id,
        kind=kind,
        raw_type=f"{note.event_type}:{refund.refund_status}",
        provider_reference=refund.out_trade_no,
        attempt_key=key_from_hex(refund.out_refund_no),
        money=cny(refund.amount.refund, refund.amount.currency),
        refund_reference=refund.refund_id,
        decline=translate(CODES, NAME, f"REFUND_{refund.refund_status}")
        if kind is EventKind.REFUND_FAILED
        else None,
        occurred_at=parse_rfc3339(refund.success_time or note.create_time),
    )


def unhandled_event(note: wire.Notification) -> ProviderEvent:
    """A notification type we record but do not act on."""
    return ProviderEvent(
        event_id=note.id,
        kind=EventKind.UNHANDLED,
        raw_type=note.event_type,
        occurred_at=parse_rfc3339(note.create_time),
    )
