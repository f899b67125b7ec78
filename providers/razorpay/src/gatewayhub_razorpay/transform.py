"""Pure translation between gatewayhub's calls/results and Razorpay's objects.

A gatewayhub payment is a Razorpay *order*: the order is created server-side, the customer
pays it in Razorpay Checkout (possibly after failed tries: every try is a Razorpay payment
on the same order), and the order's id is the provider reference throughout. Captures and
refunds act on the order's successful payment, found from the order when needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from gatewayhub.declines import translate
from gatewayhub.errors import Decline
from gatewayhub.models import (
    AuthorizeCall,
    CaptureCall,
    EventKind,
    NextAction,
    PaymentResult,
    ProviderEvent,
    ProviderStatus,
    RefundCall,
    RefundResult,
    RefundStatus,
)
from gatewayhub.money import Money
from gatewayhub_razorpay import wire
from gatewayhub_razorpay.errors import AMOUNT_PRECISION, CODES, NO_CAPTURED_PAYMENT

NAME = "razorpay"
CHECKOUT_SCRIPT = "https://checkout.razorpay.com/v1/checkout.js"

# Notes we write on orders and refunds (and suggest for Checkout, which copies its `notes`
# option onto the payment), so webhooks can be matched without the provider's ids.
NOTE_PAYMENT = "gatewayhub_payment_id"
NOTE_KEY = "gatewayhub_key"
NOTE_CAPTURE = "gatewayhub_capture"
NOTE_REFUND = "gatewayhub_refund_id"

PAID = frozenset({"captured", "refunded"})

REFUND_STATUS = MappingProxyType(
    {
        "processed": RefundStatus.SUCCEEDED,
        "failed": RefundStatus.FAILED,
        "pending": RefundStatus.PENDING,
    }
)

# Webhook event -> what it means for the gatewayhub payment. `payment.failed` is *not* a
# failure of the order: the customer may retry in Checkout on the same order, and Razorpay
# documents `payment.failed` followed by `payment.captured` for the same transaction (UPI
# retries, late authorisation). It makes the payment pending; a lookup settles it (see
# `order_result`).
EVENTS = MappingProxyType(
    {
        "payment.authorized": EventKind.AUTHORIZED,
        "payment.captured": EventKind.CAPTURED,
        "payment.failed": EventKind.PENDING,
        "order.paid": EventKind.CAPTURED,
        "refund.processed": EventKind.REFUND_SUCCEEDED,
        "refund.failed": EventKind.REFUND_FAILED,
    }
)


def precision_decline(money: Money) -> Decline | None:
    """Razorpay takes three-decimal amounts only with a last digit of 0 (API reference,
    Orders: "pass the last decimal number as 0"); refuse others before sending."""
    if money.exponent == 3 and money.amount % 10:
        return translate(
            CODES,
            NAME,
            AMOUNT_PRECISION,
            f"Razorpay takes {money.currency} amounts in steps of 0.010 only",
        )
    return None


def order_request(
    call: AuthorizeCall, *, auto_capture_minutes: int, manual_capture_minutes: int
) -> dict[str, Any]:
    """The body of POST /v1/orders. The attempt key is the order's `receipt` (so a lost
    answer can be found with GET /v1/orders?receipt=...), our ids travel in `notes`."""
    mode = "automatic" if call.capture else "manual"
    options = (
        wire.CaptureOptions(
            automatic_expiry_period=auto_capture_minutes,
            manual_expiry_period=manual_capture_minutes,
        )
        if call.capture
        else wire.CaptureOptions(manual_expiry_period=manual_capture_minutes)
    )
    notes = {NOTE_PAYMENT: call.payment_id, NOTE_KEY: call.key, NOTE_CAPTURE: mode}
    if call.reference:
        notes["merchant_reference"] = call.reference
    return wire.OrderRequest(
        amount=call.money.amount,
        currency=call.money.currency,
        receipt=call.key,
        notes=notes,
        payment=wire.PaymentSettings(capture=mode, capture_options=options),
    ).model_dump(exclude_none=True)


def capture_request(call: CaptureCall) -> dict[str, Any]:
    """The body of POST /v1/payments/{id}/capture."""
    return wire.CaptureRequest(amount=call.money.amount, currency=call.money.currency).model_dump()


def refund_request(call: RefundCall) -> dict[str, Any]:
    """The body of POST /v1/payments/{id}/refund; our refund id is the `receipt`."""
    return wire.RefundRequest(
        amount=call.money.amount,
        receipt=call.refund_id,
        notes={
            NOTE_PAYMENT: call.payment_id,
            NOTE_REFUND: call.refund_id,
            NOTE_KEY: call.key,
        },
    ).model_dump()


def checkout_action(
    order: wire.Order,
    key_id: str,
    *,
    description: str | None = None,
    callback_url: str | None = None,
) -> NextAction:
    """What the merchant's page passes to Razorpay Checkout (`new Razorpay(options)`):
    `key`, `order_id`, `amount`, `currency` and our `notes`; `callback_url` when the
    merchant wants Checkout to redirect instead of calling a handler."""
    notes = {
        name: value
        for name in (NOTE_PAYMENT, NOTE_KEY)
        if (value := wire.note(order.notes, name)) is not None
    }
    data: dict[str, Any] = {
        "key": key_id,
        "order_id": order.id,
        "amount": order.amount,
        "currency": order.currency,
        "notes": notes,
        "checkout_script": CHECKOUT_SCRIPT,
    }
    if description:
        data["description"] = description
    if callback_url:
        data["callback_url"] = callback_url
    return NextAction(type="sdk", url=None, data=data)


def created_order_result(
    order: wire.Order, key_id: str, call: AuthorizeCall | None = None
) -> PaymentResult:
    """The answer to POST /v1/orders: a `created` order waits for the customer."""
    money = Money(order.amount, order.currency)
    if order.status != "created":
        return PaymentResult(
            ProviderStatus.PENDING, order.id, money, raw_status=f"order:{order.status}"
        )
    action = checkout_action(
        order,
        key_id,
        description=call.description if call else None,
        callback_url=call.return_url if call else None,
    )
    return PaymentResult(
        ProviderStatus.REQUIRES_ACTION,
        order.id,
        money,
        next_action=action,
        raw_status="order:created",
    )


def payment_decline(payment: wire.Payment) -> Decline:
    """A failed payment's `error_reason` (or `error_code`) in the canonical vocabulary."""
    code = payment.error_reason or payment.error_code or "payment_failed"
    message = payment.error_description or ""
    if payment.error_source:
        message = f"{message} (source: {payment.error_source}, step: {payment.error_step})"
    return translate(CODES, NAME, code, message.strip())


