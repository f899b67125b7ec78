"""Pure translation between gatewayhub's calls/results and Alipay's parameters and answers.

Our order number: Alipay allows 64 letters, digits and underscores in `out_trade_no`. We send
the attempt's idempotency key (a UUID) as its 32 hex digits, so every retry of an attempt
reuses the same trade, and a notification (which always carries `out_trade_no`) leads back
to the attempt even when the create answer was lost. Refunds use their key the same way as
`out_request_no`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

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
from gatewayhub_alipay import signing, wire
from gatewayhub_alipay.errors import CODES, decline_code

NAME = "alipay"
CURRENCY = "CNY"
# Alipay's timestamps and expiries are Beijing time; China has kept UTC+8 without daylight
# saving since 1991, so a fixed offset needs no time zone database.
BEIJING = timezone(timedelta(hours=8), "CST")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Characters the subject may not contain (Alipay: "/", "=", "&" and the like).
_SUBJECT_FORBIDDEN = str.maketrans(dict.fromkeys("/=&", " "))


@dataclass(frozen=True, slots=True)
class Flow:
    """One way of paying: the gateway method, its product code, and whether we call Alipay
    (`server`) or only sign parameters for the customer's browser or app."""

    method: str
    product_code: str | None
    server: bool


# The payment method token chooses the flow.
FLOWS = MappingProxyType(
    {
        "page": Flow("alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY", server=False),
        "wap": Flow("alipay.trade.wap.pay", "QUICK_WAP_WAY", server=False),
        "app": Flow("alipay.trade.app.pay", "QUICK_MSECURITY_PAY", server=False),
        "qr": Flow("alipay.trade.precreate", None, server=True),
    }
)

# trade_status -> status. WAIT_BUYER_PAY waits for the customer; TRADE_SUCCESS and
# TRADE_FINISHED are the only states where money was received; TRADE_CLOSED is an unpaid
# close or a full refund (see `query_result`). Anything else is pending.
STATUS = MappingProxyType(
    {
        "WAIT_BUYER_PAY": ProviderStatus.REQUIRES_ACTION,
        "TRADE_SUCCESS": ProviderStatus.CAPTURED,
        "TRADE_FINISHED": ProviderStatus.CAPTURED,
        "TRADE_CLOSED": ProviderStatus.CANCELED,
    }
)
EVENTS = MappingProxyType(
    {
        "WAIT_BUYER_PAY": EventKind.REQUIRES_ACTION,
        "TRADE_SUCCESS": EventKind.CAPTURED,
        "TRADE_FINISHED": EventKind.CAPTURED,
        "TRADE_CLOSED": EventKind.CANCELED,
    }
)
TRADE_NOTIFY = "trade_status_sync"


# -- identifiers, times, amounts -----------------------------------------------------------------


def beijing(moment: datetime) -> str:
    """`yyyy-MM-dd HH:mm:ss` in Beijing time."""
    return moment.astimezone(BEIJING).strftime(_TIME_FORMAT)


def parse_beijing(text: str | None) -> datetime | None:
    """An Alipay time (Beijing) as an aware datetime; None when absent or unreadable."""
    if not text:
        return None
    try:
        return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=BEIJING)
    except ValueError:
        return None


def yuan(money: Money) -> str:
    """An amount as Alipay writes it: yuan with two decimals ("10.50")."""
    return money.to_decimal_string()


def cny(text: str | None) -> Money | None:
    """A yuan amount from Alipay, or None when absent."""
    return None if text is None else Money.from_decimal_string(text, CURRENCY)


def subject(call: AuthorizeCall) -> str:
    """The order title shown to the customer (required; special characters removed)."""
    text = call.description or call.reference or f"Payment {call.payment_id}"
    return text.translate(_SUBJECT_FORBIDDEN).strip()[:256] or call.payment_id


# -- requests ------------------------------------------------------------------------------------


def biz_content(model: BaseModel) -> str:
    """The `biz_content` JSON text: compact, UTF-8, None fields left out."""
    return json.dumps(
        model.model_dump(exclude_none=True), ensure_ascii=False, separators=(",", ":")
    )


def signed_params(
    key: Any,
    *,
    app_id: str,
    method: str,
    content: str,
    now: datetime,
    notify_url: str | None = None,
    return_url: str | None = None,
) -> dict[str, str]:
    """Every parameter of one gateway call, `sign` included. Optional parameters are sent
    only when non-empty (and only then signed)."""
    params = {
        "app_id": app_id,
        "method": method,
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": beijing(now),
        "version": "1.0",
        "biz_content": content,
    }
    if notify_url:
        params["notify_url"] = notify_url
    if return_url:
        params["return_url"] = return_url
    params["sign"] = signing.sign(key, signing.sign_content(params))
    return params


def redirect_pay(call: AuthorizeCall, flow: Flow, expires: datetime) -> wire.RedirectPay:
    """The biz_content of a page, wap or app payment."""
    assert flow.product_code is not None
    return wire.RedirectPay(
        out_trade_no=key_hex(call.key),
        total_amount=yuan(call.money),
        subject=subject(call),
        product_code=flow.product_code,
        time_expire=beijing(expires),
    )


