"""Pure translation between gatewayhub's calls/results and TrueLayer Payments API v3 objects.

A pay-by-bank payment has no authorize/capture split: the payer consents at their bank and
the bank moves the money. Into a merchant account the life is
`authorization_required -> authorizing -> authorized -> executed -> settled` (or `failed`,
which can also follow `executed` when name/age verification is on), so "captured" means
`settled`, and everything before it is pending or waiting for the payer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from gatewayhub.declines import translate
from gatewayhub.errors import Decline
from gatewayhub.models import (
    AuthorizeCall,
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
from gatewayhub_truelayer import wire
from gatewayhub_truelayer.errors import CODES, USER_DETAILS_MISSING

NAME = "truelayer"

META_PAYMENT = "gatewayhub_payment_id"
META_KEY = "gatewayhub_key"
META_REFUND = "gatewayhub_refund_id"

# The payer's details come from the payment's metadata under these keys (TrueLayer requires
# a name and an email or phone); they are sent as `user`, never as metadata.
USER_NAME = "customer_name"
USER_EMAIL = "customer_email"
USER_PHONE = "customer_phone"

STATUS = MappingProxyType(
    {
        "authorization_required": ProviderStatus.REQUIRES_ACTION,
        "authorizing": ProviderStatus.REQUIRES_ACTION,
        "attempt_failed": ProviderStatus.REQUIRES_ACTION,  # the payer may retry
        "authorized": ProviderStatus.PENDING,  # consent given, no funds are held
        "executed": ProviderStatus.PENDING,  # merchant account: not settled yet
        "settled": ProviderStatus.CAPTURED,
        "failed": ProviderStatus.DECLINED,
    }
)
REFUND_STATUS = MappingProxyType(
    {
        "pending": RefundStatus.PENDING,
        "authorized": RefundStatus.PENDING,
        "executed": RefundStatus.SUCCEEDED,
        "failed": RefundStatus.FAILED,
    }
)
EVENTS = MappingProxyType(
    {
        "payment_authorized": EventKind.PENDING,
        "payment_executed": EventKind.PENDING,
        "payment_settled": EventKind.CAPTURED,
        "payment_failed": EventKind.FAILED,
        "refund_executed": EventKind.REFUND_SUCCEEDED,
        "refund_failed": EventKind.REFUND_FAILED,
    }
)
# A payment the payer abandoned (or that expired, 15 minutes after creation) before
# consenting was canceled, not declined.
_CANCELED_REASONS = frozenset({"canceled", "cancelled", "user_canceled_at_provider", "expired"})
_BEFORE_CONSENT = frozenset({"authorization_required", "authorizing"})
# When each event happened, by type.
_STAMPS = ("settled_at", "executed_at", "authorized_at", "failed_at")


def user_details(metadata: Mapping[str, str]) -> wire.User | None:
    """The payer from the payment's metadata, or None when TrueLayer's minimum is missing."""
    name = metadata.get(USER_NAME)
    email = metadata.get(USER_EMAIL)
    phone = metadata.get(USER_PHONE)
    if not name or not (email or phone):
        return None
    return wire.User(name=name, email=email or None, phone=phone or None)


def missing_user_decline() -> Decline:
    """Refused before sending: TrueLayer needs the payer's name and email or phone."""
    return translate(
        CODES,
        NAME,
        USER_DETAILS_MISSING,
        f"metadata must carry {USER_NAME} and {USER_EMAIL} or {USER_PHONE}",
    )


def payment_request(
    call: AuthorizeCall, user: wire.User, merchant_account_id: str, reference: str | None
) -> dict[str, Any]:
    """The body of POST /v3/payments into the merchant account. Our payment id and the
    attempt key travel as metadata, which TrueLayer echoes in its webhooks."""
    return wire.CreatePayment(
        amount_in_minor=call.money.amount,
        currency=call.money.currency,
        payment_method=wire.BankTransfer(
            beneficiary=wire.MerchantAccountBeneficiary(
                merchant_account_id=merchant_account_id, reference=reference
            )
        ),
        user=user,
        metadata={META_PAYMENT: call.payment_id, META_KEY: call.key},
    ).model_dump(exclude_none=True)


def refund_request(call: RefundCall, reference: str) -> dict[str, Any]:
    """The body of POST /v3/payments/{id}/refunds."""
    return wire.CreateRefund(
        amount_in_minor=call.money.amount,
        reference=reference,
        metadata={
            META_PAYMENT: call.payment_id,
            META_REFUND: call.refund_id,
            META_KEY: call.key,
        },
    ).model_dump()


def hosted_page_url(base: str, payment_id: str, resource_token: str, return_uri: str) -> str:
    """TrueLayer's hosted payment page for a payment, as the official SDKs build it:
    `{base}/payments#payment_id=..&resource_token=..&return_uri=..` (return URI as given,
    it must be allow-listed in Console)."""
    return (
        f"{base.rstrip('/')}/payments#payment_id={payment_id}"
        f"&resource_token={resource_token}&return_uri={return_uri}"
    )


