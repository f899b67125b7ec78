"""The in-process token bucket's memory: idle buckets are dropped (refill is tested with the
shared limiter in test_shared_state.py)."""

from __future__ import annotations

from gatewayhub.shared.ratelimit import LocalRateLimiter, RateLimit
from gatewayhub.testing import FixedClock


async def test_idle_buckets_are_forgotten_and_start_full() -> None:
    clock = FixedClock()
    limiter = LocalRateLimiter(RateLimit(rate=1.0, burst=2), clock)
    for key in ("a", "b"):
        await limiter.acquire(key)
        await limiter.acquire(key)
    assert await limiter.acquire("a") is not None, "a's burst is spent"
    clock.advance(10.0)
    assert await limiter.acquire("c") is None
    assert set(limiter._buckets) == {"c"}, "a and b were idle long enough to be full again"
    assert [await limiter.acquire("a"), await limiter.acquire("a")] == [None, None]
