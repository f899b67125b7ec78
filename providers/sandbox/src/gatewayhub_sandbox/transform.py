"""Pure translation between gatewayhub's calls/results and the sandbox's wire objects."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from gatewayhub.declines import translate
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
from gatewayhub_sandbox import wire
from gatewayhub_sandbox.errors import CODES

NAME = "sandbox"

# Charge status -> gatewayhub status. Anything not listed (e.g. "under_review") is pending.
STATUS = MappingProxyType(
    {
        "authorized": ProviderStatus.AUTHORIZED,
        "partially_captured": ProviderStatus.AUTHORIZED,
        "captured": ProviderStatus.CAPTURED,
        "canceled": ProviderStatus.CANCELED,
        "failed": ProviderStatus.DECLINED,
        "requires_action": ProviderStatus.REQUIRES_ACTION,
        "pending": ProviderStatus.PENDING,
    }
)
REFUND_STATUS = MappingProxyType(
    {
        "succeeded": RefundStatus.SUCCEEDED,
        "failed": RefundStatus.FAILED,
        "pending": RefundStatus.PENDING,
    }
)
EVENTS = MappingProxyType(
    {
        "charge.authorized": EventKind.AUTHORIZED,
        "charge.captured": EventKind.CAPTURED,
        "charge.canceled": EventKind.CANCELED,
        "charge.failed": EventKind.FAILED,
        "charge.requires_action": EventKind.REQUIRES_ACTION,
        "charge.pending": EventKind.PENDING,
        "refund.succeeded": EventKind.REFUND_SUCCEEDED,
        "refund.failed": EventKind.REFUND_FAILED,
    }
)


def charge_request(call: AuthorizeCall) -> dict[str, Any]:
    """The body of POST /v1/charges. Our payment id travels as `reference`, so webhooks can
    be matched even when the response never arrived."""
    return wire.ChargeRequest(
        amount=call.money.amount,
        currency=call.money.currency,
        source=call.token,
        capture=call.capture,
        reference=call.payment_id,
        description=call.description,
        return_url=call.return_url,
        metadata={**call.metadata, "merchant_reference": call.reference or ""},
    ).model_dump(exclude_none=True)


def capture_request(call: CaptureCall) -> dict[str, Any]:
    """The body of POST /v1/charges/{id}/capture."""
    return wire.CaptureRequest(amount=call.money.amount, final=call.final).model_dump()


def refund_request(call: RefundCall) -> dict[str, Any]:
    """The body of POST /v1/charges/{id}/refunds (our refund id travels as `reference`)."""
    return wire.RefundRequest(
        amount=call.money.amount, reference=call.refund_id, reason=call.reason
    ).model_dump(exclude_none=True)


def charge_result(charge: wire.Charge, *, echo: bool = True) -> PaymentResult:
    """A charge as a result. `echo` False for captures, whose answer is the whole charge
    rather than the amount just captured."""
    status = STATUS.get(charge.status, ProviderStatus.PENDING)
    decline = None
    if status is ProviderStatus.DECLINED:
        decline = translate(
            CODES,
            NAME,
            charge.failure_code or "generic_decline",
            charge.failure_message or "",
            charge.advice,
        )
    action = None
    if charge.next_action is not None:
        action = NextAction(
            type=str(charge.next_action.get("type", "redirect")), url=charge.next_action.get("url")
        )
    return PaymentResult(
        status=status,
        provider_reference=charge.id,
        money=Money(charge.amount, charge.currency) if echo else None,
        captured=Money(charge.amount_captured, charge.currency),
        refunded=Money(charge.amount_refunded, charge.currency),
        decline=decline,
        next_action=action,
        raw_status=charge.status,
        fee=Money(charge.fee, charge.currency) if charge.fee else None,
    )


def decline_result(error: wire.ApiError) -> PaymentResult:
    """A 402 card error (or a refusal of the request) as a declined result."""
    return PaymentResult(
        status=ProviderStatus.DECLINED,
        provider_reference=error.charge,
        decline=translate(CODES, NAME, error.code, error.message, error.advice),
        raw_status=error.code,
    )


def refund_result(refund: wire.Refund) -> RefundResult:
    """A refund as a result."""
    status = REFUND_STATUS.get(refund.status, RefundStatus.PENDING)
    decline = None
    if status is RefundStatus.FAILED:
        decline = translate(CODES, NAME, refund.failure_code or "generic_decline")
    return RefundResult(
        status=status,
        provider_reference=refund.id,
        money=Money(refund.amount, refund.currency),
        decline=decline,
        raw_status=refund.status,
    )


def event(item: wire.Event) -> ProviderEvent:
    """A webhook event, normalized."""
    kind = EVENTS.get(item.type, EventKind.UNHANDLED)
    obj = item.data.get("object", {})
    if kind in (EventKind.REFUND_SUCCEEDED, EventKind.REFUND_FAILED):
        refund = wire.Refund.model_validate(obj)
        return ProviderEvent(
            event_id=item.id,
            kind=kind,
            raw_type=item.type,
            provider_reference=refund.charge,
            attempt_key=item.request_key,
            money=Money(refund.amount, refund.currency),
            refund_reference=refund.id,
            refund_id=refund.reference,
        )
    if kind is EventKind.UNHANDLED:
        return ProviderEvent(event_id=item.id, kind=kind, raw_type=item.type)
    charge = wire.Charge.model_validate(obj)
    result = charge_result(charge)
    return ProviderEvent(
        event_id=item.id,
        kind=kind,
        raw_type=item.type,
        provider_reference=charge.id,
        attempt_key=item.request_key or charge.idempotency_key,
        payment_id=charge.reference,
        money=Money(charge.amount, charge.currency),
        captured=Money(charge.amount_captured, charge.currency),
        decline=result.decline,
    )
