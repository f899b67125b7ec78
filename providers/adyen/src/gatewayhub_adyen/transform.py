"""Pure translation between gatewayhub's calls/results and Adyen's objects.

Our ids travel in `reference`, which Adyen echoes as `merchantReference` in the answer and in
every webhook about the payment: `<payment id>:<attempt key>:<auto|manual>`. The capture mode
is part of it because Adyen's AUTHORISATION webhook means "captured" for an automatic-capture
payment (Adyen captures on authorisation) and "authorized" for a manual one, and nothing
else in the webhook tells which. Captures and cancels carry the attempt key as `reference`,
refunds our refund id; the merchant's own order reference goes to `merchantOrderReference`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from gatewayhub.declines import translate
from gatewayhub.errors import Decision, Decline, DeclineCode
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
    VoidCall,
)
from gatewayhub.money import Money
from gatewayhub_adyen import wire
from gatewayhub_adyen.amounts import from_wire, to_wire
from gatewayhub_adyen.errors import CODES, REFUND_REASONS, code_for_reason

NAME = "adyen"
SHOPPER_REFERENCE = "shopper_reference"  # metadata key naming the shopper of a stored card
AUTO, MANUAL = "auto", "manual"

# resultCode -> gatewayhub, for a manual-capture payment; "Authorised" with automatic
# capture is CAPTURED (see `payment_result`). Anything not listed reads as pending.
RESULT = MappingProxyType(
    {
        "Authorised": ProviderStatus.AUTHORIZED,
        "Refused": ProviderStatus.DECLINED,
        "Error": ProviderStatus.DECLINED,
        "Cancelled": ProviderStatus.CANCELED,
        "RedirectShopper": ProviderStatus.REQUIRES_ACTION,
        "IdentifyShopper": ProviderStatus.REQUIRES_ACTION,
        "ChallengeShopper": ProviderStatus.REQUIRES_ACTION,
        "PresentToShopper": ProviderStatus.REQUIRES_ACTION,
        "Pending": ProviderStatus.PENDING,
        "Received": ProviderStatus.PENDING,
        "AuthenticationFinished": ProviderStatus.PENDING,
        "AuthenticationNotRequired": ProviderStatus.PENDING,
        # we never ask for partial authorisation; if it happens, a person must look
        "PartiallyAuthorised": ProviderStatus.PENDING,
    }
)
# eventCode -> (kind when success is "true", kind when "false"); others are unhandled.
EVENTS = MappingProxyType(
    {
        "AUTHORISATION": (EventKind.AUTHORIZED, EventKind.FAILED),
        "CAPTURE": (EventKind.CAPTURED, EventKind.FAILED),
        "CAPTURE_FAILED": (EventKind.FAILED, EventKind.UNHANDLED),
        "CANCELLATION": (EventKind.CANCELED, EventKind.FAILED),
        "REFUND": (EventKind.REFUND_SUCCEEDED, EventKind.REFUND_FAILED),
        "REFUND_FAILED": (EventKind.REFUND_FAILED, EventKind.UNHANDLED),
        "OFFER_CLOSED": (EventKind.FAILED, EventKind.UNHANDLED),
    }
)
# Events about a payment (pspReference is the payment) rather than a modification of it
# (pspReference is the modification, originalReference the payment).
PAYMENT_LEVEL = frozenset({"AUTHORISATION", "OFFER_CLOSED"})


@dataclass(frozen=True, slots=True)
class Reference:
    """What our payment `reference` says."""

    payment_id: str
    attempt_key: str
    capture: bool


def payment_reference(call: AuthorizeCall) -> str:
    """`<payment id>:<attempt key>:<auto|manual>` (at most 80 characters)."""
    return f"{call.payment_id}:{call.key}:{AUTO if call.capture else MANUAL}"


def parse_reference(text: str | None) -> Reference | None:
    """Our reference back, or None for a reference we did not write."""
    if not text:
        return None
    payment_id, sep, rest = text.partition(":")
    key, sep2, mode = rest.rpartition(":")
    if not (sep and sep2 and payment_id and key) or mode not in (AUTO, MANUAL):
        return None
    return Reference(payment_id, key, mode == AUTO)


# -- requests -----------------------------------------------------------------------------------


def amount(money: Money) -> wire.Amount:
    """Money as Adyen's amount object."""
    return wire.Amount(currency=money.currency, value=to_wire(money))


def payment_request(
    call: AuthorizeCall, merchant_account: str, return_url: str
) -> wire.PaymentRequest:
    """POST /payments with the stored card the token names; manual capture is asked for
    per payment with `additionalData.manualCapture`."""
    shopper = call.metadata.get(SHOPPER_REFERENCE)
    return wire.PaymentRequest(
        merchantAccount=merchant_account,
        reference=payment_reference(call),
        amount=amount(call.money),
        paymentMethod=wire.StoredCard(storedPaymentMethodId=call.token),
        returnUrl=call.return_url or return_url,
        shopperReference=shopper,
        merchantOrderReference=call.reference,
        countryCode=call.customer_country,
        additionalData=None if call.capture else {"manualCapture": "true"},
    )


def capture_request(call: CaptureCall, merchant_account: str) -> wire.CaptureRequest:
    """POST /payments/{psp}/captures; our attempt key is the capture's reference."""
    return wire.CaptureRequest(
        merchantAccount=merchant_account, amount=amount(call.money), reference=call.key
    )


def cancel_request(call: VoidCall, merchant_account: str) -> wire.CancelRequest:
    """POST /payments/{psp}/cancels."""
    return wire.CancelRequest(merchantAccount=merchant_account, reference=call.key)


