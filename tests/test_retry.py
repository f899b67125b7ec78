"""The retry decision, rule by rule, and the same-key retry loop."""

from __future__ import annotations

import random

import pytest

from gatewayhub.errors import (
    Decision,
    Decline,
    DeclineCode,
    IntegrityError,
    NotSent,
    OutcomeUnknown,
    ProviderError,
)
from gatewayhub.models import PaymentResult, ProviderStatus
from gatewayhub.retry import Action, RetryPolicy, call_with_retries, decide
from gatewayhub.testing import FixedClock

POLICY = RetryPolicy(tries_per_attempt=3, max_retry_after=10, decline_retries=1)


def declined(code: DeclineCode, decision: Decision, hard: bool = False) -> PaymentResult:
    return PaymentResult(
        ProviderStatus.DECLINED, decline=Decline(code, decision, code.value, hard=hard)
    )


@pytest.mark.parametrize(
    ("outcome", "tries", "extra", "action"),
    [
        (PaymentResult(ProviderStatus.CAPTURED), 1, {}, Action.DONE),
        (PaymentResult(ProviderStatus.PENDING), 1, {}, Action.DONE),
        (NotSent("refused"), 1, {}, Action.RETRY_SAME),
        (NotSent("refused"), 3, {}, Action.FAILOVER),
        (NotSent("bad key", decline_code=DeclineCode.PROVIDER_AUTH_FAILED), 1, {}, Action.FAILOVER),
        (
            NotSent("429", decline_code=DeclineCode.RATE_LIMITED, retry_after=30),
            1,
            {},
            Action.FAILOVER,
        ),
        (OutcomeUnknown("timeout"), 1, {}, Action.RETRY_SAME),
        (OutcomeUnknown("timeout"), 3, {}, Action.RECONCILE),
        (OutcomeUnknown("timeout"), 1, {"remaining": 0}, Action.RECONCILE),
        (IntegrityError("echo"), 1, {}, Action.RECONCILE),
        (ProviderError("odd"), 1, {}, Action.STOP),
        (declined(DeclineCode.CARD_BLOCKED, Decision.FINAL, hard=True), 1, {}, Action.STOP),
        (declined(DeclineCode.AUTHENTICATION_REQUIRED, Decision.STEP_UP), 1, {}, Action.STOP),
        (declined(DeclineCode.CURRENCY_NOT_SUPPORTED, Decision.FAILOVER), 1, {}, Action.FAILOVER),
        (declined(DeclineCode.PROCESSING_ERROR, Decision.RETRY_SAME), 1, {}, Action.RETRY_SAME),
        (
            declined(DeclineCode.PROCESSING_ERROR, Decision.RETRY_SAME),
            1,
            {"decline_retries": 1},
            Action.FAILOVER,
        ),
        (declined(DeclineCode.INSUFFICIENT_FUNDS, Decision.FINAL), 1, {}, Action.STOP),
        (declined(DeclineCode.OUTCOME_UNKNOWN, Decision.RECONCILE), 1, {}, Action.RECONCILE),
    ],
)
def test_decisions(outcome: object, tries: int, extra: dict[str, int], action: Action) -> None:
    remaining = extra.pop("remaining", 30)
    verdict = decide(
        outcome, tries=tries, policy=POLICY, remaining=remaining, rng=random.Random(1), **extra
    )  # type: ignore[arg-type]
    assert verdict.action is action
    assert verdict.reason


def test_cascading_is_a_setting_with_a_limit() -> None:
    soft = declined(DeclineCode.DO_NOT_HONOR, Decision.FINAL)
    on = RetryPolicy(cascade_soft_declines=True, max_cascades=1)
    assert decide(soft, tries=1, policy=on, remaining=30).action is Action.FAILOVER
    assert decide(soft, tries=1, policy=on, remaining=30, cascades=1).action is Action.STOP
    hard = declined(DeclineCode.FRAUD_SUSPECTED, Decision.FINAL, hard=True)
    assert decide(hard, tries=1, policy=on, remaining=30).action is Action.STOP


def test_retry_after_is_the_delay() -> None:
    verdict = decide(NotSent("429", retry_after=2.5), tries=1, policy=POLICY, remaining=30)
    assert (verdict.action, verdict.delay) == (Action.RETRY_SAME, 2.5)


def test_backoff_is_bounded_jitter() -> None:
    policy = RetryPolicy(backoff_initial=0.1, backoff_max=1.0, tries_per_attempt=10)
    rng = random.Random(5)
    for tries, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (5, 1.0), (9, 1.0)]:
        delays = [
            decide(NotSent("x"), tries=tries, policy=policy, remaining=30, rng=rng).delay
            for _ in range(200)
        ]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2


async def test_same_key_loop_retries_then_succeeds() -> None:
    clock = FixedClock()
    outcomes: list[object] = [NotSent("1"), OutcomeUnknown("2"), "ok"]
    tries: list[int] = []

    async def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome)

    result = await call_with_retries(
        call,
        policy=POLICY,
        clock=clock,
        deadline=clock.monotonic() + 30,
        rng=random.Random(2),
        on_try=tries.append,
    )
    assert result == "ok"
    assert tries == [1, 2, 3]
    assert len(clock.slept) == 2


async def test_loop_gives_up_with_the_last_error() -> None:
    clock = FixedClock()

    async def call() -> str:
        raise OutcomeUnknown("timeout")

    with pytest.raises(OutcomeUnknown):
        await call_with_retries(call, policy=POLICY, clock=clock, deadline=clock.monotonic() + 30)
    assert len(clock.slept) == POLICY.tries_per_attempt - 1


async def test_programming_errors_are_not_retried() -> None:
    calls = []

    async def call() -> str:
        calls.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await call_with_retries(call, policy=POLICY, clock=FixedClock(), deadline=1e9)
    assert calls == [1]
