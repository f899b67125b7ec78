"""Pure translation between gatewayhub's calls/results and Stripe's objects.

Our ids travel in `metadata` (`gatewayhub_payment_id`, `gatewayhub_attempt_key`, and for
refunds `gatewayhub_refund_id`), which Stripe echoes on every PaymentIntent, Refund and
webhook, so an event can be matched even when the response to our request was lost.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType

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
)
from gatewayhub.money import Money
from gatewayhub_stripe import wire
from gatewayhub_stripe.amounts import from_wire, to_wire, wire_currency
from gatewayhub_stripe.errors import CODES, REFUND_REASONS, RETRY_LATER_ADVICE

log = logging.getLogger("gatewayhub.providers.stripe")

NAME = "stripe"
PAYMENT_ID = "gatewayhub_payment_id"
ATTEMPT_KEY = "gatewayhub_attempt_key"
REFUND_ID = "gatewayhub_refund_id"
REFERENCE = "gatewayhub_reference"
REASON = "gatewayhub_reason"
METADATA_LIMIT = 50  # Stripe: at most 50 keys per object

# PaymentIntent status -> gatewayhub. Anything not listed reads as pending;
# `requires_payment_method` is a decline only when `last_payment_error` says so.
STATUS = MappingProxyType(
    {
        "requires_capture": ProviderStatus.AUTHORIZED,
        "succeeded": ProviderStatus.CAPTURED,
        "canceled": ProviderStatus.CANCELED,
        "requires_action": ProviderStatus.REQUIRES_ACTION,
        "processing": ProviderStatus.PENDING,
        "requires_confirmation": ProviderStatus.PENDING,
        "requires_payment_method": ProviderStatus.PENDING,
    }
)
REFUND_STATUS = MappingProxyType(
    {
        "succeeded": RefundStatus.SUCCEEDED,
        "failed": RefundStatus.FAILED,
        "canceled": RefundStatus.FAILED,
        "pending": RefundStatus.PENDING,
        "requires_action": RefundStatus.PENDING,
    }
)
# Event type -> kind, for events about a PaymentIntent.
PAYMENT_EVENTS = MappingProxyType(
    {
        "payment_intent.succeeded": EventKind.CAPTURED,
        "payment_intent.amount_capturable_updated": EventKind.AUTHORIZED,
        "payment_intent.payment_failed": EventKind.FAILED,
        "payment_intent.requires_action": EventKind.REQUIRES_ACTION,
        "payment_intent.processing": EventKind.PENDING,
        "payment_intent.canceled": EventKind.CANCELED,
    }
)
REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})


# -- requests -----------------------------------------------------------------------------------


def _metadata(own: Mapping[str, str], merchant: Mapping[str, str]) -> dict[str, str]:
    """Our keys first; the merchant's fill what Stripe's limit leaves (extras are logged)."""
    merged = dict(own)
    for key in sorted(merchant):
        if key in merged:
            continue
        if len(merged) >= METADATA_LIMIT:
            log.warning("stripe metadata is limited to %d keys: %r not sent", METADATA_LIMIT, key)
            continue
        merged[key] = merchant[key]
    return merged


def payment_intent_create(call: AuthorizeCall) -> wire.PaymentIntentCreate:
    """Create and confirm a PaymentIntent. With a `return_url`, 3-D Secure comes back as a
    redirect; without one, redirects are off and 3-D Secure needs Stripe's SDK."""
    own = {PAYMENT_ID: call.payment_id, ATTEMPT_KEY: call.key}
    if call.reference:
        own[REFERENCE] = call.reference
    return wire.PaymentIntentCreate(
        amount=to_wire(call.money),
        currency=wire_currency(call.money),
        payment_method=call.token,
        confirm=True,
        capture_method="automatic" if call.capture else "manual",
        return_url=call.return_url,
        automatic_payment_methods=None
        if call.return_url
        else wire.AutomaticPaymentMethods(enabled=True, allow_redirects="never"),
        description=call.description,
        metadata=_metadata(own, call.metadata),
    )


