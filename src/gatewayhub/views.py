"""What the SDK returns and the HTTP API serializes: read-only views of payments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from gatewayhub.models import (
    AttemptStatus,
    CaptureMode,
    Operation,
    PaymentMethodType,
    PaymentStatus,
    RefundStatus,
)
from gatewayhub.payment import Attempt, Event, Payment, Refund


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class MethodView(_View):
    """The payment method as displayable: never more than brand, country and last four."""

    type: PaymentMethodType
    brand: str | None = None
    funding: str | None = None
    issuer_country: str | None = None
    last4: str | None = None


class DeclineView(_View):
    """Why a payment failed, in the canonical vocabulary."""

    code: str
    message: str | None = None


class AttemptView(_View):
    """One provider call (with its same-key retries)."""

    id: str
    seq: int
    operation: Operation
    provider: str
    status: AttemptStatus
    amount: int
    idempotency_key: str
    provider_reference: str | None = None
    decline_code: str | None = None
    decision: str | None = None
    provider_code: str | None = None
    tries: int
    started_at: datetime
    finished_at: datetime | None = None

    @classmethod
    def of(cls, a: Attempt) -> AttemptView:
        """From the aggregate."""
        return cls(
            id=a.id,
            seq=a.seq,
            operation=a.operation,
            provider=a.provider,
            status=a.status,
            amount=a.amount,
            idempotency_key=a.key,
            provider_reference=a.provider_reference,
            decline_code=a.decline_code,
            decision=a.decision,
            provider_code=a.provider_code,
            tries=a.tries,
            started_at=a.started_at,
            finished_at=a.finished_at,
        )


class RefundView(_View):
    """A refund."""

    id: str
    payment_id: str
    amount: int
    currency: str
    status: RefundStatus
    reason: str | None = None
    provider_reference: str | None = None
    decline_code: str | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, r: Refund) -> RefundView:
        """From the aggregate."""
        return cls(
            id=r.id,
            payment_id=r.payment_id,
            amount=r.amount,
            currency=r.currency,
            status=r.status,
            reason=r.reason,
            provider_reference=r.provider_reference,
            decline_code=r.decline_code,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )


class EventView(_View):
    """One entry of a payment's history."""

    type: str
    at: datetime
    from_status: str | None = None
    to_status: str | None = None
    data: dict[str, Any]

    @classmethod
    def of(cls, e: Event) -> EventView:
        """From the aggregate."""
        return cls(
            type=e.type, at=e.at, from_status=e.from_status, to_status=e.to_status, data=e.data
        )


class PaymentView(_View):
    """A payment as the merchant sees it."""

    id: str
    status: PaymentStatus
    amount: int
    currency: str
    authorized: int
    captured: int
    refunded: int
    fees: int
    capture: CaptureMode
    payment_method: MethodView
    reference: str | None = None
    description: str | None = None
    metadata: dict[str, str]
    provider: str | None = None
    provider_reference: str | None = None
    decline: DeclineView | None = None
    next_action: dict[str, Any] | None = None
    route: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime
    attempts: list[AttemptView]
    refunds: list[RefundView]

    @classmethod
    def of(cls, p: Payment) -> PaymentView:
        """From the aggregate."""
        return cls(
            id=p.id,
            status=p.status,
            amount=p.amount,
            currency=p.currency,
            authorized=p.authorized,
            captured=p.captured,
            refunded=p.refunded,
            fees=p.fees,
            capture=p.capture_mode,
            payment_method=MethodView(
                type=p.method_type,
                brand=p.brand,
                funding=p.funding,
                issuer_country=p.issuer_country,
                last4=p.last4,
            ),
            reference=p.reference,
            description=p.description,
            metadata=p.metadata,
            provider=p.provider,
            provider_reference=p.provider_reference,
            decline=DeclineView(code=p.decline_code, message=p.decline_message)
            if p.decline_code
            else None,
            next_action=p.next_action,
            route=p.route,
            created_at=p.created_at,
            updated_at=p.updated_at,
            attempts=[AttemptView.of(a) for a in p.attempts],
            refunds=[RefundView.of(r) for r in p.refunds],
        )
