"""Pure translation between gatewayhub's calls/results and PayPal's wire objects.

A PayPal payment is an order: its id is the provider reference gatewayhub keeps, and the
authorization, captures and refunds inside it are found from the order when an operation
needs them. We send our payment id as `custom_id` (and `reference_id`) and the attempt's key
as `invoice_id`; PayPal echoes both in orders, captures, authorizations and webhooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from gatewayhub.declines import translate
from gatewayhub.errors import Decline
from gatewayhub.models import (
    AuthorizeCall,
    CaptureCall,
    EventKind,
    NextAction,
    PaymentMethodType,
    PaymentResult,
    ProviderEvent,
    ProviderStatus,
    RefundCall,
    RefundResult,
    RefundStatus,
)
from gatewayhub.money import Money
from gatewayhub_paypal import amounts, wire
from gatewayhub_paypal.errors import ISSUES, PROCESSOR

NAME = "paypal"
# The token that asks for PayPal Checkout with buyer approval (a redirect to PayPal);
# any other token is a PayPal vault id (a saved PayPal wallet, or a saved card).
APPROVAL_TOKEN = "paypal"  # noqa: S105 - a payment-method marker, not a credential
DESCRIPTION_MAX = 127  # purchase_unit.description maxLength
NOTE_MAX = 255  # refund_request.note_to_payer maxLength
ACTION_LINKS = ("payer-action", "approve", "redirect")

S = ProviderStatus
ORDER_STATUS = MappingProxyType(
    {
        "CREATED": S.REQUIRES_ACTION,
        "PAYER_ACTION_REQUIRED": S.REQUIRES_ACTION,
        "APPROVED": S.PENDING,  # approved by the buyer, not yet authorized or captured
        "SAVED": S.PENDING,
        "VOIDED": S.CANCELED,
        # COMPLETED: read from the payment inside the order
    }
)
CAPTURE_STATUS = MappingProxyType(
    {
        "COMPLETED": S.CAPTURED,
        "PARTIALLY_REFUNDED": S.CAPTURED,
        "REFUNDED": S.CAPTURED,
        "PENDING": S.PENDING,
        "DECLINED": S.DECLINED,
        "FAILED": S.DECLINED,
    }
)
AUTHORIZATION_STATUS = MappingProxyType(
    {
        "CREATED": S.AUTHORIZED,
        "PARTIALLY_CAPTURED": S.AUTHORIZED,  # captured amounts travel in `captured`
        "CAPTURED": S.CAPTURED,
        "PENDING": S.PENDING,
        "DENIED": S.DECLINED,
        "VOIDED": S.CANCELED,
    }
)
REFUND_STATUS = MappingProxyType(
    {
        "COMPLETED": RefundStatus.SUCCEEDED,
        "PENDING": RefundStatus.PENDING,
        "FAILED": RefundStatus.FAILED,
        "CANCELLED": RefundStatus.FAILED,
    }
)
_CAPTURED = frozenset({"COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"})
_RESULT_KIND = MappingProxyType(
    {
        S.AUTHORIZED: EventKind.AUTHORIZED,
        S.CAPTURED: EventKind.CAPTURED,
        S.DECLINED: EventKind.FAILED,
        S.CANCELED: EventKind.CANCELED,
        S.PENDING: EventKind.PENDING,
        S.REQUIRES_ACTION: EventKind.REQUIRES_ACTION,
    }
)
CAPTURE_EVENTS = MappingProxyType(
    {
        "PAYMENT.CAPTURE.COMPLETED": EventKind.CAPTURED,
        "PAYMENT.CAPTURE.PENDING": EventKind.PENDING,
        "PAYMENT.CAPTURE.DECLINED": EventKind.FAILED,
        "PAYMENT.CAPTURE.DENIED": EventKind.FAILED,
    }
)
AUTHORIZATION_EVENTS = MappingProxyType(
    {
        "PAYMENT.AUTHORIZATION.CREATED": EventKind.AUTHORIZED,
        "PAYMENT.AUTHORIZATION.VOIDED": EventKind.CANCELED,
    }
)
ORDER_EVENTS = frozenset({"CHECKOUT.ORDER.APPROVED", "CHECKOUT.ORDER.COMPLETED"})
REFUND_EVENTS = MappingProxyType({"PAYMENT.CAPTURE.REFUNDED": EventKind.REFUND_SUCCEEDED})


# -- requests -------------------------------------------------------------------------------------


def _amount(money: Money) -> wire.Amount:
    return wire.Amount(currency_code=money.currency, value=amounts.to_wire(money))


def payment_source(call: AuthorizeCall, brand_name: str | None) -> wire.PaymentSource:
    """Buyer approval for `APPROVAL_TOKEN`, else the vaulted wallet or card."""
    if call.token == APPROVAL_TOKEN:
        context = wire.ExperienceContext(
            return_url=call.return_url, cancel_url=call.return_url, brand_name=brand_name
        )
        return wire.PaymentSource(paypal=wire.PayPalWalletSource(experience_context=context))
    if call.method.type is PaymentMethodType.PAYPAL:
        return wire.PaymentSource(paypal=wire.PayPalWalletSource(vault_id=call.token))
    return wire.PaymentSource(card=wire.CardSource(vault_id=call.token))


def order_request(call: AuthorizeCall, *, brand_name: str | None = None) -> dict[str, Any]:
    """The body of POST /v2/checkout/orders; raises `AmountNotRepresentable`."""
    text = call.description or call.reference
    unit = wire.PurchaseUnitRequest(
        reference_id=call.payment_id,
        amount=_amount(call.money),
        custom_id=call.payment_id,
        invoice_id=call.key,
        description=text[:DESCRIPTION_MAX] if text else None,
    )
    return wire.OrderRequest(
        intent="CAPTURE" if call.capture else "AUTHORIZE",
        purchase_units=[unit],
        payment_source=payment_source(call, brand_name),
    ).model_dump(exclude_none=True)


def capture_request(call: CaptureCall) -> dict[str, Any]:
    """The body of POST /v2/payments/authorizations/{id}/capture. The capture carries the
    capture attempt's key as its invoice id."""
    return wire.CaptureRequest(
        amount=_amount(call.money), final_capture=call.final, invoice_id=call.key
    ).model_dump()