def failure_decline(reason: str | None, stage: str | None) -> Decline:
    """A failed payment's `failure_reason` in the canonical vocabulary."""
    message = f"failed at {stage}" if stage else ""
    return translate(CODES, NAME, reason or "failed", message)


def _failed_status(reason: str | None, stage: str | None) -> ProviderStatus:
    if reason in _CANCELED_REASONS and stage in _BEFORE_CONSENT:
        return ProviderStatus.CANCELED
    return ProviderStatus.DECLINED


def created_result(
    created: wire.CreatedPayment, *, hpp_base: str, return_uri: str | None
) -> PaymentResult:
    """The answer to POST /v3/payments. A payment waiting for the payer carries the next
    step: the hosted payment page URL (when a return URI is known) and the payment id and
    resource token (for TrueLayer's embedded page and SDKs)."""
    status = STATUS.get(created.status, ProviderStatus.PENDING)
    if status is ProviderStatus.DECLINED:
        return PaymentResult(
            _failed_status(created.failure_reason, created.failure_stage),
            created.id,
            decline=failure_decline(created.failure_reason, created.failure_stage),
            raw_status=created.status,
        )
    action = None
    if status is ProviderStatus.REQUIRES_ACTION:
        url = (
            hosted_page_url(hpp_base, created.id, created.resource_token, return_uri)
            if return_uri
            else None
        )
        data = {"payment_id": created.id, "resource_token": created.resource_token}
        action = NextAction(type="redirect", url=url, data=data)
    return PaymentResult(status, created.id, next_action=action, raw_status=created.status)


def payment_result(payment: wire.Payment, refunds: Sequence[wire.Refund] = ()) -> PaymentResult:
    """GET /v3/payments/{id} (with its refunds, when listed) as a result."""
    money = Money(payment.amount_in_minor, payment.currency)
    status = STATUS.get(payment.status, ProviderStatus.PENDING)
    decline = None
    if status is ProviderStatus.DECLINED:
        status = _failed_status(payment.failure_reason, payment.failure_stage)
        decline = failure_decline(payment.failure_reason, payment.failure_stage)
    refunded = sum(r.amount_in_minor for r in refunds if r.status == "executed")
    action = None
    if status is ProviderStatus.REQUIRES_ACTION:
        action = NextAction(type="redirect", url=None, data={"payment_id": payment.id})
    return PaymentResult(
        status,
        payment.id,
        money,
        captured=money if status is ProviderStatus.CAPTURED else None,
        refunded=Money(refunded, payment.currency) if refunds else None,
        decline=decline,
        next_action=action,
        raw_status=payment.status,
    )


def refund_result(refund: wire.Refund) -> RefundResult:
    """A refund resource as a result."""
    status = REFUND_STATUS.get(refund.status, RefundStatus.PENDING)
    decline = None
    if status is RefundStatus.FAILED:
        decline = translate(CODES, NAME, refund.failure_reason or "failed")
    return RefundResult(
        status, refund.id, Money(refund.amount_in_minor, refund.currency), decline, refund.status
    )


def problem_decline(problem: wire.Problem) -> Decline:
    """A problem+json refusal (by its `title`) in the canonical vocabulary."""
    detail = problem.detail or ""
    if problem.errors:
        detail = f"{detail} {problem.errors}".strip()
    return translate(CODES, NAME, problem.title or "problem", detail)


def _metadata(item: wire.Event, name: str) -> str | None:
    value = (item.metadata or {}).get(name)
    return str(value) if value is not None else None


def _occurred(item: wire.Event) -> datetime | None:
    extra = item.model_extra or {}
    for name in _STAMPS:
        value = extra.get(name)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return None
    return None


def event(item: wire.Event) -> ProviderEvent:
    """A webhook body, normalized; types this adapter does not act on are unhandled."""
    kind = EVENTS.get(item.type, EventKind.UNHANDLED)
    if kind is EventKind.UNHANDLED or item.payment_id is None:
        return ProviderEvent(item.event_id, EventKind.UNHANDLED, item.type)
    decline = None
    if kind is EventKind.FAILED:
        if _failed_status(item.failure_reason, item.failure_stage) is ProviderStatus.CANCELED:
            kind = EventKind.CANCELED
        decline = failure_decline(item.failure_reason, item.failure_stage)
    if kind is EventKind.REFUND_FAILED:
        decline = translate(CODES, NAME, item.failure_reason or "failed")
    refund = kind in (EventKind.REFUND_SUCCEEDED, EventKind.REFUND_FAILED)
    return ProviderEvent(
        event_id=item.event_id,
        kind=kind,
        raw_type=item.type,
        provider_reference=item.payment_id,
        attempt_key=_metadata(item, META_KEY),
        payment_id=_metadata(item, META_PAYMENT),
        refund_reference=item.refund_id if refund else None,
        refund_id=_metadata(item, META_REFUND) if refund else None,
        decline=decline,
        occurred_at=_occurred(item),
    )
