"""The payment aggregate: a payment, its attempts and refunds, and how results change them.

Every change is also written to `changes` (attempts touched, events, ledger postings, merchant
events), which the store persists in one transaction together with the payment row. Results
from a synchronous call and from a webhook go through the same `record_*` methods, so a
webhook that confirms what the response already said changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gatewayhub import ledger, lifecycle
from gatewayhub.errors import Decision, Decline, DeclineCode, InvalidState
from gatewayhub.idempotency import provider_key
from gatewayhub.models import (
    AttemptStatus,
    CaptureMode,
    EventKind,
    NextAction,
    Operation,
    PaymentMethodType,
    PaymentResult,
    PaymentStatus,
    ProviderEvent,
    ProviderStatus,
    RefundResult,
    RefundStatus,
)
from gatewayhub.money import Money

log = logging.getLogger("gatewayhub.payment")
S = PaymentStatus
OPEN_ATTEMPT = frozenset({AttemptStatus.STARTED, AttemptStatus.UNKNOWN, AttemptStatus.PENDING})
_SETTLED_ATTEMPT = frozenset(
    {AttemptStatus.SUCCEEDED, AttemptStatus.DECLINED, AttemptStatus.NOT_SENT}
)
# What a payment-level webhook means for a payment that has no resolved authorization yet.
_EVENT_STATUS = {
    EventKind.AUTHORIZED: ProviderStatus.AUTHORIZED,
    EventKind.CAPTURED: ProviderStatus.CAPTURED,
    EventKind.CANCELED: ProviderStatus.CANCELED,
    EventKind.FAILED: ProviderStatus.DECLINED,
    EventKind.REQUIRES_ACTION: ProviderStatus.REQUIRES_ACTION,
    EventKind.PENDING: ProviderStatus.PENDING,
}
_NEVER_TAKEN = Decline(
    DeclineCode.PROCESSING_ERROR,
    Decision.FINAL,
    "not_found",
    "the provider never took the payment; nothing was charged",
)
UNKNOWN_OUTCOME_RESOLVED = "payment.unknown_outcome_resolved"
LOOKUP_NOT_FOUND = "lookup: no such payment"
"""The message of an attempt a lookup settled as never received by the provider."""
FeeFor = Callable[[str, int], int]
"""(provider account, captured amount) -> estimated fee in minor units."""


@dataclass(slots=True)
class Attempt:
    """One operation sent to one provider, with every same-key retry of it."""

    id: str
    payment_id: str
    seq: int
    operation: Operation
    provider: str
    key: str
    amount: int
    currency: str
    status: AttemptStatus
    started_at: datetime
    finished_at: datetime | None = None
    provider_reference: str | None = None
    decline_code: str | None = None
    decision: str | None = None
    provider_code: str | None = None
    message: str | None = None
    refund_id: str | None = None
    final: bool = True
    tries: int = 0

    @property
    def open(self) -> bool:
        """Waiting for an answer (or a reconciliation)."""
        return self.status in OPEN_ATTEMPT


@dataclass(slots=True)
class Refund:
    """Money given back on a captured payment."""

    id: str
    payment_id: str
    amount: int
    currency: str
    status: RefundStatus
    created_at: datetime
    updated_at: datetime
    reason: str | None = None
    provider_reference: str | None = None
    decline_code: str | None = None


@dataclass(slots=True)
class Event:
    """One entry of a payment's history."""

    type: str
    at: datetime
    from_status: str | None = None
    to_status: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class OutboxMessage:
    """A merchant webhook to deliver, written in the same transaction as the change."""

    type: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AttemptChange:
    """An attempt moving from one status to another (`before` is None when it starts)."""

    provider: str
    operation: Operation
    before: AttemptStatus | None
    after: AttemptStatus


@dataclass(slots=True)
class Changes:
    """What happened since the payment was loaded; flushed by the store in one transaction."""

    new_attempts: list[Attempt] = field(default_factory=list)
    touched_attempts: dict[str, Attempt] = field(default_factory=dict)
    new_refunds: list[Refund] = field(default_factory=list)
    touched_refunds: dict[str, Refund] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    postings: list[ledger.Posting] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    # Not written: told to the service's observers (metrics) once the rest is committed.
    attempt_changes: list[AttemptChange] = field(default_factory=list)