def error_decline(error: wire.ApiError) -> Decline:
    """An error body (`error.reason`, else `error.code`) in the canonical vocabulary."""
    code = error.reason if error.reason and error.reason != "NA" else error.code
    return translate(CODES, NAME, code, error.description)


def _fee(payment: wire.Payment) -> Money | None:
    # `fee` (GST included) is in INR paise even for international payments, while gatewayhub
    # books fees in the payment currency: only an INR fee can be taken as is.
    if payment.fee is None or payment.currency != "INR":
        return None
    return Money(payment.fee, payment.currency)


def _stamp(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


def paid_result(order_id: str, payment: wire.Payment, money: Money | None = None) -> PaymentResult:
    """A captured (possibly since refunded) payment of order `order_id`."""
    currency = payment.currency
    return PaymentResult(
        ProviderStatus.CAPTURED,
        order_id,
        money if money is not None else Money(payment.amount, currency),
        captured=Money(payment.amount, currency),
        refunded=Money(payment.amount_refunded, currency),
        raw_status=f"payment:{payment.status}",
        fee=_fee(payment),
    )


def order_result(
    order: wire.Order,
    payments: Sequence[wire.Payment],
    *,
    key_id: str,
    now: datetime,
    grace: timedelta,
) -> PaymentResult:
    """What an order and its payments say about the gatewayhub payment.

    Captured payment: captured. Authorized: authorized when the order asked for manual
    capture, otherwise pending (Razorpay's auto-capture is under way). Only failed tries:
    pending while the newest is younger than `grace` (the customer may retry, a late
    authorisation may still be captured automatically), declined after. No try yet: the
    customer still has to pay.
    """
    money = Money(order.amount, order.currency)
    paid = [p for p in payments if p.status in PAID]
    if paid:
        return paid_result(order.id, paid[0], money)
    if order.status == "paid":
        return PaymentResult(
            ProviderStatus.CAPTURED,
            order.id,
            money,
            captured=Money(order.amount_paid, order.currency),
            raw_status="order:paid",
        )
    if any(p.status == "authorized" for p in payments):
        manual = wire.note(order.notes, NOTE_CAPTURE) == "manual"
        status = ProviderStatus.AUTHORIZED if manual else ProviderStatus.PENDING
        return PaymentResult(status, order.id, money, raw_status="payment:authorized")
    if any(p.status != "failed" for p in payments):
        # `created`, or a payment status this adapter does not know: not decided yet
        statuses = sorted({p.status for p in payments if p.status != "failed"})
        return PaymentResult(
            ProviderStatus.PENDING, order.id, money, raw_status=f"payment:{statuses[0]}"
        )
    if payments:
        newest = max(payments, key=lambda p: p.created_at or 0)
        created = _stamp(newest.created_at)
        if created is None or now - created < grace:
            return PaymentResult(
                ProviderStatus.PENDING, order.id, money, raw_status="payment:failed"
            )
        return PaymentResult(
            ProviderStatus.DECLINED,
            order.id,
            money,
            decline=payment_decline(newest),
            raw_status="payment:failed",
        )
    if order.status == "created":
        return created_order_result(order, key_id)
    return PaymentResult(
        ProviderStatus.PENDING, order.id, money, raw_status=f"order:{order.status}"
    )


def payment_result(payment: wire.Payment) -> PaymentResult:
    """A single payment looked up by its own id (no order to weigh it against)."""
    reference = payment.order_id or payment.id
    money = Money(payment.amount, payment.currency)
    if payment.status in PAID:
        return paid_result(reference, payment)
    if payment.status == "failed":
        return PaymentResult(
            ProviderStatus.DECLINED,
            reference,
            money,
            decline=payment_decline(payment),
            raw_status="payment:failed",
        )
    status = ProviderStatus.AUTHORIZED if payment.status == "authorized" else ProviderStatus.PENDING
    return PaymentResult(status, reference, money, raw_status=f"payment:{payment.status}")


def capture_result(payment: wire.Payment) -> PaymentResult:
    """The answer to a capture: the payment entity, captured unless it says otherwise."""
    if payment.status in PAID:
        return paid_result(payment.order_id or payment.id, payment)
    return payment_result(payment)


def refund_result(refund: wire.Refund) -> RefundResult:
    """A refund entity as a result."""
    status = REFUND_STATUS.get(refund.status, RefundStatus.PENDING)
    decline = None
    if status is RefundStatus.FAILED:
        decline = translate(CODES, NAME, "refund_failed", "Razorpay marked the refund failed")
    money = Money(refund.amount, refund.currency) if refund.currency else None
    return RefundResult(status, refund.id, money, decline, refund.status)


def nothing_to_refund(order_id: str) -> RefundResult:
    """A refund of an order without a captured payment: refused before sending."""
    decline = translate(CODES, NAME, NO_CAPTURED_PAYMENT, f"{order_id} has no captured payment")
    return RefundResult(RefundStatus.FAILED, None, None, decline, NO_CAPTURED_PAYMENT)


def refund_refused(error: wire.ApiError) -> RefundResult:
    """A refund Razorpay refused (error body): failed, nothing moved."""
    return RefundResult(RefundStatus.FAILED, None, None, error_decline(error), error.code)


# -- webhook events -------------------------------------------------------------------------


def event(item: wire.Event, event_id: str) -> ProviderEvent:
    """A webhook event, normalized; unknown events are acknowledged as unhandled."""
    kind = EVENTS.get(item.event, EventKind.UNHANDLED)
    at = _stamp(item.created_at)
    payload = item.payload
    payment = wire.Payment.model_validate(payload.payment.entity) if payload.payment else None
    if kind in (EventKind.REFUND_SUCCEEDED, EventKind.REFUND_FAILED) and payload.refund:
        refund = wire.Refund.model_validate(payload.refund.entity)
        currency = refund.currency or (payment.currency if payment else None)
        decline = None
        if kind is EventKind.REFUND_FAILED:
            decline = translate(CODES, NAME, "refund_failed", "Razorpay marked the refund failed")
        return ProviderEvent(
            event_id=event_id,
            kind=kind,
            raw_type=item.event,
            provider_reference=(payment.order_id if payment else None) or refund.payment_id,
            attempt_key=wire.note(refund.notes, NOTE_KEY),
            payment_id=wire.note(refund.notes, NOTE_PAYMENT),
            money=Money(refund.amount, currency) if currency else None,
            refund_reference=refund.id,
            refund_id=wire.note(refund.notes, NOTE_REFUND) or refund.receipt,
            decline=decline,
            occurred_at=at,
        )
    if item.event == "order.paid" and payload.order:
        order = wire.Order.model_validate(payload.order.entity)
        return ProviderEvent(
            event_id=event_id,
            kind=kind,
            raw_type=item.event,
            provider_reference=order.id,
            attempt_key=wire.note(order.notes, NOTE_KEY) or order.receipt,
            payment_id=wire.note(order.notes, NOTE_PAYMENT),
            money=Money(order.amount, order.currency),
            captured=Money(order.amount_paid, order.currency),
            occurred_at=at,
        )
    if kind is EventKind.UNHANDLED or payment is None:
        return ProviderEvent(event_id, EventKind.UNHANDLED, item.event, occurred_at=at)
    money = Money(payment.amount, payment.currency)
    return ProviderEvent(
        event_id=event_id,
        kind=kind,
        raw_type=item.event,
        provider_reference=payment.order_id or payment.id,
        attempt_key=wire.note(payment.notes, NOTE_KEY),
        payment_id=wire.note(payment.notes, NOTE_PAYMENT),
        money=money,
        captured=money if kind is EventKind.CAPTURED else None,
        decline=payment_decline(payment) if item.event == "payment.failed" else None,
        occurred_at=at,
    )
