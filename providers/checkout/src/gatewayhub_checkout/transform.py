"""Pure translation between gatewayhub's calls/results and Checkout.com's wire objects."""

from __future__ import annotations

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
    VoidCall,
)
from gatewayhub.money import Money
from gatewayhub_checkout import amounts, wire
from gatewayhub_checkout.errors import ERROR_CODES, RESPONSE_CODES

NAME = "checkout"
DESCRIPTION_MAX = 100  # PaymentRequest.description maxLength
URL_MAX = 255  # success_url / failure_url maxLength

# Metadata keys we send; Checkout.com echoes metadata in webhooks, so events can be matched
# even when the answer to our request never arrived. One key per operation, because an
# event must not be matched to an attempt of another operation.
PAYMENT_ID = "gatewayhub_payment_id"
ATTEMPT_KEY = "gatewayhub_attempt_key"
CAPTURE_KEY = "gatewayhub_capture_key"
VOID_KEY = "gatewayhub_void_key"
REFUND_ID = "gatewayhub_refund_id"
REFUND_KEY = "gatewayhub_refund_key"
MERCHANT_REFERENCE = "merchant_reference"

# Payment status (PaymentDetails.status) -> gatewayhub. Anything else is pending. A payment
# whose authorization was (partly) captured is reported authorized: captured and refunded
# amounts travel in `balances`, which the core reads for captures and refunds.
STATUS = MappingProxyType(
    {
        "Pending": ProviderStatus.PENDING,
        "Authorized": ProviderStatus.AUTHORIZED,
        "Card Verified": ProviderStatus.AUTHORIZED,
        "Partially Captured": ProviderStatus.AUTHORIZED,
        "Captured": ProviderStatus.CAPTURED,
        "Paid": ProviderStatus.CAPTURED,
        "Partially Refunded": ProviderStatus.CAPTURED,
        "Refunded": ProviderStatus.CAPTURED,
        "Declined": ProviderStatus.DECLINED,
        "Voided": ProviderStatus.CANCELED,
        "Canceled": ProviderStatus.CANCELED,
        "Expired": ProviderStatus.CANCELED,
    }
)

_APPROVED = frozenset({ProviderStatus.AUTHORIZED, ProviderStatus.CAPTURED})

EVENTS = MappingProxyType(
    {
        "payment_approved": EventKind.AUTHORIZED,
        "payment_pending": EventKind.PENDING,
        "payment_declined": EventKind.FAILED,
        "payment_expired": EventKind.CANCELED,
        "payment_canceled": EventKind.CANCELED,
        "payment_voided": EventKind.CANCELED,
        "payment_captured": EventKind.CAPTURED,
        "payment_paid": EventKind.CAPTURED,
        "payment_refunded": EventKind.REFUND_SUCCEEDED,
        "payment_refund_declined": EventKind.REFUND_FAILED,
    }
)
# Events about the authorization itself carry the payment's metadata and reference.
_AUTHORIZATION_EVENTS = frozenset(
    {
        "payment_approved",
        "payment_pending",
        "payment_declined",
        "payment_expired",
        "payment_canceled",
    }
)


class SourceNotSupported(ValueError):
    """The token is neither a Checkout.com card token nor a stored source id."""


# -- requests -----------------------------------------------------------------------------------


def source(token: str) -> wire.TokenSource | wire.IdSource:
    """The payment source for a token: `tok_...` (Frames/Tokens API) or `src_...` (stored)."""
    if token.startswith("tok_"):
        return wire.TokenSource(token=token)
    if token.startswith("src_"):
        return wire.IdSource(id=token)
    raise SourceNotSupported(f"{token[:4]}... is not a Checkout.com token (tok_) or source (src_)")


def payment_request(
    call: AuthorizeCall, *, processing_channel_id: str | None, three_ds: bool
) -> dict[str, Any]:
    """The body of POST /payments. Our payment id is the `reference` and, with the attempt
    key, in `metadata`; raises `AmountNotRepresentable` or `SourceNotSupported`."""
    return_url = call.return_url if call.return_url and len(call.return_url) <= URL_MAX else None
    metadata = {**call.metadata, PAYMENT_ID: call.payment_id, ATTEMPT_KEY: call.key}
    if call.reference:
        metadata[MERCHANT_REFERENCE] = call.reference
    request = wire.PaymentRequest(
        source=source(call.token),
        amount=amounts.to_wire(call.money),
        currency=call.money.currency,
        reference=call.payment_id,
        description=call.description[:DESCRIPTION_MAX] if call.description else None,
        capture=call.capture,
        processing_channel_id=processing_channel_id,
        three_ds=wire.ThreeDSRequest(enabled=True) if three_ds else None,
        success_url=return_url,
        failure_url=return_url,
        metadata=metadata,
    )
    return request.model_dump(by_alias=True, exclude_none=True)


def capture_request(call: CaptureCall) -> dict[str, Any]:
    """The body of POST /payments/{id}/captures; `Final` releases what is not captured."""
    return wire.CaptureRequest(
        amount=amounts.to_wire(call.money),
        capture_type="Final" if call.final else "NonFinal",
        reference=call.key,
        metadata={CAPTURE_KEY: call.key},
    ).model_dump()


def void_request(call: VoidCall) -> dict[str, Any]:
    """The body of POST /payments/{id}/voids."""
    return wire.VoidRequest(reference=call.key, metadata={VOID_KEY: call.key}).model_dump()