@dataclass(slots=True)
class Payment:
    """A payment and everything that happened to it."""

    id: str
    merchant_id: str
    status: PaymentStatus
    amount: int
    currency: str
    capture_mode: CaptureMode
    method_type: PaymentMethodType
    created_at: datetime
    updated_at: datetime
    brand: str | None = None
    funding: str | None = None
    issuer_country: str | None = None
    last4: str | None = None
    reference: str | None = None
    description: str | None = None
    customer_country: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    provider: str | None = None
    provider_reference: str | None = None
    authorized: int = 0
    captured: int = 0
    refunded: int = 0
    fees: int = 0
    decline_code: str | None = None
    decline_message: str | None = None
    next_action: dict[str, Any] | None = None
    route: dict[str, Any] | None = None
    version: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)

    # -- helpers ------------------------------------------------------------------------------

    @property
    def money(self) -> Money:
        """The requested amount."""
        return Money(self.amount, self.currency)

    def _touch(self, attempt: Attempt) -> None:
        if attempt not in self.changes.new_attempts:
            self.changes.touched_attempts[attempt.id] = attempt

    def _touch_refund(self, refund: Refund) -> None:
        if refund not in self.changes.new_refunds:
            self.changes.touched_refunds[refund.id] = refund

    def summary(self) -> dict[str, Any]:
        """The payload of merchant events."""
        return {
            "id": self.id,
            "status": self.status.value,
            "amount": self.amount,
            "currency": self.currency,
            "captured": self.captured,
            "refunded": self.refunded,
            "reference": self.reference,
            "provider": self.provider,
        }

    def note(self, type_: str, now: datetime, **data: Any) -> None:
        """Add a history entry that does not change the status."""
        self.changes.events.append(Event(type_, now, data=data))

    def _move(self, target: S, now: datetime, **data: Any) -> None:
        if target == self.status:
            return
        lifecycle.ensure_allowed(self.status, target, f"move to {target.value}")
        previous = self.status
        self.status = target
        self.updated_at = now
        self.changes.events.append(
            Event(f"payment.{target.value}", now, previous.value, target.value, data)
        )
        summary = self.summary()
        for message in self.changes.outbox:
            if message.type == UNKNOWN_OUTCOME_RESOLVED:
                # The resolution is reported with the status it led to, not the one before.
                message.payload.update(summary)
        self.changes.outbox.append(OutboxMessage(f"payment.{target.value}", summary))

    def attempt(self, attempt_id: str) -> Attempt:
        """The attempt with id `attempt_id` (it must exist)."""
        for attempt in self.attempts:
            if attempt.id == attempt_id:
                return attempt
        raise KeyError(attempt_id)

    def attempt_by_key(self, key: str) -> Attempt | None:
        """The attempt that sent idempotency key `key`."""
        return next((a for a in self.attempts if a.key == key), None)

    def open_attempts(self, operation: Operation | None = None) -> list[Attempt]:
        """Attempts still waiting for their outcome."""
        return [
            a for a in self.attempts if a.open and (operation is None or a.operation == operation)
        ]

    def resumable_attempts(self) -> list[Attempt]:
        """Authorize attempts a resumed request sends again with their own key: those still
        open, and, while the payment is pending, those a lookup found absent at the
        provider (their request may yet land; the same key cannot charge twice)."""
        return [
            a
            for a in self.attempts
            if a.operation is Operation.AUTHORIZE
            and (a.open or (self.status is S.PENDING and _looked_up_absent(a)))
        ]

    def unsettled_attempts(self) -> list[Attempt]:
        """Open attempts, and an authorization still waiting for the customer: what a lookup
        at the provider can settle."""
        return [
            a
            for a in self.attempts
            if a.open
            or (a.status is AttemptStatus.REQUIRES_ACTION and self.status is S.REQUIRES_ACTION)
        ]

    @property
    def pending_refund_total(self) -> int:
        """Refunds asked for but not yet settled (reserved against the captured amount)."""
        return sum(r.amount for r in self.refunds if r.status == RefundStatus.PENDING)

    # -- attempts -----------------------------------------------------------------------------

    def start_attempt(
        self,
        operation: Operation,
        provider: str,
        amount: int,
        now: datetime,
        attempt_id: str,
        *,
        refund_id: str | None = None,
        final: bool = True,
    ) -> Attempt:
        """Journal an attempt before its provider call, with its derived idempotency key."""
        seq = len(self.attempts) + 1
        attempt = Attempt(
            id=attempt_id,
            payment_id=self.id,
            seq=seq,
            operation=operation,
            provider=provider,
            key=provider_key(self.id, operation, seq),
            amount=amount,
            currency=self.currency,
            status=AttemptStatus.STARTED,
            started_at=now,
            refund_id=refund_id,
            final=final,
        )
        self.attempts.append(attempt)
        self.changes.new_attempts.append(attempt)
        self.changes.attempt_changes.append(
            AttemptChange(provider, operation, None, AttemptStatus.STARTED)
        )
        self.updated_at = now
        return attempt

    def _finish(
        self,
        attempt: Attempt,
        status: AttemptStatus,
        now: datetime,
        *,
        reference: str | None = None,
        decline: Decline | None = None,
        message: str | None = None,
    ) -> None:
        resolved = attempt.status is AttemptStatus.UNKNOWN and status not in OPEN_ATTEMPT
        if attempt.status is not status:
            self.changes.attempt_changes.append(
                AttemptChange(attempt.provider, attempt.operation, attempt.status, status)
            )
        attempt.status = status
        if status not in OPEN_ATTEMPT:
            attempt.finished_at = now
        if reference:
            attempt.provider_reference = reference
        if decline is not None:
            attempt.decline_code = decline.code.value
            attempt.decision = decline.decision.value
            attempt.provider_code = decline.provider_code
            attempt.message = decline.message or None
        elif message is not None:
            attempt.message = message
        self._touch(attempt)
        if resolved:
            self.changes.outbox.append(
                OutboxMessage(
                    UNKNOWN_OUTCOME_RESOLVED,
                    {
                        **self.summary(),
                        "attempt": attempt.id,
                        "operation": attempt.operation.value,
                        "attempt_provider": attempt.provider,
                        "outcome": status.value,
                    },
                )
            )

    def record_not_sent(
        self, attempt: Attempt, code: DeclineCode, message: str, now: datetime
    ) -> None:
        """The call certainly had no effect."""
        if not attempt.open:
            return
        attempt.decline_code = code.value
        self._finish(attempt, AttemptStatus.NOT_SENT, now, message=message)

    def record_unknown(self, attempt: Attempt, message: str, now: datetime) -> None:
        """The call may have had an effect; the payment waits for reconciliation."""
        if not attempt.open and not _looked_up_absent(attempt):
            return
        attempt.decline_code = DeclineCode.OUTCOME_UNKNOWN.value
        self._finish(attempt, AttemptStatus.UNKNOWN, now, message=message)
        if attempt.operation == Operation.AUTHORIZE and self.status in (
            S.PENDING,
            S.REQUIRES_ACTION,
        ):
            self._move(S.PROCESSING, now, attempt=attempt.id, provider=attempt.provider)

    # -- authorization ------------------------------------------------------------------------

    def record_authorization(
        self, attempt: Attempt, result: PaymentResult, now: datetime, fee_for: FeeFor
    ) -> None:
        """Apply a provider's answer to an authorize attempt. A decline only marks the attempt:
        the service decides between failing over and `fail`."""
        status = result.status
        approved = status in (ProviderStatus.AUTHORIZED, ProviderStatus.CAPTURED)
        # "Not sent" concluded from a lookup only says the provider had nothing *then*: a
        # request with this attempt's key still in flight (a resumed retry) may land after.
        # The provider's answer to that key is the truth and is never dropped.
        overtaken = status is not ProviderStatus.NOT_FOUND and _looked_up_absent(attempt)
        if attempt.status in _SETTLED_ATTEMPT and not overtaken:
            return  # already settled (by a webhook or an earlier answer): nothing new
        if overtaken:
            attempt.decline_code = attempt.message = None
        if approved and self.status not in lifecycle.UNSETTLED:
            # The provider took money for a payment we had closed: never hide it.
            self._finish(attempt, AttemptStatus.SUCCEEDED, now, reference=result.provider_reference)
            self.note(
                "payment.discrepancy",
                now,
                attempt=attempt.id,
                provider=attempt.provider,
                provider_status=status.value,
                payment_status=self.status.value,
            )
            return
        reference = result.provider_reference or attempt.provider_reference
        if status in (ProviderStatus.DECLINED, ProviderStatus.CANCELED, ProviderStatus.NOT_FOUND):
            decline = result.decline or Decline(
                DeclineCode.GENERIC_DECLINE, Decision.FINAL, result.raw_status or status.value
            )
            self._finish(attempt, AttemptStatus.DECLINED, now, reference=reference, decline=decline)
            return
        if status == ProviderStatus.PENDING:
            self._finish(attempt, AttemptStatus.PENDING, now, reference=reference)
            self._claim(attempt, reference)
            self._move(S.PROCESSING, now, provider=attempt.provider)
            return
        if status == ProviderStatus.REQUIRES_ACTION:
            self._finish(attempt, AttemptStatus.REQUIRES_ACTION, now, reference=reference)
            self._claim(attempt, reference)
            action = result.next_action or NextAction("redirect")
            self.next_action = {"type": action.type, "url": action.url, "data": dict(action.data)}
            self._move(
                S.REQUIRES_ACTION, now, provider=attempt.provider, next_action=self.next_action
            )
            return
        # Approved: authorized, or authorized and captured at once.
        self._finish(attempt, AttemptStatus.SUCCEEDED, now, reference=reference)
        self._claim(attempt, reference)
        self.next_action = None
        self.authorized = attempt.amount
        if status == ProviderStatus.CAPTURED:
            fee = (
                result.fee.amount
                if result.fee is not None
                else fee_for(attempt.provider, attempt.amount)
            )
            self.captured = attempt.amount
            self.fees += fee
            self.changes.postings.append(
                ledger.capture(attempt.provider, self.currency, attempt.amount, 0, fee)
            )
            self._move(S.CAPTURED, now, provider=attempt.provider, fee=fee)
        else:
            self.changes.postings.append(
                ledger.authorization(attempt.provider, self.currency, attempt.amount)
            )
            self._move(S.AUTHORIZED, now, provider=attempt.provider)

    def _claim(self, attempt: Attempt, reference: str | None) -> None:
        self.provider = attempt.provider
        if reference:
            self.provider_reference = reference

    def fail(self, decline: Decline, now: datetime) -> None:
        """No provider approved: the payment failed with `decline`."""
        if self.status not in lifecycle.UNSETTLED:
            return  # settled meanwhile (a webhook won the race): its outcome stands
        self.decline_code = decline.code.value
        self.decline_message = decline.message or None
        self.next_action = None
        self._move(S.FAILED, now, code=decline.code.value, provider_code=decline.provider_code)

    # -- capture and void ---------------------------------------------------------------------

    def check_capture(self, amount: int | None) -> int:
        """The amount to capture; raises `InvalidState` when it cannot be captured."""
        if self.status not in lifecycle.CAPTURABLE:
            raise InvalidState(f"cannot capture a payment that is {self.status.value}")
        self._check_no_open_operation()
        remaining = self.authorized - self.captured
        amount = remaining if amount is None else amount
        if amount > remaining:
            raise InvalidState(
                f"cannot capture {Money(amount, self.currency)}: only "
                f"{Money(remaining, self.currency)} of the authorization remains"
            )
        return amount

    def check_void(self) -> None:
        """Raise `InvalidState` unless the authorization can be released (or the order the
        customer has not completed yet can be closed)."""
        if self.status not in lifecycle.VOIDABLE:
            raise InvalidState(f"cannot void a payment that is {self.status.value}")
        self._check_no_open_operation()

    def _check_no_open_operation(self) -> None:
        busy = [
            a
            for a in self.attempts
            if a.open and a.operation in (Operation.CAPTURE, Operation.VOID)
        ]
        if busy:
            raise InvalidState(
                f"a {busy[0].operation.value} of this payment is still unresolved; "
                "sync the payment first"
            )

    def record_capture(
        self, attempt: Attempt, result: PaymentResult, now: datetime, fee_for: FeeFor
    ) -> None:
        """Apply a provider's answer to a capture attempt."""
        if attempt.status in _SETTLED_ATTEMPT:
            return
        if result.status == ProviderStatus.DECLINED:
            self._finish(attempt, AttemptStatus.DECLINED, now, decline=result.decline)
            return
        if result.status not in (ProviderStatus.CAPTURED, ProviderStatus.AUTHORIZED):
            self._finish(attempt, AttemptStatus.PENDING, now, reference=result.provider_reference)
            return
        self._finish(attempt, AttemptStatus.SUCCEEDED, now, reference=result.provider_reference)
        self._book_capture(attempt.provider, attempt.amount, attempt.final, result, now, fee_for)

    def _book_capture(
        self,
        provider: str,
        amount: int,
        final: bool,
        result: PaymentResult | None,
        now: datetime,
        fee_for: FeeFor,
    ) -> None:
        remaining = self.authorized - self.captured
        released = remaining if final else amount
        fee = (
            result.fee.amount
            if result is not None and result.fee is not None
            else fee_for(provider, amount)
        )
        self.captured += amount
        self.fees += fee
        self.changes.postings.append(ledger.capture(provider, self.currency, amount, released, fee))
        done = final or self.captured == self.authorized
        self._move(S.CAPTURED if done else S.PARTIALLY_CAPTURED, now, amount=amount, fee=fee)

    def record_void(self, attempt: Attempt, result: PaymentResult, now: datetime) -> None:
        """Apply a provider's answer to a void attempt."""
        if attempt.status in _SETTLED_ATTEMPT:
            return
        if result.status == ProviderStatus.DECLINED:
            self._finish(attempt, AttemptStatus.DECLINED, now, decline=result.decline)
            return
        if result.status != ProviderStatus.CANCELED:
            self._finish(attempt, AttemptStatus.PENDING, now, reference=result.provider_reference)
            return
        self._finish(attempt, AttemptStatus.SUCCEEDED, now, reference=result.provider_reference)
        self._book_cancel(attempt.provider, now)

    def _book_cancel(self, provider: str, now: datetime) -> None:
        held = self.authorized - self.captured
        if held and self.status == S.AUTHORIZED:
            self.changes.postings.append(ledger.release(provider, self.currency, held))
        for attempt in self.attempts:
            # An order the customer never completed is closed with the payment.
            if (
                attempt.operation is Operation.AUTHORIZE
                and attempt.status is AttemptStatus.REQUIRES_ACTION
            ):
                canceled = Decline(
                    DeclineCode.GENERIC_DECLINE, Decision.FINAL, "canceled", "canceled"
                )
                self._finish(attempt, AttemptStatus.DECLINED, now, decline=canceled)
        self.next_action = None
        self._move(S.CANCELED, now)

    # -- refunds ------------------------------------------------------------------------------

    def check_refund(self, amount: int | None) -> int:
        """The amount to refund; raises `InvalidState` when it cannot be refunded."""
        if self.status not in lifecycle.REFUNDABLE:
            raise InvalidState(f"cannot refund a payment that is {self.status.value}")
        available = self.captured - self.refunded - self.pending_refund_total
        amount = available if amount is None else amount
        if amount <= 0 or amount > available:
            raise InvalidState(
                f"cannot refund {Money(max(amount, 0), self.currency)}: "
                f"{Money(max(available, 0), self.currency)} is refundable"
            )
        return amount

    def start_refund(
        self, refund_id: str, amount: int, reason: str | None, now: datetime
    ) -> Refund:
        """Create a pending refund (its amount is reserved at once)."""
        refund = Refund(
            id=refund_id,
            payment_id=self.id,
            amount=amount,
            currency=self.currency,
            status=RefundStatus.PENDING,
            created_at=now,
            updated_at=now,
            reason=reason,
        )
        self.refunds.append(refund)
        self.changes.new_refunds.append(refund)
        self.note("refund.created", now, refund=refund_id, amount=amount)
        return refund

    def refund_by_id(self, refund_id: str) -> Refund | None:
        """The refund with our id `refund_id`."""
        return next((r for r in self.refunds if r.id == refund_id), None)

    def record_refund(
        self, refund: Refund, attempt: Attempt | None, result: RefundResult, now: datetime
    ) -> None:
        """Apply a provider's answer to a refund (from its call or a webhook)."""
        if refund.status != RefundStatus.PENDING:
            return  # already settled; a repeated answer changes nothing
        if result.provider_reference:
            refund.provider_reference = result.provider_reference
        refund.updated_at = now
        self._touch_refund(refund)
        if result.status == RefundStatus.PENDING:
            if attempt is not None:
                self._finish(
                    attempt, AttemptStatus.PENDING, now, reference=result.provider_reference
                )
            return
        if result.status == RefundStatus.FAILED:
            refund.status = RefundStatus.FAILED
            refund.decline_code = result.decline.code.value if result.decline else None
            if attempt is not None:
                self._finish(attempt, AttemptStatus.DECLINED, now, decline=result.decline)
            self.note("refund.failed", now, refund=refund.id, code=refund.decline_code)
            self.changes.outbox.append(
                OutboxMessage("refund.failed", {"refund": refund.id, **self.summary()})
            )
            return
        refund.status = RefundStatus.SUCCEEDED
        if attempt is not None:
            self._finish(attempt, AttemptStatus.SUCCEEDED, now, reference=result.provider_reference)
        provider = self.provider or (attempt.provider if attempt else "unknown")
        self.refunded += refund.amount
        self.changes.postings.append(
            ledger.refund(provider, self.currency, refund.amount, refund.id)
        )
        done = self.refunded == self.captured and self.status != S.PARTIALLY_CAPTURED
        self._move(
            S.REFUNDED if done else S.PARTIALLY_REFUNDED,
            now,
            refund=refund.id,
            amount=refund.amount,
        )
        self.changes.outbox.append(
            OutboxMessage("refund.succeeded", {"refund": refund.id, **self.summary()})
        )

    # -- lookups ------------------------------------------------------------------------------

    def record_lookup(
        self,
        attempt: Attempt,
        result: PaymentResult,
        now: datetime,
        fee_for: FeeFor,
        *,
        resumable: bool = False,
        conclusive: bool = True,
    ) -> None:
        """Settle an open attempt with what a lookup at its provider found.

        `resumable`: a client request on this payment is still unanswered and will be
        retried with its idempotency key; an authorization the provider never received then
        leaves the payment pending for that retry to take, instead of failing it.
        `conclusive`: the attempt's send window has passed, so finding nothing proves it
        never arrived; before that only what the lookup found settles it."""
        if attempt not in self.unsettled_attempts():
            return
        self.note("payment.synced", now, attempt=attempt.id, provider_status=result.status.value)
        if attempt.operation is Operation.AUTHORIZE:
            if result.status is ProviderStatus.NOT_FOUND and not conclusive:
                return
            self._lookup_authorization(attempt, result, now, fee_for, resumable)
        elif attempt.operation is Operation.CAPTURE:
            captured = result.captured.amount if result.captured else None
            if captured is not None and captured >= self.captured + attempt.amount:
                done = PaymentResult(ProviderStatus.CAPTURED, result.provider_reference)
                self.record_capture(attempt, done, now, fee_for)
            elif result.status is ProviderStatus.AUTHORIZED and conclusive:
                self.record_not_sent(
                    attempt, DeclineCode.OUTCOME_UNKNOWN, "lookup: no capture", now
                )
        elif attempt.operation is Operation.VOID:
            if result.status is ProviderStatus.CANCELED:
                self.record_void(attempt, result, now)
            elif result.status is ProviderStatus.AUTHORIZED and conclusive:
                self.record_not_sent(attempt, DeclineCode.OUTCOME_UNKNOWN, "lookup: no void", now)
        elif attempt.refund_id:
            refund = self.refund_by_id(attempt.refund_id)
            refunded = result.refunded.amount if result.refunded else None
            if (
                refund is not None
                and refunded is not None
                and refunded >= self.refunded + refund.amount
            ):
                self.record_refund(refund, attempt, RefundResult(RefundStatus.SUCCEEDED), now)

    def _lookup_authorization(
        self,
        attempt: Attempt,
        result: PaymentResult,
        now: datetime,
        fee_for: FeeFor,
        resumable: bool,
    ) -> None:
        if result.status is ProviderStatus.PENDING:
            return
        if result.status is not ProviderStatus.NOT_FOUND:
            self.record_authorization(attempt, result, now, fee_for)
            if result.status is ProviderStatus.DECLINED:
                self.fail(attempt_decline(attempt), now)
            return
        self.record_not_sent(attempt, DeclineCode.OUTCOME_UNKNOWN, LOOKUP_NOT_FOUND, now)
        if self.open_attempts(Operation.AUTHORIZE):
            return
        if resumable:
            # The request that journaled the attempt died before the provider heard of it;
            # its client retries with the same key and that retry carries the payment on.
            # Failing it here would answer that retry "declined" for a card never tried.
            self.note("payment.awaiting_retry", now, attempt=attempt.id)
            return
        self.fail(_NEVER_TAKEN, now)

    # -- provider events ----------------------------------------------------------------------

    def apply_event(self, event: ProviderEvent, now: datetime, fee_for: FeeFor) -> bool:
        """Apply a webhook event; returns False when it changed nothing (stale or repeated)."""
        before = (self.status, self.captured, self.refunded, len(self.changes.events))
        if event.kind in (EventKind.REFUND_SUCCEEDED, EventKind.REFUND_FAILED):
            self._apply_refund_event(event, now)
        elif event.kind != EventKind.UNHANDLED:
            self._apply_payment_event(event, now, fee_for)
        changed = before != (self.status, self.captured, self.refunded, len(self.changes.events))
        self.note(
            "webhook.applied" if changed else "webhook.ignored",
            now,
            event=event.event_id,
            type=event.raw_type,
        )
        return changed

    def _attempt_for(self, event: ProviderEvent, operation: Operation) -> Attempt | None:
        if event.attempt_key:
            attempt = self.attempt_by_key(event.attempt_key)
            # A key naming another operation's attempt (a capture event that carries the
            # authorization's key) says nothing about this operation's attempts.
            if attempt is not None and attempt.operation is operation:
                return attempt
        candidates = [a for a in self.attempts if a.operation == operation]
        if event.provider_reference:
            for attempt in reversed(candidates):
                if attempt.provider_reference == event.provider_reference:
                    return attempt
        open_ = [a for a in candidates if a.open or a.status == AttemptStatus.REQUIRES_ACTION]
        return open_[-1] if open_ else None

    def _apply_payment_event(  # noqa: PLR0912 - one branch per event kind and state
        self, event: ProviderEvent, now: datetime, fee_for: FeeFor
    ) -> None:
        status = _EVENT_STATUS[event.kind]
        result = PaymentResult(
            status=status,
            provider_reference=event.provider_reference,
            money=event.money,
            decline=event.decline,
            raw_status=event.raw_type,
        )
        if self.status in lifecycle.UNSETTLED:
            attempt = self._attempt_for(event, Operation.AUTHORIZE)
            if attempt is None or attempt.status == AttemptStatus.DECLINED:
                return
            if status == ProviderStatus.CANCELED:
                self._finish(
                    attempt,
                    AttemptStatus.DECLINED,
                    now,
                    decline=Decline(
                        DeclineCode.GENERIC_DECLINE, Decision.FINAL, event.raw_type, "canceled"
                    ),
                )
                self._book_cancel(attempt.provider, now)
                return
            if status == ProviderStatus.CAPTURED and self.capture_mode == CaptureMode.MANUAL:
                # A capture event for a manual-capture payment still waiting on its
                # authorization: first the authorization, then the capture itself.
                self.record_authorization(
                    attempt,
                    PaymentResult(ProviderStatus.AUTHORIZED, event.provider_reference),
                    now,
                    fee_for,
                )
                self._book_capture(attempt.provider, self.authorized, True, None, now, fee_for)
                return
            self.record_authorization(attempt, result, now, fee_for)
            if status == ProviderStatus.DECLINED:
                self.fail(attempt_decline(attempt, event), now)
            return
        if event.kind == EventKind.CAPTURED and self.status in lifecycle.CAPTURABLE:
            attempt = self._attempt_for(event, Operation.CAPTURE)
            if attempt is not None and attempt.open:
                self.record_capture(attempt, result, now, fee_for)
            elif attempt is None and self.provider is not None:
                if event.captured is not None:
                    amount = event.captured.amount - self.captured
                elif event.money is not None:
                    amount = event.money.amount
                else:
                    amount = self.authorized - self.captured
                if 0 < amount <= self.authorized - self.captured:
                    self.note("capture.external", now, amount=amount, event=event.event_id)
                    self._book_capture(self.provider, amount, True, None, now, fee_for)
            return
        if event.kind == EventKind.CANCELED and self.status == S.AUTHORIZED:
            attempt = self._attempt_for(event, Operation.VOID)
            if attempt is not None and attempt.open:
                self.record_void(attempt, result, now)
            elif self.provider is not None:
                self._book_cancel(self.provider, now)
            return
        if event.kind == EventKind.FAILED and self.status in lifecycle.CAPTURABLE:
            self._fail_modification(event, now)
            return
        if (
            event.kind is EventKind.AUTHORIZED
            and self.status is S.CANCELED
            and event.provider_reference == self.provider_reference
        ):
            return  # the voided charge's own authorization, delivered late: stale
        if event.kind in (EventKind.AUTHORIZED, EventKind.CAPTURED) and self.status in (
            S.FAILED,
            S.CANCELED,
        ):
            # The provider reports money taken for a payment we closed: never drop that.
            log.error(
                "payment %s is %s but %s reports %s (event %s)",
                self.id,
                self.status.value,
                self.provider,
                event.raw_type,
                event.event_id,
            )
            self.note(
                "payment.discrepancy",
                now,
                event=event.event_id,
                provider_status=event.raw_type,
                payment_status=self.status.value,
            )

    def _fail_modification(self, event: ProviderEvent, now: datetime) -> None:
        """A capture or void the provider accepted ("received") and then refused: the open
        attempt is declined and the authorization stays as it was, capturable or voidable."""
        for operation in (Operation.CAPTURE, Operation.VOID):
            attempt = self._attempt_for(event, operation)
            if attempt is None or attempt.operation is not operation or not attempt.open:
                continue
            decline = event.decline or Decline(
                DeclineCode.GENERIC_DECLINE, Decision.FINAL, event.raw_type
            )
            self._finish(attempt, AttemptStatus.DECLINED, now, decline=decline)
            self.note(f"{operation.value}.failed", now, attempt=attempt.id, code=decline.code.value)
            return

    def _apply_refund_event(self, event: ProviderEvent, now: datetime) -> None:
        refund = self.refund_by_id(event.refund_id) if event.refund_id else None
        if refund is None and event.refund_reference:
            refund = next(
                (r for r in self.refunds if r.provider_reference == event.refund_reference), None
            )
        attempt = self.attempt_by_key(event.attempt_key) if event.attempt_key else None
        if refund is None and attempt is not None and attempt.refund_id:
            refund = self.refund_by_id(attempt.refund_id)
        if refund is None:
            return
        if attempt is None:
            attempt = next((a for a in self.attempts if a.refund_id == refund.id and a.open), None)
        status = (
            RefundStatus.SUCCEEDED
            if event.kind == EventKind.REFUND_SUCCEEDED
            else RefundStatus.FAILED
        )
        self.record_refund(
            refund,
            attempt,
            RefundResult(
                status, event.refund_reference, event.money, event.decline, event.raw_type
            ),
            now,
        )


def _looked_up_absent(attempt: Attempt) -> bool:
    """Settled "not sent" only because a lookup found nothing at the provider."""
    return attempt.status is AttemptStatus.NOT_SENT and attempt.message == LOOKUP_NOT_FOUND


def attempt_decline(attempt: Attempt, event: ProviderEvent | None = None) -> Decline:
    """The decline recorded on `attempt` (or carried by `event`) as a value."""
    if event is not None and event.decline is not None:
        return event.decline
    code = (
        DeclineCode(attempt.decline_code) if attempt.decline_code else DeclineCode.GENERIC_DECLINE
    )
    decision = Decision(attempt.decision) if attempt.decision else Decision.FINAL
    return Decline(code, decision, attempt.provider_code or code.value, attempt.message or "")
