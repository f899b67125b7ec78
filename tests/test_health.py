"""Circuit breakers and approval-rate windows."""

from __future__ import annotations

import pytest

from gatewayhub.health import BreakerSettings, HealthSettings, LocalHealth
from gatewayhub.testing import FixedClock


def health(clock: FixedClock, **breaker: float) -> LocalHealth:
    return LocalHealth(clock, HealthSettings(breaker=BreakerSettings(**breaker)))  # type: ignore[arg-type]


def test_opens_after_consecutive_failures_and_probes_later() -> None:
    clock = FixedClock()
    h = health(clock, consecutive_failures=3, open_seconds=10)
    for _ in range(2):
        h.record_call("a", ok=False)
    assert h.unavailable("a") is None
    h.record_call("a", ok=False)
    assert h.unavailable("a") == "open"
    clock.advance(9.9)
    assert h.unavailable("a") == "open"
    clock.advance(0.1)
    assert h.unavailable("a") is None  # half-open: one probe allowed
    h.begin_call("a")
    assert h.unavailable("a") == "half_open", "a second call waits for the probe"
    h.record_call("a", ok=False)
    assert h.unavailable("a") == "open", "a failed probe opens it again"
    clock.advance(10)
    h.begin_call("a")
    h.record_call("a", ok=True)
    assert h.unavailable("a") is None
    assert h.snapshot("a")["circuit"] == "closed"


def test_opens_on_failure_ratio() -> None:
    h = health(FixedClock(), consecutive_failures=100, window=10, min_calls=10, failure_ratio=0.5)
    for n in range(10):
        h.record_call("a", ok=n % 2 == 0)
    assert h.unavailable("a") == "open"


def test_successes_reset_the_streak() -> None:
    h = health(FixedClock(), consecutive_failures=3, min_calls=100)
    for ok in (False, False, True, False, False):
        h.record_call("a", ok=ok)
    assert h.unavailable("a") is None


def test_approval_is_smoothed_and_windowed() -> None:
    clock = FixedClock()
    h = LocalHealth(
        clock,
        HealthSettings(prior_rate=0.85, prior_weight=20, window_seconds=600, bucket_seconds=60),
    )
    assert h.approval("a", "EUR:card") == (0.85, 0)
    for _ in range(10):
        h.record_outcome("a", "EUR:card", approved=True)
    rate, seen = h.approval("a", "EUR:card")
    assert seen == 10
    assert rate == pytest.approx((10 + 0.85 * 20) / 30)  # 0.9
    assert h.approval("a", "USD:card") == (0.85, 0), "segments are separate"
    clock.advance(660)
    assert h.approval("a", "EUR:card") == (0.85, 0), "old outcomes leave the window"