def refund_request(call: RefundCall) -> dict[str, Any]:
    """The body of POST /v2/payments/captures/{id}/refund; our refund id is its custom id."""
    return wire.RefundRequest(
        amount=_amount(call.money),
        invoice_id=call.key,
        custom_id=call.refund_id,
        note_to_payer=call.reason[:NOTE_MAX] if call.reason else None,
    ).model_dump(exclude_none=True)


def completion_request_id(key: str) -> str:
    """The PayPal-Request-Id of authorizing or capturing an approved order: derived from the
    attempt's key, so a repeated lookup never completes the order twice."""
    return f"{key}-complete"


# -- finding things in an order -------------------------------------------------------------------


def _unit(order: wire.Order) -> wire.PurchaseUnit | None:
    return order.purchase_units[0] if order.purchase_units else None


def authorization_of(order: wire.Order) -> wire.Authorization | None:
    """The order's authorization (gatewayhub orders have one purchase unit)."""
    unit = _unit(order)
    return unit.payments.authorizations[0] if unit and unit.payments.authorizations else None


def capture_of(order: wire.Order) -> wire.Capture | None:
    """The order's successful capture (capture is final, so there is at most one)."""
    unit = _unit(order)
    if unit is None:
        return None
    return next((c for c in unit.payments.captures if c.status in _CAPTURED), None)


def action_link(links: Sequence[wire.Link]) -> str | None:
    """Where to send the buyer: `payer-action`, `approve` or an error's `redirect` link."""
    for rel in ACTION_LINKS:
        for link in links:
            if link.rel == rel:
                return link.href
    return None


# -- results --------------------------------------------------------------------------------------


def _money(amount: wire.Money | None) -> Money | None:
    return amounts.from_wire(amount.value, amount.currency_code) if amount else None