def refund_request(call: RefundCall, merchant_account: str) -> wire.RefundRequest:
    """POST /payments/{psp}/refunds; our refund id is the refund's reference."""
    reason = REFUND_REASONS.get(call.reason.strip().lower()) if call.reason else None
    return wire.RefundRequest(
        merchantAccount=merchant_account,
        amount=amount(call.money),
        reference=call.refund_id,
        merchantRefundReason=reason,
    )


# -- results ------------------------------------------------------------------------------------


def refusal(code: str, message: str, additional: dict[str, Any] | None = None) -> Decline:
    """A refusal (by `refusalReasonCode`) as a decline; a card network's merchant advice code
    ("03: ...", "21: ...") can make it hard."""
    advice = None
    raw_advice = (additional or {}).get("merchantAdviceCode")
    if isinstance(raw_advice, str) and raw_advice:
        advice = raw_advice.split(":", 1)[0].strip()
    return translate(CODES, NAME, code, message, advice)


def next_action_of(action: dict[str, Any] | None) -> NextAction:
    """The customer's next step: a redirect (GET or POST), or the action object for Adyen's
    Web Components (`threeDS2`, `qrCode`, `await`, ...)."""
    if action is not None and action.get("type") == "redirect" and action.get("url"):
        return NextAction(
            "redirect",
            url=str(action["url"]),
            data={"method": action.get("method", "GET"), "form": action.get("data") or {}},
        )
    return NextAction("sdk", data={"provider": NAME, "action": action or {}})


def payment_result(
    response: wire.PaymentResponse, *, capture: bool, psp: str | None
) -> PaymentResult:
    """A /payments answer as a result. `psp` is the pspReference header, for answers whose
    body has none."""
    raw = response.resultCode or ""
    status = RESULT.get(raw, ProviderStatus.PENDING)
    if status is ProviderStatus.AUTHORIZED and capture:
        status = ProviderStatus.CAPTURED
    decline = None
    if status in (ProviderStatus.DECLINED, ProviderStatus.CANCELED):
        decline = refusal(
            response.refusalReasonCode or "2",
            response.refusalReason or raw,
            response.additionalData,
        )
    echoed = response.amount
    return PaymentResult(
        status=status,
        provider_reference=response.pspReference or psp,
        money=from_wire(echoed.value, echoed.currency) if echoed is not None else None,
        decline=decline,
        next_action=next_action_of(response.action)
        if status is ProviderStatus.REQUIRES_ACTION
        else None,
        raw_status=raw,
    )


def modification_result(response: wire.ModificationResponse) -> PaymentResult:
    """A capture or cancel accepted for processing: pending until its webhook."""
    echoed = response.amount
    return PaymentResult(
        status=ProviderStatus.PENDING,
        provider_reference=response.pspReference,
        money=from_wire(echoed.value, echoed.currency) if echoed is not None else None,
        raw_status=response.status,
    )


def refund_result(response: wire.ModificationResponse) -> RefundResult:
    """A refund accepted for processing: pending until the REFUND webhook."""
    echoed = response.amount
    return RefundResult(
        status=RefundStatus.PENDING,
        provider_reference=response.pspReference,
        money=from_wire(echoed.value, echoed.currency) if echoed is not None else None,
        raw_status=response.status,
    )


def request_refused(error: wire.ServiceError) -> Decline:
    """A request Adyen refused before processing (validation, configuration) as a decline."""
    code = error.errorCode or str(error.status or "error")
    return Decline(DeclineCode.INVALID_REQUEST, Decision.FINAL, code, error.message or "")


# -- events -------------------------------------------------------------------------------------


def event(item: wire.NotificationItem) -> ProviderEvent:
    """One notification item as an event."""
    success = item.success.lower() == "true"
    event_id = f"{item.pspReference}:{item.eventCode}:{item.success.lower()}"
    kinds = EVENTS.get(item.eventCode)
    kind = EventKind.UNHANDLED if kinds is None else kinds[0 if success else 1]
    occurred = _date(item.eventDate)
    if kind is EventKind.UNHANDLED:
        return ProviderEvent(
            event_id=event_id, kind=kind, raw_type=item.eventCode, occurred_at=occurred
        )
    money = from_wire(item.amount.value, item.amount.currency) if item.amount else None
    about_payment = item.eventCode in PAYMENT_LEVEL
    payment_psp = item.pspReference if about_payment else item.originalReference
    ours = parse_reference(item.merchantReference) if about_payment else None
    if ours is not None and kind is EventKind.AUTHORIZED and ours.capture:
        kind = EventKind.CAPTURED  # Adyen captures automatic-capture payments on authorisation
    decline = None
    if kind in (EventKind.FAILED, EventKind.REFUND_FAILED):
        code = "offer_closed" if item.eventCode == "OFFER_CLOSED" else code_for_reason(item.reason)
        decline = refusal(code, item.reason or item.eventCode, item.additionalData)
    refund = kind in (EventKind.REFUND_SUCCEEDED, EventKind.REFUND_FAILED)
    refund_id = item.merchantReference if refund and _ours_refund(item.merchantReference) else None
    return ProviderEvent(
        event_id=event_id,
        kind=kind,
        raw_type=item.eventCode,
        provider_reference=payment_psp,
        attempt_key=ours.attempt_key if ours is not None else None,
        payment_id=ours.payment_id if ours is not None else None,
        money=money,
        refund_reference=item.pspReference if refund else None,
        refund_id=refund_id,
        decline=decline,
        occurred_at=occurred,
    )


def _ours_refund(reference: str | None) -> bool:
    return bool(reference) and str(reference).startswith("rfd_")


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