def payment_intent_capture(call: CaptureCall, *, multicapture: bool) -> wire.PaymentIntentCapture:
    """Capture `call.money`; `final_capture` is only sent to multicapture-enabled accounts."""
    return wire.PaymentIntentCapture(
        amount_to_capture=to_wire(call.money),
        final_capture=None if not multicapture else call.final,
    )


def refund_create(call: RefundCall) -> wire.RefundCreate:
    """Refund `call.money` of the PaymentIntent; our ids travel in metadata."""
    metadata = {
        PAYMENT_ID: call.payment_id,
        ATTEMPT_KEY: call.key,
        REFUND_ID: call.refund_id,
    }
    reason = REFUND_REASONS.get(call.reason) if call.reason else None
    if call.reason and reason is None:
        metadata[REASON] = call.reason[:500]
    return wire.RefundCreate(
        payment_intent=call.provider_reference,
        amount=to_wire(call.money),
        reason=reason,
        metadata=metadata,
    )


# -- results ------------------------------------------------------------------------------------


def decline_of(error: wire.PaymentError) -> Decline:
    """A Stripe error (402 card error, `last_payment_error`, or a refused request) as a
    decline in gatewayhub's vocabulary."""
    code = error.decline_code or error.code or error.type or "card_declined"
    message = error.message or ""
    if error.type == "invalid_request_error" and code not in CODES:
        # Any other refusal of the request itself: nothing moved, and retrying cannot help.
        return Decline(DeclineCode.INVALID_REQUEST, Decision.FINAL, code, message)
    decline = translate(CODES, NAME, code, message, error.advice_code)
    if (
        error.advice_code == RETRY_LATER_ADVICE
        and not decline.hard
        and decline.decision is Decision.FINAL
    ):
        decline = dataclasses.replace(decline, decision=Decision.RETRY_SAME)
    return decline


def status_of(intent: wire.PaymentIntent) -> ProviderStatus:
    """The normalized status of a PaymentIntent (unknown: pending)."""
    if intent.status == "requires_payment_method" and intent.last_payment_error is not None:
        return ProviderStatus.DECLINED
    return STATUS.get(intent.status, ProviderStatus.PENDING)


def next_action_of(intent: wire.PaymentIntent) -> NextAction:
    """The customer's next step: a redirect URL, or data for Stripe's SDK."""
    action = intent.next_action
    if action is not None and action.redirect_to_url is not None:
        return NextAction("redirect", url=action.redirect_to_url.url)
    return NextAction(
        "sdk",
        data={
            "provider": NAME,
            "type": action.type if action is not None else "unknown",
            "payment_intent": intent.id,
        },
    )


def payment_result(intent: wire.PaymentIntent, *, echo: Money | None) -> PaymentResult:
    """A PaymentIntent as a result; `echo` is the amount Stripe answered for this operation
    (None when the answer carries no per-operation amount)."""
    status = status_of(intent)
    refunded = None
    if isinstance(intent.latest_charge, wire.Charge):
        refunded = from_wire(intent.latest_charge.amount_refunded, intent.latest_charge.currency)
    decline = None
    if status is ProviderStatus.DECLINED and intent.last_payment_error is not None:
        decline = decline_of(intent.last_payment_error)
    return PaymentResult(
        status=status,
        provider_reference=intent.id,
        money=echo,
        captured=from_wire(intent.amount_received, intent.currency),
        refunded=refunded,
        decline=decline,
        next_action=next_action_of(intent) if status is ProviderStatus.REQUIRES_ACTION else None,
        raw_status=intent.status,
    )


def amount_of(intent: wire.PaymentIntent) -> Money:
    """The PaymentIntent's amount."""
    return from_wire(intent.amount, intent.currency)


def received_of(intent: wire.PaymentIntent) -> Money:
    """What was captured so far."""
    return from_wire(intent.amount_received, intent.currency)


def error_result(error: wire.ApiError) -> PaymentResult:
    """A refused request or a 402 decline as a declined result."""
    intent = error.payment_intent
    return PaymentResult(
        status=ProviderStatus.DECLINED,
        provider_reference=intent.id if intent is not None else None,
        decline=decline_of(error),
        raw_status=error.decline_code or error.code or error.type or "error",
    )