def refund_request(call: RefundCall) -> dict[str, Any]:
    """The body of POST /payments/{id}/refunds; our refund id is its `reference`."""
    return wire.RefundRequest(
        amount=amounts.to_wire(call.money),
        reference=call.refund_id,
        metadata={REFUND_ID: call.refund_id, REFUND_KEY: call.key},
    ).model_dump()


# -- results ------------------------------------------------------------------------------------


def decline(code: str, message: str = "") -> Decline:
    """A `response_code` as a canonical decline."""
    return translate(RESPONSE_CODES, NAME, code, message)


def refusal(code: str, message: str = "") -> Decline:
    """An `error_codes` entry (or one of the adapter's own refusals) as a canonical decline."""
    return translate(ERROR_CODES, NAME, code, message)


def _money(amount: int | None, currency: str | None) -> Money | None:
    if amount is None or currency is None:
        return None
    return amounts.from_wire(amount, currency)


def payment_result(payment: wire.Payment) -> PaymentResult:
    """A payment (POST /payments 201/202, or GET /payments/{id}) as a result."""
    status = STATUS.get(payment.status, ProviderStatus.PENDING)
    found_decline = None
    if status is ProviderStatus.DECLINED:
        found_decline = decline(
            payment.response_code or payment.status, payment.response_summary or ""
        )
    elif payment.approved is False and status in _APPROVED:
        # "Authorized" yet not approved contradicts itself: never read it as success. An
        # unknown status with approved=false ("Retry Scheduled") is not final either.
        status = ProviderStatus.PENDING
    action = None
    redirect = payment.links.get("redirect")
    if status is ProviderStatus.PENDING and redirect is not None:
        status = ProviderStatus.REQUIRES_ACTION
        action = NextAction(type="redirect", url=redirect.href)
    balances = payment.balances
    currency = payment.currency
    return PaymentResult(
        status=status,
        provider_reference=payment.id,
        money=_money(payment.amount, currency),
        captured=_money(balances.total_captured, currency) if balances else None,
        refunded=_money(balances.total_refunded, currency) if balances else None,
        decline=found_decline,
        next_action=action,
        raw_status=payment.status,
    )


def refused_result(error: wire.ErrorBody, http_status: int) -> PaymentResult:
    """A refused request (422) as a declined result; the first error code decides."""
    code = error.error_codes[0] if error.error_codes else error.error_type or f"http_{http_status}"
    return PaymentResult(
        status=ProviderStatus.DECLINED,
        decline=refusal(code, ", ".join(error.error_codes)),
        raw_status=error.error_type or f"http_{http_status}",
    )


def local_refusal(code: str, message: str) -> PaymentResult:
    """A decline the adapter makes itself, before sending anything."""
    return PaymentResult(
        status=ProviderStatus.DECLINED, decline=refusal(code, message), raw_status=code
    )


def action_pending(accepted: wire.ActionAccepted) -> PaymentResult:
    """A capture or void Checkout.com accepted (202): it completes asynchronously, confirmed
    by a webhook or by `balances` on a lookup."""
    return PaymentResult(
        status=ProviderStatus.PENDING,
        provider_reference=accepted.action_id,
        raw_status="accepted",
    )


def refund_pending(accepted: wire.ActionAccepted) -> RefundResult:
    """A refund Checkout.com accepted (202); `payment_refunded` confirms it."""
    return RefundResult(
        status=RefundStatus.PENDING,
        provider_reference=accepted.action_id,
        raw_status="accepted",
    )


def refund_refused(result: PaymentResult) -> RefundResult:
    """A refused refund request as a failed refund."""
    return RefundResult(RefundStatus.FAILED, decline=result.decline, raw_status=result.raw_status)


# -- webhooks -----------------------------------------------------------------------------------


def _text(metadata: dict[str, Any], key: str) -> str | None:
    value = metadata.get(key)
    return value if isinstance(value, str) and value else None


def event(item: wire.Event) -> ProviderEvent:
    """A webhook event, normalized."""
    kind = EVENTS.get(item.type, EventKind.UNHANDLED)
    if kind is EventKind.UNHANDLED:
        return ProviderEvent(
            event_id=item.id, kind=kind, raw_type=item.type, occurred_at=item.created_on
        )
    data = item.data
    meta = data.metadata
    money = _money(data.amount, data.currency)
    if kind in (EventKind.REFUND_SUCCEEDED, EventKind.REFUND_FAILED):
        return ProviderEvent(
            event_id=item.id,
            kind=kind,
            raw_type=item.type,
            provider_reference=data.id,
            attempt_key=_text(meta, REFUND_KEY),
            payment_id=_text(meta, PAYMENT_ID),
            money=money,
            refund_reference=data.action_id,
            refund_id=_text(meta, REFUND_ID),
            decline=decline(data.response_code or item.type, data.response_summary or "")
            if kind is EventKind.REFUND_FAILED
            else None,
            occurred_at=item.created_on,
        )
    if item.type in _AUTHORIZATION_EVENTS:
        key = _text(meta, ATTEMPT_KEY)
        payment_id = _text(meta, PAYMENT_ID) or data.reference
    else:
        key = _text(meta, CAPTURE_KEY if kind is EventKind.CAPTURED else VOID_KEY)
        payment_id = _text(meta, PAYMENT_ID)
    return ProviderEvent(
        event_id=item.id,
        kind=kind,
        raw_type=item.type,
        provider_reference=data.id,
        attempt_key=key,
        payment_id=payment_id,
        money=money,
        decline=decline(data.response_code or item.type, data.response_summary or "")
        if kind is EventKind.FAILED
        else None,
        occurred_at=item.created_on,
    )
