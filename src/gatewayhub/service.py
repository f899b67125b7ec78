"""The payment use cases: authorize, capture, void, refund, sync, and reading payments.

The rule that shapes everything here: an attempt is written to the database before its
provider call, with an idempotency key derived from (payment, attempt). Whatever happens
next - a timeout, a crash, a duplicate request - the attempt is found again and settled with
the same provider (same-key replay, lookup or webhook) before anything else may be tried.

Every change to a payment is a *step*: a function applied to the payment and saved with it.
When a webhook changed the payment in between (the save finds a newer version), the payment
is reloaded and the step applied again; steps are written so that re-applying one to a
payment that already knows the outcome changes nothing.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from gatewayhub.clock import Clock
from gatewayhub.errors import (
    Decision,
    Decline,
    DeclineCode,
    IdempotencyConflict,
    InvalidRequest,
    InvalidState,
    NoEligibleProvider,
    NotFound,
    NotSent,
    OperationPending,
    OutcomeUnknown,
    ProviderError,
    RequestInProgress,
)
from gatewayhub.health import Health
from gatewayhub.idempotency import fingerprint
from gatewayhub.ids import new_id
from gatewayhub.models import (
    AttemptStatus,
    AuthorizeCall,
    AuthorizeRequest,
    CaptureCall,
    CaptureMode,
    CaptureRequest,
    Operation,
    PaymentResult,
    PaymentStatus,
    ProviderEvent,
    ProviderStatus,
    RefundCall,
    RefundRequest,
    RefundResult,
    RefundStatus,
    RetrieveCall,
    VoidCall,
)
from gatewayhub.money import Money
from gatewayhub.payment import Attempt, AttemptChange, Changes, Payment, Refund, attempt_decline
from gatewayhub.provider import Provider, UnsupportedOperation, check_echo
from gatewayhub.retry import Action, RetryPolicy, call_with_retries, decide
from gatewayhub.routing import ProviderProfile, RouteDecision, Router, RouteRequest
from gatewayhub.storage.statements import EncodedJSON
from gatewayhub.storage.store import (
    CORE_ANSWER,
    ClaimOutcome,
    KeyCompletion,
    KeyRequest,
    Store,
    VersionConflict,
)
from gatewayhub.views import PaymentView

log = logging.getLogger("gatewayhub.service")
R = TypeVar("R", PaymentResult, RefundResult)
Step = Callable[[Payment], None]
_SAVE_RETRIES = 8
_NO_PROVIDER = Decline(
    DeclineCode.PROVIDER_UNAVAILABLE,
    Decision.FINAL,
    "no_provider_reachable",
    "no provider could be reached; nothing was charged",
)


def _nothing(_: Payment) -> None:
    """A step that changes nothing (used to save what is already in memory)."""


def _ignore(_: Attempt) -> None:
    """No use for the attempt a resumed request had journaled."""


def _note_request(
    p: Payment, operation: Operation, attempt_id: str, key: KeyRequest | None, now: datetime
) -> None:
    """Record which keyed request journaled `attempt_id`, in the same transaction, so a retry
    of a request that died knows what it had done (`PaymentService._journaled_by`)."""
    if key is not None:
        p.note(f"{operation.value}.requested", now, attempt=attempt_id, idempotency_key=key.key)


class _Next(Enum):
    DONE = "done"  # the payment has its answer for now
    RETRY = "retry"  # a new attempt with the same provider
    FAILOVER = "failover"  # the next candidate


@dataclass(slots=True)
class _Run:
    """Budgets of one authorization flow."""

    deadline: float
    key: KeyRequest | None = None
    cascades: int = 0
    decline_retries: int = 0
    last_decline: Decline | None = None
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ProviderAccount:
    """A configured account: its adapter and how routing sees it."""

    adapter: Provider
    profile: ProviderProfile

    @property
    def name(self) -> str:
        """The account name."""
        return self.profile.account


# Told every committed attempt change, whatever started it (an API request, the SDK, the
# reconciler, a provider webhook): how /metrics counts provider calls.
AttemptObserver = Callable[[Sequence[AttemptChange]], None]


class PaymentService:
    """Use cases over the store, the router, provider health and the adapters."""

    def __init__(
        self,
        *,
        store: Store,
        accounts: Mapping[str, ProviderAccount],
        router: Router,
        health: Health,
        policy: RetryPolicy,
        clock: Clock,
        rng: random.Random | None = None,
        key_lease: timedelta = timedelta(seconds=60),
        send_window: timedelta = timedelta(0),
        observers: Sequence[AttemptObserver] = (),
    ) -> None:
        self.store = store
        self.accounts = dict(accounts)
        self.router = router
        self.health = health
        self.policy = policy
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - ids' entropy comes from here in tests only
        self.key_lease = key_lease
        # How long after its start an attempt may still reach its provider (`Hub`): a
        # lookup finding nothing sooner proves nothing.
        self.send_window = send_window
        self.observers = observers

    # -- reading ------------------------------------------------------------------------------

    async def get(self, merchant_id: str | None, payment_id: str) -> Payment:
        """The payment, or `NotFound` (also when it belongs to another merchant)."""
        payment = await self.store.load(payment_id, merchant_id)
        if payment is None:
            raise NotFound(f"no payment {payment_id!r}")
        return payment

    def explain(self, request: AuthorizeRequest, payment_id: str = "preview") -> RouteDecision:
        """Where a payment like `request` would go now, and why (nothing is stored or sent)."""
        return self.router.route(self._route_request(request, payment_id), self.health)

    # -- authorize ----------------------------------------------------------------------------

    async def authorize(
        self, merchant_id: str, request: AuthorizeRequest, idempotency_key: str | None = None
    ) -> Payment:
        """Take a payment. A decline is an outcome (status `failed`), not an exception."""
        if request.provider is not None and request.provider not in self.accounts:
            raise InvalidRequest(f"unknown provider account {request.provider!r}", field="provider")
        key = self._key_request(
            merchant_id, idempotency_key, "authorize", request.model_dump(mode="json")
        )
        now = self.clock.now()
        payment = self._new_payment(merchant_id, request)
        decision = self.router.route(self._route_request(request, payment.id), self.health)
        if not decision.candidates:
            raise NoEligibleProvider(
                f"no provider account can take {request.money} "
                f"by {request.payment_method.type.value}",
                decision.exclusion_text(),
            )
        payment.route = decision.to_dict()
        payment.note("payment.routed", now, candidates=decision.accounts, rule=decision.rule)
        # The first attempt is journaled in the transaction that creates the payment: it is
        # on disk before the provider hears of it, at the cost of no extra round trip.
        payment.start_attempt(
            Operation.AUTHORIZE,
            decision.candidates[0].account,
            payment.amount,
            now,
            self._attempt_id(),
        )
        changes = payment.changes
        claim = await self.store.create_payment(payment, key, now)
        if claim.outcome is ClaimOutcome.NEW:
            self._committed(changes)
            return await self._authorize_flow(payment, request, decision, key)
        if claim.outcome is ClaimOutcome.RESUME:
            resumed = await self.get(merchant_id, str(claim.resource_id))
            resumed.note("payment.resumed", now, reason="the first request's lease expired")
            return await self._authorize_flow(resumed, request, None, key, resumed=True)
        return await self._answer_claim(merchant_id, claim.outcome, claim.resource_id)

    async def _authorize_flow(
        self,
        payment: Payment,
        request: AuthorizeRequest,
        decision: RouteDecision | None,
        key: KeyRequest | None,
        *,
        resumed: bool = False,
    ) -> Payment:
        run = _Run(deadline=self.clock.monotonic() + self.policy.deadline, key=key)
        # Open attempts come first: the one journaled with a new payment, or, on a resumed
        # payment, one whose answer never reached the database - settled with the same
        # provider and the same key before anything else is tried.
        for open_attempt in payment.resumable_attempts():
            account = self.accounts.get(open_attempt.provider)
            if account is None:
                continue
            # On a resumed payment the open attempt may have reached the provider before
            # its process died: a "not sent" now proves nothing about that first send.
            payment, next_ = await self._authorize_attempt(
                payment, open_attempt.id, account, request, run, maybe_sent=resumed
            )
            while next_ is _Next.RETRY:
                payment, next_ = await self._new_attempt(payment, account, request, run)
            if next_ is _Next.DONE:
                return payment
        if payment.status is not PaymentStatus.PENDING:
            return await self._commit(payment, _nothing, key)

        if decision is None:
            decision = self.router.route(self._route_request(request, payment.id), self.health)
        tried = {a.provider for a in payment.attempts if a.operation is Operation.AUTHORIZE}
        for candidate in decision.candidates:
            if candidate.account in tried:
                continue
            if len(tried) >= self.policy.max_providers:
                break
            tried.add(candidate.account)
            account = self.accounts[candidate.account]
            run.decline_retries = 0
            next_ = _Next.RETRY
            while next_ is _Next.RETRY:
                payment, next_ = await self._new_attempt(payment, account, request, run)
            if next_ is _Next.DONE:
                return payment

        decline = run.last_decline or _NO_PROVIDER
        now = self.clock.now()
        return await self._commit(payment, lambda p: p.fail(decline, now), key)

    async def _new_attempt(
        self, payment: Payment, account: ProviderAccount, request: AuthorizeRequest, run: _Run
    ) -> tuple[Payment, _Next]:
        """Journal a new authorize attempt at `account`, then send it."""
        attempt_id = self._attempt_id()
        now = self.clock.now()

        def start(p: Payment) -> None:
            p.start_attempt(Operation.AUTHORIZE, account.name, p.amount, now, attempt_id)

        payment = await self._commit(payment, start)
        return await self._authorize_attempt(payment, attempt_id, account, request, run)

    async def _authorize_attempt(
        self,
        payment: Payment,
        attempt_id: str,
        account: ProviderAccount,
        request: AuthorizeRequest,
        run: _Run,
        *,
        maybe_sent: bool = False,
    ) -> tuple[Payment, _Next]:
        """Send one authorize attempt (with its same-key retries) and apply what came back."""
        attempt = payment.attempt(attempt_id)
        call = self._authorize_call(payment, attempt_id, request)
        outcome, tries = await self._call(
            account,
            call.money,
            lambda: account.adapter.authorize(call),
            run.deadline,
            maybe_sent=maybe_sent,
        )
        result: PaymentResult
        if isinstance(outcome, ProviderError):
            settled = await self._settle_error(
                payment, attempt_id, account, outcome, tries, run.key
            )
            if isinstance(settled, tuple):
                return settled
            result = settled
        else:
            result = outcome
        now = self.clock.now()
        fee_for = self._fee_for(payment)

        def record(p: Payment) -> None:
            a = p.attempt(attempt_id)
            a.tries = max(a.tries, tries)
            p.record_authorization(a, result, now, fee_for)

        payment = await self._commit(payment, record, run.key)
        self._count_outcome(payment, account.name, result)
        attempt = payment.attempt(attempt_id)
        if attempt.status is not AttemptStatus.DECLINED:
            return payment, _Next.DONE
        run.last_decline = attempt_decline(attempt)
        verdict = decide(
            result,
            tries=tries,
            policy=self.policy,
            remaining=run.deadline - self.clock.monotonic(),
            cascades=run.cascades,
            decline_retries=run.decline_retries,
            rng=self.rng,
        )
        if verdict.action is Action.RETRY_SAME:
            run.decline_retries += 1
            payment = await self._commit(
                payment, self._noting("attempt.declined", attempt_id, verdict.reason)
            )
            await self.clock.sleep(verdict.delay)
            return payment, _Next.RETRY
        if verdict.action is Action.FAILOVER:
            if result.decline is not None and result.decline.decision is Decision.FINAL:
                run.cascades += 1
            payment = await self._commit(
                payment, self._noting("attempt.declined", attempt_id, verdict.reason)
            )
            return payment, _Next.FAILOVER
        decline = run.last_decline
        now = self.clock.now()

        def give_up(p: Payment) -> None:
            p.note("attempt.declined", now, attempt=attempt_id, reason=verdict.reason)
            p.fail(decline, now)

        return await self._commit(payment, give_up, run.key), _Next.DONE

    async def _settle_error(
        self,
        payment: Payment,
        attempt_id: str,
        account: ProviderAccount,
        error: ProviderError,
        tries: int,
        key: KeyRequest | None,
    ) -> PaymentResult | tuple[Payment, _Next]:
        """After a provider error: fail over when nothing moved, look it up otherwise.

        Returns the looked-up result to apply, or the payment and what to do next when the
        error settles the attempt by itself (not sent, or still unknown)."""
        verdict = decide(error, tries=tries, policy=self.policy, remaining=0, rng=self.rng)
        if verdict.action is not Action.FAILOVER:
            # A lookup that finds the payment settles the attempt. One that finds nothing
            # proves nothing yet: the last try may still be on its way to the provider (in
            # its queues, behind a slow answer), and failing over now would charge twice
            # when it lands. The attempt stays unknown; the reconciler looks again once its
            # send window has passed (`gateway.reconcile_after_seconds`).
            looked_up = await self._look_up(payment, attempt_id, account)
            if looked_up is not None and looked_up.status is not ProviderStatus.NOT_FOUND:
                return looked_up
            now = self.clock.now()

            def unknown(p: Payment) -> None:
                a = p.attempt(attempt_id)
                a.tries = max(a.tries, tries)
                p.record_unknown(a, str(error), now)
                p.note("attempt.unknown", now, attempt=attempt_id, reason=verdict.reason)

            return await self._commit(payment, unknown, key), _Next.DONE
        reason = verdict.reason
        now = self.clock.now()

        def not_sent(p: Payment) -> None:
            a = p.attempt(attempt_id)
            a.tries = max(a.tries, tries)
            p.record_not_sent(a, error.decline_code, str(error), now)
            p.note("attempt.failover", now, attempt=attempt_id, reason=reason)

        return await self._commit(payment, not_sent), _Next.FAILOVER

    def _authorize_call(
        self, payment: Payment, attempt_id: str, request: AuthorizeRequest
    ) -> AuthorizeCall:
        attempt = payment.attempt(attempt_id)
        return AuthorizeCall(
            payment_id=payment.id,
            key=attempt.key,
            money=Money(attempt.amount, payment.currency),
            capture=payment.capture_mode is CaptureMode.AUTOMATIC,
            method=request.payment_method,
            token=request.payment_method.token_for(attempt.provider),
            reference=payment.reference,
            description=payment.description,
            return_url=request.return_url,
            customer_country=request.customer_country,
            metadata=request.metadata,
            started_at=attempt.started_at,
        )

    def _new_payment(self, merchant_id: str, request: AuthorizeRequest) -> Payment:
        now = self.clock.now()
        method = request.payment_method
        payment = Payment(
            id=new_id("pay", now, self.rng.randbytes(10)),
            merchant_id=merchant_id,
            status=PaymentStatus.PENDING,
            amount=request.amount,
            currency=request.currency,
            capture_mode=request.capture,
            method_type=method.type,
            created_at=now,
            updated_at=now,
            brand=method.brand.value if method.brand else None,
            funding=method.funding.value if method.funding else None,
            issuer_country=method.issuer_country,
            last4=method.last4,
            reference=request.reference,
            description=request.description,
            customer_country=request.customer_country,
            metadata=dict(request.metadata),
        )
        payment.note("payment.created", now, amount=request.amount, currency=request.currency)
        return payment

    def _route_request(self, request: AuthorizeRequest, payment_id: str) -> RouteRequest:
        method = request.payment_method
        return RouteRequest(
            payment_id=payment_id,
            amount=request.amount,
            currency=request.currency,
            method=method.type,
            brand=method.brand.value if method.brand else None,
            issuer_country=method.issuer_country,
            customer_country=request.customer_country,
            manual_capture=request.capture is CaptureMode.MANUAL,
            token_accounts=frozenset(method.provider_tokens) if method.provider_tokens else None,
            pinned=request.provider,
        )

    # -- capture, void, refund ----------------------------------------------------------------

    async def capture(
        self,
        merchant_id: str,
        payment_id: str,
        request: CaptureRequest,
        idempotency_key: str | None = None,
    ) -> Payment:
        """Capture all or part of an authorization."""

        async def run(payment: Payment, key: KeyRequest | None) -> Payment:
            amount = payment.check_capture(request.amount)
            account = self._account_of(payment)
            caps = account.adapter.capabilities
            if amount < payment.authorized - payment.captured and not caps.partial_capture:
                raise InvalidState(f"{account.name} cannot capture part of an authorization")
            final = request.final or not caps.multiple_captures
            attempt_id = self._attempt_id()
            now = self.clock.now()

            def start(p: Payment) -> None:
                p.check_capture(amount)
                p.start_attempt(
                    Operation.CAPTURE, account.name, amount, now, attempt_id, final=final
                )
                _note_request(p, Operation.CAPTURE, attempt_id, key, now)

            payment = await self._commit(payment, start)
            call = CaptureCall(
                payment.id,
                payment.attempt(attempt_id).key,
                str(payment.provider_reference),
                Money(amount, payment.currency),
                final,
            )
            result = await self._modify(
                payment, attempt_id, account, call.money, lambda: account.adapter.capture(call)
            )
            fee_for = self._fee_for(payment)
            done = self.clock.now()
            payment = await self._commit(
                payment,
                lambda p: p.record_capture(p.attempt(attempt_id), result, done, fee_for),
                key,
            )
            return self._declined_raises(payment, attempt_id)

        return await self._operation(
            merchant_id,
            payment_id,
            idempotency_key,
            "capture",
            request.model_dump(mode="json"),
            run,
        )

    async def void(
        self, merchant_id: str, payment_id: str, idempotency_key: str | None = None
    ) -> Payment:
        """Release an authorization that was not captured."""

        async def run(payment: Payment, key: KeyRequest | None) -> Payment:
            payment.check_void()
            account = self._account_of(payment)
            if not account.adapter.capabilities.void:
                raise InvalidState(f"{account.name} cannot void; capture and refund instead")
            # An authorization releases what it holds; an order still waiting for the
            # customer is closed for its whole amount.
            held = (
                payment.authorized - payment.captured
                if payment.status is PaymentStatus.AUTHORIZED
                else payment.amount
            )
            attempt_id = self._attempt_id()
            now = self.clock.now()

            def start(p: Payment) -> None:
                p.check_void()
                p.start_attempt(Operation.VOID, account.name, held, now, attempt_id)
                _note_request(p, Operation.VOID, attempt_id, key, now)

            payment = await self._commit(payment, start)
            call = VoidCall(
                payment.id,
                payment.attempt(attempt_id).key,
                str(payment.provider_reference),
                Money(held, payment.currency),
            )
            result = await self._modify(
                payment, attempt_id, account, None, lambda: account.adapter.void(call)
            )
            done = self.clock.now()
            payment = await self._commit(
                payment, lambda p: p.record_void(p.attempt(attempt_id), result, done), key
            )
            return self._declined_raises(payment, attempt_id)

        return await self._operation(merchant_id, payment_id, idempotency_key, "void", {}, run)

    async def refund(
        self,
        merchant_id: str,
        payment_id: str,
        request: RefundRequest,
        idempotency_key: str | None = None,
    ) -> tuple[Payment, Refund]:
        """Refund all (no amount) or part of what was captured; several refunds may follow."""
        refund_ids: list[str] = []

        async def run(payment: Payment, key: KeyRequest | None) -> Payment:
            amount = payment.check_refund(request.amount)
            account = self._account_of(payment)
            caps = account.adapter.capabilities
            if not caps.refund:
                raise InvalidState(f"{account.name} cannot refund")
            if amount < payment.captured and not caps.partial_refund:
                raise InvalidState(f"{account.name} refunds only the full amount")
            if payment.refunds and not caps.multiple_refunds:
                raise InvalidState(f"{account.name} allows one refund per payment")
            now = self.clock.now()
            refund_id = new_id("rfd", now, self.rng.randbytes(10))
            refund_ids.append(refund_id)
            attempt_id = self._attempt_id()

            def start(p: Payment) -> None:
                p.check_refund(amount)
                p.start_refund(refund_id, amount, request.reason, now)
                p.start_attempt(
                    Operation.REFUND, account.name, amount, now, attempt_id, refund_id=refund_id
                )
                _note_request(p, Operation.REFUND, attempt_id, key, now)

            payment = await self._commit(payment, start)
            call = RefundCall(
                payment.id,
                refund_id,
                payment.attempt(attempt_id).key,
                str(payment.provider_reference),
                Money(amount, payment.currency),
                request.reason,
            )
            result = await self._modify(
                payment, attempt_id, account, call.money, lambda: account.adapter.refund(call)
            )
            done = self.clock.now()

            def record(p: Payment) -> None:
                refund = p.refund_by_id(refund_id)
                if refund is not None:
                    p.record_refund(refund, p.attempt(attempt_id), result, done)

            payment = await self._commit(payment, record, key)
            return self._declined_raises(payment, attempt_id)

        def resumed(attempt: Attempt) -> None:
            if attempt.refund_id is not None:
                refund_ids.append(attempt.refund_id)

        payment = await self._operation(
            merchant_id,
            payment_id,
            idempotency_key,
            "refund",
            request.model_dump(mode="json"),
            run,
            resumed,
        )
        refund = payment.refund_by_id(refund_ids[0]) if refund_ids else None
        if refund is None:
            refund = payment.refunds[-1] if payment.refunds else None
        if refund is None:
            raise NotFound("no refund on this payment")
        return payment, refund

    async def _operation(
        self,
        merchant_id: str,
        payment_id: str,
        idempotency_key: str | None,
        operation: str,
        payload: dict[str, Any],
        run: Callable[[Payment, KeyRequest | None], Awaitable[Payment]],
        resumed: Callable[[Attempt], None] = _ignore,
    ) -> Payment:
        payment = await self.get(merchant_id, payment_id)
        key = self._key_request(merchant_id, idempotency_key, f"{operation}:{payment_id}", payload)
        if key is not None:
            claim = await self.store.claim_key(key, payment_id, self.clock.now())
            if claim.outcome is ClaimOutcome.RESUME:
                payment = await self.sync(merchant_id, payment_id)
                attempt = await self._journaled_by(payment, key)
                if attempt is not None and attempt.open:
                    # Its outcome is still unknown: the key stays held (not answered), so a
                    # later retry resumes again and answers once the attempt is settled.
                    raise OperationPending(
                        f"the {attempt.operation.value} outcome at {attempt.provider} is "
                        "unknown; it will be reconciled",
                        payment.id,
                    )
                if attempt is not None and attempt.status is not AttemptStatus.NOT_SENT:
                    resumed(attempt)
                    return await self._commit(payment, _nothing, key)
                # The first request died before journaling its attempt, or its attempt
                # certainly never reached the provider: nothing happened, so it runs now.
            elif claim.outcome is not ClaimOutcome.NEW:
                return await self._answer_claim(merchant_id, claim.outcome, claim.resource_id)
        try:
            return await run(payment, key)
        except (InvalidState, InvalidRequest):
            if key is not None:
                await self.store.release_key(merchant_id, key.key)
            raise

    async def _journaled_by(self, payment: Payment, key: KeyRequest) -> Attempt | None:
        """The attempt the last request with `key` journaled (None: it died before it did).
        The last: a key whose request was not sent is released, and may be used again."""
        operation = key.operation.split(":", 1)[0]
        attempt_id = None
        for event in await self.store.events(payment.id):
            if (
                event.type == f"{operation}.requested"
                and event.data.get("idempotency_key") == key.key
            ):
                attempt_id = str(event.data["attempt"])
        return None if attempt_id is None else payment.attempt(attempt_id)

    async def _modify(
        self,
        payment: Payment,
        attempt_id: str,
        account: ProviderAccount,
        sent: Money | None,
        send: Callable[[], Awaitable[R]],
    ) -> R:
        """Run a capture/void/refund call. A failure is saved on the attempt and raised:
        `NotSent` as is (nothing happened), anything else as `OperationPending`."""
        outcome, tries = await self._call(
            account, sent, send, self.clock.monotonic() + self.policy.deadline
        )
        if not isinstance(outcome, ProviderError):
            return outcome
        verdict = decide(outcome, tries=tries, policy=self.policy, remaining=0, rng=self.rng)
        now = self.clock.now()
        not_sent = verdict.action is Action.FAILOVER

        def record(p: Payment) -> None:
            a = p.attempt(attempt_id)
            a.tries = max(a.tries, tries)
            if not_sent:
                p.record_not_sent(a, outcome.decline_code, str(outcome), now)
                refund = p.refund_by_id(a.refund_id) if a.refund_id else None
                if refund is not None:
                    failed = Decline(outcome.decline_code, Decision.FINAL, "not_sent", "not sent")
                    p.record_refund(
                        refund, None, RefundResult(RefundStatus.FAILED, decline=failed), now
                    )
            else:
                p.record_unknown(a, str(outcome), now)

        await self._commit(payment, record)
        if not_sent:
            raise outcome
        raise OperationPending(
            f"the {payment.attempt(attempt_id).operation.value} outcome at {account.name} is "
            "unknown; it will be reconciled",
            payment.id,
        ) from outcome

    def _declined_raises(self, payment: Payment, attempt_id: str) -> Payment:
        attempt = payment.attempt(attempt_id)
        if attempt.status is AttemptStatus.DECLINED:
            decline = attempt_decline(attempt)
            detail = f" ({decline.message})" if decline.message else ""
            raise InvalidState(
                f"{attempt.operation.value} declined by {attempt.provider}: "
                f"{decline.code.value}{detail}"
            )
        return payment

    # -- sync and reconciliation --------------------------------------------------------------

    async def sync(self, merchant_id: str | None, payment_id: str) -> Payment:
        """Ask the provider about every unresolved attempt of a payment and apply the answers."""
        payment = await self.get(merchant_id, payment_id)
        for attempt in payment.unsettled_attempts():
            account = self.accounts.get(attempt.provider)
            if account is None:
                continue
            result = await self._look_up(payment, attempt.id, account)
            if result is not None:
                resumable = (
                    result.status is ProviderStatus.NOT_FOUND
                    and attempt.operation is Operation.AUTHORIZE
                    and await self.store.awaits_resume(payment.merchant_id, payment.id)
                )
                conclusive = attempt.started_at + self.send_window <= self.clock.now()
                step = self._sync_step(payment, attempt.id, result, resumable, conclusive)
                payment = await self._commit(payment, step)
            if attempt.refund_id and payment.attempt(attempt.id).open:
                payment = await self._replay_refund(payment, attempt.id, account)
        return payment

    async def _replay_refund(
        self, payment: Payment, attempt_id: str, account: ProviderAccount
    ) -> Payment:
        """Send an open refund again with its own key. A lookup of the charge settles a refund
        only when the provider's refunded total shows it; one that never reached the provider
        (the process died after journaling it, the connection dropped before it) would stay
        open forever. The provider's idempotency answers the replay with the refund it made,
        or makes the one the merchant asked for now - never a second one."""
        attempt = payment.attempt(attempt_id)
        refund = payment.refund_by_id(str(attempt.refund_id))
        if refund is None or payment.provider_reference is None:
            return payment
        call = RefundCall(
            payment.id,
            refund.id,
            attempt.key,
            payment.provider_reference,
            Money(attempt.amount, payment.currency),
            refund.reason,
        )
        try:
            result = await account.adapter.refund(call)
        except ProviderError as exc:
            log.info("%s: replaying refund %s: %s", account.name, refund.id, exc)
            return payment  # still unknown: the reconciler comes back
        now = self.clock.now()

        def record(p: Payment) -> None:
            settled = p.refund_by_id(refund.id)
            if settled is not None:
                p.record_refund(settled, p.attempt(attempt_id), result, now)

        return await self._commit(payment, record)

    def _sync_step(
        self,
        payment: Payment,
        attempt_id: str,
        result: PaymentResult,
        resumable: bool,
        conclusive: bool,
    ) -> Step:
        now = self.clock.now()
        fee_for = self._fee_for(payment)

        def step(p: Payment) -> None:
            p.record_lookup(
                p.attempt(attempt_id),
                result,
                now,
                fee_for,
                resumable=resumable,
                conclusive=conclusive,
            )

        return step

    async def apply_event(self, account: str, payment_id: str, event: ProviderEvent) -> bool:
        """Apply a provider event to a payment; False when it changed nothing.

        Only an account that handled the payment may change it: an event from another
        account (a misrouted or forged-but-signed webhook) is refused with `NotFound`."""
        payment = await self.get(None, payment_id)
        if not any(a.provider == account for a in payment.attempts):
            raise NotFound(f"payment {payment_id} was never sent to {account}")
        changed = [False]
        now = self.clock.now()
        fee_for = self._fee_for(payment)

        def step(p: Payment) -> None:
            changed[0] = p.apply_event(event, now, fee_for)

        await self._commit(payment, step)
        return changed[0]

    async def reconcile(
        self,
        older_than: timedelta = timedelta(seconds=30),
        waiting_older_than: timedelta = timedelta(minutes=10),
        limit: int = 100,
        lease: timedelta = timedelta(seconds=60),
    ) -> int:
        """Sync payments whose attempts stayed open longer than `older_than`, or which waited
        for the customer longer than `waiting_older_than` (a completed redirect whose webhook
        never came); returns how many were looked at.

        Each payment is leased for `lease` first, so instances sharing the database never
        reconcile one payment at once, and one claimed by an instance that died is taken up
        by another when the lease runs out."""
        now = self.clock.now()
        ids = await self.store.claim_unresolved(
            now, now - older_than, now - waiting_older_than, lease, limit
        )
        for payment_id in ids:
            try:
                await self.sync(None, payment_id)
            except ProviderError as exc:
                log.warning("reconciling %s failed: %s", payment_id, exc)
        return len(ids)

    # -- plumbing -----------------------------------------------------------------------------

    async def _call(
        self,
        account: ProviderAccount,
        sent: Money | None,
        send: Callable[[], Awaitable[R]],
        deadline: float,
        *,
        maybe_sent: bool = False,
    ) -> tuple[R | ProviderError, int]:
        """One attempt with its same-key retries: the answer or the error (returned, not
        raised), and how many tries it took.

        A "not sent" from the last try is only the attempt's outcome when no earlier send of
        it may have landed: after a try whose outcome was unknown (or when `maybe_sent`: the
        attempt was sent before, by a process that died), a 429 or 503 that refuses the
        replay says nothing about the first request, so the error is `OutcomeUnknown`."""
        started = self.clock.monotonic()
        tries = [0]
        unsure = [maybe_sent]

        def on_try(number: int) -> None:
            tries[0] = number
            self.health.begin_call(account.name)

        async def tracked() -> R:
            try:
                return await send()
            except NotSent:
                raise
            except ProviderError:
                unsure[0] = True
                raise

        try:
            result = await call_with_retries(
                tracked,
                policy=self.policy,
                clock=self.clock,
                deadline=deadline,
                rng=self.rng,
                on_try=on_try,
            )
            if sent is not None:
                check_echo(sent, result, account.name)
        except ProviderError as exc:
            self.health.record_call(account.name, False, self.clock.monotonic() - started)
            log.info("%s: %s", account.name, exc)
            if isinstance(exc, NotSent) and unsure[0]:
                unknown = OutcomeUnknown(
                    f"{exc}, after a send whose outcome is unknown",
                    decline_code=DeclineCode.OUTCOME_UNKNOWN,
                )
                unknown.__cause__ = exc
                return unknown, tries[0]
            return exc, tries[0]
        self.health.record_call(account.name, True, self.clock.monotonic() - started)
        return result, tries[0]

    async def _look_up(
        self, payment: Payment, attempt_id: str, account: ProviderAccount
    ) -> PaymentResult | None:
        """Ask the provider what became of an attempt; None when it cannot tell."""
        caps = account.adapter.capabilities
        attempt = payment.attempt(attempt_id)
        reference = attempt.provider_reference or (
            payment.provider_reference if payment.provider == account.name else None
        )
        if not caps.retrieve or (reference is None and not caps.retrieve_by_key):
            return None
        authorize_key = attempt.key
        if attempt.operation is not Operation.AUTHORIZE:
            authorize_key = next(
                (
                    a.key
                    for a in payment.attempts
                    if a.operation is Operation.AUTHORIZE
                    and a.provider == account.name
                    and a.status is AttemptStatus.SUCCEEDED
                ),
                attempt.key,
            )
        call = RetrieveCall(payment.id, authorize_key, payment.money, reference)
        for tries in range(1, self.policy.retrieve_tries + 1):
            try:
                return await account.adapter.retrieve(call)
            except UnsupportedOperation:
                return None
            except ProviderError as exc:
                if tries < self.policy.retrieve_tries:
                    verdict = decide(
                        exc,
                        tries=tries,
                        policy=self.policy,
                        remaining=self.policy.deadline,
                        rng=self.rng,
                    )
                    await self.clock.sleep(verdict.delay)
        return None

    async def _commit(self, payment: Payment, step: Step, key: KeyRequest | None = None) -> Payment:
        """Apply `step` and save; on a version conflict reload and apply it again.

        With `key`, the idempotency key's answer is stored in the same transaction once the
        payment has one (it is no longer pending). While it is pending the key stays in
        progress: a retry after the lease resumes the payment where it stopped."""
        step(payment)
        for _ in range(_SAVE_RETRIES):
            completion = None
            if key is not None and payment.status is not PaymentStatus.PENDING:
                body = EncodedJSON(PaymentView.of(payment).model_dump_json())
                completion = KeyCompletion(key.merchant_id, key.key, CORE_ANSWER, body)
            changes = payment.changes
            try:
                await self.store.save(payment, completion)
            except VersionConflict:
                payment = await self.get(None, payment.id)
                step(payment)
            else:
                self._committed(changes)
                return payment
        raise VersionConflict(payment.id)

    def _committed(self, changes: Changes) -> None:
        if not changes.attempt_changes:
            return
        for observe in self.observers:
            try:
                observe(changes.attempt_changes)
            except Exception:
                # The change is on disk already: a failing observer must not turn it into
                # an error the caller would retry.
                log.exception("an attempt observer failed")

    def _noting(self, type_: str, attempt_id: str, reason: str) -> Step:
        now = self.clock.now()
        return lambda p: p.note(type_, now, attempt=attempt_id, reason=reason)

    async def _answer_claim(
        self, merchant_id: str, outcome: ClaimOutcome, resource_id: str | None
    ) -> Payment:
        if outcome is ClaimOutcome.CONFLICT:
            raise IdempotencyConflict("this idempotency key was used with a different request")
        if outcome is ClaimOutcome.IN_PROGRESS:
            raise RequestInProgress("a request with this idempotency key is still running")
        return await self.get(merchant_id, str(resource_id))

    def _key_request(
        self, merchant_id: str, key: str | None, operation: str, payload: dict[str, Any]
    ) -> KeyRequest | None:
        if key is None:
            return None
        if not 1 <= len(key) <= 255:
            raise InvalidRequest("must be 1 to 255 characters", field="idempotency_key")
        return KeyRequest(
            merchant_id, key, operation, fingerprint(operation, payload), self.key_lease
        )

    def _attempt_id(self) -> str:
        return new_id("att", self.clock.now(), self.rng.randbytes(10))

    def _account_of(self, payment: Payment) -> ProviderAccount:
        if payment.provider is None or payment.provider_reference is None:
            raise InvalidState("the payment was never accepted by a provider")
        account = self.accounts.get(payment.provider)
        if account is None:
            raise InvalidState(f"provider account {payment.provider!r} is no longer configured")
        return account

    def _fee_for(self, payment: Payment) -> Callable[[str, int], int]:
        currency, method, country = payment.currency, payment.method_type, payment.issuer_country

        def fee(account: str, amount: int) -> int:
            acct = self.accounts.get(account)
            return acct.profile.fees.estimate(amount, currency, method, country) if acct else 0

        return fee

    def _count_outcome(self, payment: Payment, account: str, result: PaymentResult) -> None:
        segment = f"{payment.currency}:{payment.method_type.value}"
        if result.status in (ProviderStatus.AUTHORIZED, ProviderStatus.CAPTURED):
            self.health.record_outcome(account, segment, True)
        elif result.status is ProviderStatus.DECLINED:
            self.health.record_outcome(account, segment, False)