def refund_result(refund: wire.Refund) -> RefundResult:
    """A refund as a result (unknown status: pending)."""
    status = REFUND_STATUS.get(refund.status or "", RefundStatus.PENDING)
    decline = None
    if status is RefundStatus.FAILED:
        decline = translate(CODES, NAME, refund.failure_reason or "unknown")
    return RefundResult(
        status=status,
        provider_reference=refund.id,
        money=from_wire(refund.amount, refund.currency),
        decline=decline,
        raw_status=refund.status or "",
    )


# -- events -------------------------------------------------------------------------------------


def events(item: wire.Event) -> list[ProviderEvent]:
    """A webhook event, normalized (a `charge.refunded` listing refunds gives one each)."""
    occurred = datetime.fromtimestamp(item.created, UTC)
    obj = item.data.object
    if item.type in PAYMENT_EVENTS:
        return [_payment_event(item, wire.PaymentIntent.model_validate(obj), occurred)]
    if item.type in REFUND_EVENTS:
        refund = wire.Refund.model_validate(obj)
        return [
            _refund_event(item.id, item.type, refund, occurred, failed=item.type == "refund.failed")
        ]
    if item.type == "charge.refunded":
        charge = wire.Charge.model_validate(obj)
        listed = charge.refunds.data if charge.refunds is not None else []
        found = [
            _refund_event(f"{item.id}:{refund.id}", item.type, refund, occurred, failed=False)
            for refund in listed
            if refund.status == "succeeded"
        ]
        if found:
            return found
    return [ProviderEvent(event_id=item.id, kind=EventKind.UNHANDLED, raw_type=item.type)]


def _payment_event(
    item: wire.Event, intent: wire.PaymentIntent, occurred: datetime
) -> ProviderEvent:
    kind = PAYMENT_EVENTS[item.type]
    # The attempt key in metadata names the authorization attempt. Events that may be about
    # a later capture or void leave it out, so the core matches them to that operation's
    # attempt by the PaymentIntent id instead.
    about_authorization = not (
        (kind is EventKind.CAPTURED and intent.capture_method == "manual")
        or kind is EventKind.CANCELED
    )
    decline = None
    if kind is EventKind.FAILED and intent.last_payment_error is not None:
        decline = decline_of(intent.last_payment_error)
    money = amount_of(intent)
    if kind is EventKind.CAPTURED:
        money = received_of(intent)
    return ProviderEvent(
        event_id=item.id,
        kind=kind,
        raw_type=item.type,
        provider_reference=intent.id,
        attempt_key=intent.metadata.get(ATTEMPT_KEY) if about_authorization else None,
        payment_id=intent.metadata.get(PAYMENT_ID),
        money=money,
        captured=received_of(intent) if kind is EventKind.CAPTURED else None,
        decline=decline,
        occurred_at=occurred,
    )


def _refund_event(
    event_id: str, raw_type: str, refund: wire.Refund, occurred: datetime, *, failed: bool
) -> ProviderEvent:
    result = refund_result(refund)
    if failed:
        result = dataclasses.replace(result, status=RefundStatus.FAILED)
    kind = {
        RefundStatus.SUCCEEDED: EventKind.REFUND_SUCCEEDED,
        RefundStatus.FAILED: EventKind.REFUND_FAILED,
    }.get(result.status, EventKind.UNHANDLED)
    decline = result.decline
    if kind is EventKind.REFUND_FAILED and decline is None:
        decline = translate(CODES, NAME, refund.failure_reason or "unknown")
    return ProviderEvent(
        event_id=event_id,
        kind=kind,
        raw_type=raw_type,
        provider_reference=refund.payment_intent,
        attempt_key=refund.metadata.get(ATTEMPT_KEY),
        payment_id=refund.metadata.get(PAYMENT_ID),
        money=result.money,
        refund_reference=refund.id,
        refund_id=refund.metadata.get(REFUND_ID),
        decline=decline,
        occurred_at=occurred,
    )