def _total(items: Sequence[wire.Transaction], statuses: frozenset[str], currency: str) -> Money:
    total = Money.zero(currency)
    for item in items:
        money = _money(item.amount)
        if item.status in statuses and money is not None:
            total += money
    return total


def processor_decline(transaction: wire.Transaction) -> Decline:
    """A declined capture/authorization: the processor code, its advice, else the status."""
    processor = transaction.processor_response
    code = processor.response_code if processor and processor.response_code else None
    if code is None:
        reason = transaction.status_details.reason if transaction.status_details else None
        return translate(PROCESSOR, NAME, reason or transaction.status)
    advice = processor.payment_advice_code if processor else None
    return translate(PROCESSOR, NAME, code, advice=advice)


def capture_result(capture: wire.Capture, reference: str | None = None) -> PaymentResult:
    """A capture as a result; `reference` replaces the capture id (the order id, when the
    capture came back inside an order)."""
    status = CAPTURE_STATUS.get(capture.status, S.PENDING)
    breakdown = capture.seller_receivable_breakdown
    return PaymentResult(
        status=status,
        provider_reference=reference or capture.id,
        money=_money(capture.amount),
        decline=processor_decline(capture) if status is S.DECLINED else None,
        raw_status=capture.status,
        fee=_money(breakdown.paypal_fee) if breakdown else None,
    )


def authorization_result(auth: wire.Authorization, reference: str | None = None) -> PaymentResult:
    """An authorization as a result."""
    status = AUTHORIZATION_STATUS.get(auth.status, S.PENDING)
    return PaymentResult(
        status=status,
        provider_reference=reference or auth.id,
        money=_money(auth.amount),
        decline=processor_decline(auth) if status is S.DECLINED else None,
        raw_status=auth.status,
    )


def order_result(order: wire.Order) -> PaymentResult:
    """An order as a result: its own status until it is completed, then the payment's.
    The provider reference is always the order id."""
    unit = _unit(order)
    if order.status == "COMPLETED" and unit is not None:
        payments = unit.payments
        if payments.captures and (order.intent != "AUTHORIZE" or not payments.authorizations):
            result = capture_result(payments.captures[0], order.id)
        elif payments.authorizations:
            result = authorization_result(payments.authorizations[0], order.id)
        else:
            return PaymentResult(S.PENDING, order.id, raw_status=order.status)
        currency = result.money.currency if result.money else None
        if currency is None:
            return result
        return PaymentResult(
            status=result.status,
            provider_reference=order.id,
            money=result.money,
            captured=_total(payments.captures, _CAPTURED, currency),
            refunded=_total(payments.refunds, frozenset({"COMPLETED"}), currency),
            decline=result.decline,
            raw_status=f"{order.status}/{result.raw_status}",
            fee=result.fee,
        )
    status = ORDER_STATUS.get(order.status, S.PENDING)
    action = None
    if status is S.REQUIRES_ACTION:
        url = action_link(order.links)
        if url is None:
            status = S.PENDING  # nowhere to send the buyer: wait for PayPal
        else:
            action = NextAction(type="redirect", url=url, data={"order_id": order.id})
    return PaymentResult(
        status=status,
        provider_reference=order.id,
        money=_money(unit.amount) if unit else None,
        next_action=action,
        raw_status=order.status,
    )


def refund_result(refund: wire.Refund) -> RefundResult:
    """A refund as a result."""
    status = REFUND_STATUS.get(refund.status, RefundStatus.PENDING)
    decline = None
    if status is RefundStatus.FAILED:
        reason = refund.status_details.reason if refund.status_details else None
        decline = translate(ISSUES, NAME, reason or refund.status)
    return RefundResult(
        status=status,
        provider_reference=refund.id,
        money=_money(refund.amount),
        decline=decline,
        raw_status=refund.status,
    )


def issue(error: wire.ErrorBody, http_status: int) -> str:
    """The machine code of an error: `details[0].issue`, else its `name`."""
    for detail in error.details:
        if detail.issue:
            return detail.issue
    return error.name or f"http_{http_status}"


