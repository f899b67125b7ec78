"""What to do after each provider outcome: one decision function, one reason per rule.

Two loops use it. The inner loop (`call_with_retries`, tenacity) repeats one attempt with the
same provider idempotency key while the failure allows it. The outer loop (the service) reads
the final verdict: done, fail over to the next candidate, reconcile, or stop. Failing over is
only ever chosen when the money certainly did not move.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field
from tenacity import AsyncRetrying, RetryCallState

from gatewayhub.clock import Clock
from gatewayhub.errors import (
    Decision,
    DeclineCode,
    IntegrityError,
    NotSent,
    OutcomeUnknown,
    ProviderError,
)
from gatewayhub.models import PaymentResult, ProviderStatus

T = TypeVar("T")


class Action(StrEnum):
    """The verdict on an outcome."""

    DONE = "done"
    RETRY_SAME = "retry_same"
    FAILOVER = "failover"
    RECONCILE = "reconcile"
    STOP = "stop"


class RetryPolicy(BaseModel):
    """Budgets and switches for retries, failover and cascading."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tries_per_attempt: int = Field(default=3, ge=1, le=10)
    backoff_initial: float = Field(default=0.1, ge=0)
    backoff_max: float = Field(default=2.0, ge=0)
    max_retry_after: float = Field(default=10.0, ge=0)
    max_providers: int = Field(default=3, ge=1)
    deadline: float = Field(default=30.0, gt=0)
    retrieve_tries: int = Field(default=3, ge=1)
    # Soft declines (insufficient funds, do not honor) stay with the first acquirer unless the
    # merchant turns cascading on; card-network rules cap how often a card may be retried.
    cascade_soft_declines: bool = False
    max_cascades: int = Field(default=1, ge=0)
    decline_retries: int = Field(default=1, ge=0)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The action, a one-line reason, and the delay before a retry."""

    action: Action
    reason: str
    delay: float = 0.0


def decide(  # noqa: PLR0912 - one rule per branch, read top to bottom
    outcome: PaymentResult | ProviderError,
    *,
    tries: int,
    policy: RetryPolicy,
    remaining: float,
    cascades: int = 0,
    decline_retries: int = 0,
    rng: random.Random | None = None,
) -> Verdict:
    """The verdict on `outcome` after `tries` tries of one attempt.

    `remaining` is the time left before the payment's deadline; `cascades` how many soft
    declines were already cascaded; `decline_retries` how often this provider was retried
    after a retryable decline.
    """
    if isinstance(outcome, IntegrityError):
        return Verdict(Action.RECONCILE, "provider echoed another amount: look it up, never replay")
    if isinstance(outcome, NotSent):
        if outcome.decline_code == DeclineCode.PROVIDER_AUTH_FAILED:
            return Verdict(
                Action.FAILOVER, "credentials refused: no retry can fix that; nothing moved"
            )
        wait = outcome.retry_after
        if wait is not None and (wait > policy.max_retry_after or wait >= remaining):
            return Verdict(Action.FAILOVER, f"provider asked to wait {wait:g}s, beyond the budget")
        if tries < policy.tries_per_attempt and remaining > 0:
            delay = wait if wait is not None else _backoff(tries, policy, rng)
            return Verdict(Action.RETRY_SAME, "not sent: retrying the same provider", delay)
        return Verdict(Action.FAILOVER, f"not sent after {tries} tries: the money did not move")
    if isinstance(outcome, OutcomeUnknown):
        if tries < policy.tries_per_attempt and remaining > 0:
            delay = (
                outcome.retry_after
                if outcome.retry_after is not None
                else _backoff(tries, policy, rng)
            )
            delay = min(delay, policy.max_retry_after)
            return Verdict(Action.RETRY_SAME, "outcome unknown: replaying with the same key", delay)
        return Verdict(
            Action.RECONCILE, f"outcome unknown after {tries} tries: look it up, never fail over"
        )
    if isinstance(outcome, ProviderError):
        return Verdict(Action.STOP, f"unclassified provider error: {outcome}")
    if outcome.status is not ProviderStatus.DECLINED:
        return Verdict(Action.DONE, f"provider answered {outcome.status.value}")
    decline = outcome.decline
    if decline is None:
        return Verdict(Action.STOP, "declined without a reason: final")
    if decline.hard:
        return Verdict(
            Action.STOP, f"hard decline ({decline.code.value}): never retried or cascaded"
        )
    if decline.decision is Decision.STEP_UP:
        return Verdict(Action.STOP, "the customer must authenticate (3-D Secure)")
    if decline.decision is Decision.RECONCILE:
        return Verdict(
            Action.RECONCILE, f"{decline.code.value}: the provider's state must be looked up"
        )
    if decline.decision is Decision.FAILOVER:
        return Verdict(
            Action.FAILOVER, f"{decline.code.value}: this provider cannot take it; nothing moved"
        )
    if decline.decision is Decision.RETRY_SAME:
        if decline_retries < policy.decline_retries and remaining > 0:
            return Verdict(
                Action.RETRY_SAME,
                f"{decline.code.value}: transient, new attempt with the same provider",
                _backoff(decline_retries + 1, policy, rng),
            )
        return Verdict(Action.FAILOVER, f"{decline.code.value}: still failing, next provider")
    if policy.cascade_soft_declines and cascades < policy.max_cascades:
        return Verdict(Action.FAILOVER, f"soft decline ({decline.code.value}) cascaded: setting on")
    return Verdict(Action.STOP, f"declined ({decline.code.value}): final")


def _backoff(tries: int, policy: RetryPolicy, rng: random.Random | None) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(max, initial * 2^(tries-1))]."""
    ceiling = min(policy.backoff_max, policy.backoff_initial * 2 ** max(tries - 1, 0))
    return (rng or random).uniform(0, ceiling)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    clock: Clock,
    deadline: float,
    rng: random.Random | None = None,
    on_try: Callable[[int], None] | None = None,
) -> T:
    """Run `call` (one attempt, one idempotency key) until it answers or must stop retrying.

    Raises the last `ProviderError` when retrying is over; the caller asks `decide` what
    that error means for the payment. `deadline` is on the clock's monotonic scale.
    """
    verdict: list[Verdict] = []

    def should_retry(state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if not isinstance(exc, ProviderError):
            return False
        v = decide(
            exc,
            tries=state.attempt_number,
            policy=policy,
            remaining=deadline - clock.monotonic(),
            rng=rng,
        )
        verdict[:] = [v]
        return v.action is Action.RETRY_SAME

    def wait(state: RetryCallState) -> float:
        return verdict[0].delay if verdict else 0.0

    retrying = AsyncRetrying(retry=should_retry, wait=wait, sleep=clock.sleep, reraise=True)
    async for attempt in retrying:
        with attempt:
            if on_try is not None:
                on_try(attempt.retry_state.attempt_number)
            return await call()
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover
