"""The in-process token bucket, on a hand-moved clock."""

from __future__ import annotations

import pytest

from gatewayhub.api.ratelimit import TokenBucketLimiter


async def test_bursts_then_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = TokenBucketLimiter(2.0, 3, clock=lambda: now[0])
    assert [await limiter.acquire("m") for _ in range(3)] == [None, None, None]
    assert await limiter.acquire("m") == pytest.approx(0.5)
    now[0] = 0.25
    assert await limiter.acquire("m") == pytest.approx(0.25)
    now[0] = 0.5
    assert await limiter.acquire("m") is None
    assert await limiter.acquire("other") is None, "each key has its own bucket"


async def test_idle_buckets_are_forgotten_and_start_full() -> None:
    now = [0.0]
    limiter = TokenBucketLimiter(1.0, 2, clock=lambda: now[0])
    for key in ("a", "b"):
        await limiter.acquire(key)
        await limiter.acquire(key)
    now[0] = 10.0
    assert await limiter.acquire("c") is None
    assert set(limiter._buckets) == {"c"}
    assert [await limiter.acquire("a"), await limiter.acquire("a")] == [None, None]


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucketLimiter(0, 1)