def error_decline(error: wire.ErrorBody, http_status: int) -> Decline:
    """An error body as a canonical decline (PayPal's debug id kept in the message)."""
    detail = next((d.description for d in error.details if d.description), None)
    message = detail or error.message or ""
    if error.debug_id:
        message = f"{message} (debug_id {error.debug_id})".strip()
    return translate(ISSUES, NAME, issue(error, http_status), message)


def error_result(error: wire.ErrorBody, http_status: int) -> PaymentResult:
    """A refused request as a declined result."""
    return PaymentResult(
        status=S.DECLINED,
        decline=error_decline(error, http_status),
        raw_status=issue(error, http_status),
    )


def local_refusal(code: str, message: str) -> PaymentResult:
    """A decline the adapter makes itself, before sending anything."""
    return PaymentResult(
        status=S.DECLINED, decline=translate(ISSUES, NAME, code, message), raw_status=code
    )


def refund_refused(result: PaymentResult) -> RefundResult:
    """A refused refund request as a failed refund."""
    return RefundResult(RefundStatus.FAILED, decline=result.decline, raw_status=result.raw_status)


# -- webhooks -------------------------------------------------------------------------------------


def _up_capture(refund: wire.Refund) -> str | None:
    for link in refund.links:
        if link.rel == "up" and "/captures/" in link.href:
            return link.href.rstrip("/").rsplit("/", 1)[-1]
    return refund.supplementary_data.related_ids.capture_id


def event(item: wire.Event) -> ProviderEvent:
    """A webhook event, normalized.

    Capture and void events carry no attempt key: the invoice id they echo may be the
    authorization's, which must not settle a capture or void attempt. They are matched by
    the order id (`supplementary_data.related_ids.order_id`) and our `custom_id`."""
    kind_type = item.event_type
    base: dict[str, Any] = {
        "event_id": item.id,
        "raw_type": kind_type,
        "occurred_at": item.create_time,
    }
    if kind_type in ORDER_EVENTS:
        order = wire.Order.model_validate(item.resource)
        unit = _unit(order)
        if kind_type == "CHECKOUT.ORDER.APPROVED":
            kind, money, decline = EventKind.PENDING, _money(unit.amount if unit else None), None
        else:
            result = order_result(order)
            kind = _RESULT_KIND.get(result.status, EventKind.UNHANDLED)
            money, decline = result.money, result.decline
        return ProviderEvent(
            **base,
            kind=kind,
            provider_reference=order.id,
            attempt_key=unit.invoice_id if unit else None,
            payment_id=unit.custom_id if unit else None,
            money=money,
            decline=decline,
        )
    if kind_type in CAPTURE_EVENTS:
        capture = wire.Capture.model_validate(item.resource)
        kind = CAPTURE_EVENTS[kind_type]
        return ProviderEvent(
            **base,
            kind=kind,
            provider_reference=capture.supplementary_data.related_ids.order_id,
            payment_id=capture.custom_id,
            money=_money(capture.amount),
            decline=processor_decline(capture) if kind is EventKind.FAILED else None,
        )
    if kind_type in AUTHORIZATION_EVENTS:
        auth = wire.Authorization.model_validate(item.resource)
        kind = AUTHORIZATION_EVENTS[kind_type]
        return ProviderEvent(
            **base,
            kind=kind,
            provider_reference=auth.supplementary_data.related_ids.order_id,
            attempt_key=auth.invoice_id if kind is EventKind.AUTHORIZED else None,
            payment_id=auth.custom_id,
            money=_money(auth.amount),
        )
    if kind_type in REFUND_EVENTS:
        refund = wire.Refund.model_validate(item.resource)
        return ProviderEvent(
            **base,
            kind=REFUND_EVENTS[kind_type],
            provider_reference=_up_capture(refund),
            attempt_key=refund.invoice_id,
            money=_money(refund.amount),
            refund_reference=refund.id,
            refund_id=refund.custom_id,
        )
    return ProviderEvent(**base, kind=EventKind.UNHANDLED)