def precreate(call: AuthorizeCall, ttl_minutes: int) -> wire.Precreate:
    """The biz_content of a QR-code payment."""
    return wire.Precreate(
        out_trade_no=key_hex(call.key),
        total_amount=yuan(call.money),
        subject=subject(call),
        timeout_express=f"{ttl_minutes}m",
    )


# -- answers -------------------------------------------------------------------------------------


def decline(answer: wire.Envelope) -> PaymentResult:
    """A business refusal (code 40004 and friends) as a declined result."""
    code = decline_code(answer)
    return PaymentResult(
        status=ProviderStatus.DECLINED,
        decline=translate(CODES, NAME, code, answer.sub_msg or answer.msg),
        raw_status=code,
    )


def precreate_result(answer: wire.PrecreateAnswer, out_trade_no: str) -> PaymentResult:
    """A QR code to show: the customer scans it with the Alipay app."""
    assert answer.qr_code
    return PaymentResult(
        status=ProviderStatus.REQUIRES_ACTION,
        provider_reference=out_trade_no,
        next_action=NextAction("display_qr", data={"qr_code": answer.qr_code}),
        raw_status=answer.code,
    )


def redirect_result(flow: Flow, out_trade_no: str, gateway_url: str, query: str) -> PaymentResult:
    """The signed cashier URL (page, wap) or order string for the Alipay app SDK (app)."""
    if flow.method == "alipay.trade.app.pay":
        action = NextAction("sdk", data={"order_string": query})
    else:
        action = NextAction("redirect", url=f"{gateway_url}?{query}")
    return PaymentResult(
        status=ProviderStatus.REQUIRES_ACTION,
        provider_reference=out_trade_no,
        next_action=action,
        raw_status="WAIT_BUYER_PAY",
    )


def query_result(answer: wire.QueryAnswer, out_trade_no: str) -> PaymentResult:
    """alipay.trade.query as a result. A TRADE_CLOSED trade that was paid (it has a payment
    date) was refunded in full: the payment itself was captured."""
    raw = answer.trade_status or ""
    status = STATUS.get(raw, ProviderStatus.PENDING)
    if status is ProviderStatus.CANCELED and answer.send_pay_date:
        status = ProviderStatus.CAPTURED
    total = cny(answer.total_amount)
    return PaymentResult(
        status=status,
        provider_reference=out_trade_no,
        money=total,
        captured=total if status is ProviderStatus.CAPTURED else None,
        raw_status=raw,
    )


def refund_result(answer: wire.RefundAnswer, out_request_no: str) -> RefundResult:
    """alipay.trade.refund's success answer. `fund_change` N is also what a replay of an
    already-made refund answers, so only Y settles it here; N is confirmed by a refund query.
    No amount is echoed: `refund_fee` is the trade's cumulative total, not this refund."""
    status = RefundStatus.SUCCEEDED if answer.fund_change == "Y" else RefundStatus.PENDING
    return RefundResult(status, out_request_no, raw_status=f"fund_change={answer.fund_change}")


def refund_query_result(answer: wire.RefundQueryAnswer, out_request_no: str) -> RefundResult:
    """alipay.trade.fastpay.refund.query: data for the request number means it succeeded."""
    done = bool(answer.refund_amount) and answer.refund_status in (None, "", "REFUND_SUCCESS")
    return RefundResult(
        RefundStatus.SUCCEEDED if done else RefundStatus.PENDING,
        out_request_no,
        money=cny(answer.refund_amount) if done else None,
        raw_status=answer.refund_status or ("REFUND_SUCCESS" if done else "not_found"),
    )


def refund_decline(answer: wire.Envelope) -> RefundResult:
    """A refused refund."""
    result = decline(answer)
    return RefundResult(RefundStatus.FAILED, decline=result.decline, raw_status=result.raw_status)


# -- notifications -------------------------------------------------------------------------------


def _is_refund(note: wire.Notification) -> bool:
    refunded = cny(note.refund_fee)
    return bool(note.out_biz_no) and (bool(refunded) or bool(note.gmt_refund))


def event(note: wire.Notification) -> ProviderEvent:
    """One verified notification as an event. A notification that carries a refund request
    number with a refunded amount is about that refund; otherwise the trade status says."""
    base: dict[str, Any] = {
        "event_id": note.notify_id,
        "provider_reference": note.out_trade_no,
        "occurred_at": parse_beijing(note.notify_time),
    }
    if note.notify_type != TRADE_NOTIFY:
        return ProviderEvent(kind=EventKind.UNHANDLED, raw_type=note.notify_type, **base)
    raw = note.trade_status or ""
    if _is_refund(note):
        return ProviderEvent(
            kind=EventKind.REFUND_SUCCEEDED,
            raw_type=f"{TRADE_NOTIFY}:{raw}:refund",
            attempt_key=key_from_hex(note.out_biz_no),
            refund_reference=note.out_biz_no,
            **base,
        )
    total = cny(note.total_amount)
    kind = EVENTS.get(raw, EventKind.PENDING)
    return ProviderEvent(
        kind=kind,
        raw_type=f"{TRADE_NOTIFY}:{raw}",
        attempt_key=key_from_hex(note.out_trade_no),
        money=total,
        captured=total if kind is EventKind.CAPTURED else None,
        **base,
    )
