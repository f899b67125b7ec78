"""Rate limiting per merchant: an in-process token bucket.

A limiter answers `acquire(key)`: None when the request may go ahead, else how many seconds
to wait (the API turns that into `429 rate_limited` with Retry-After). A shared limiter
(Redis) for several gateway instances implements the same method.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    """What the API asks of a limiter."""

    async def acquire(self, key: str) -> float | None:
        """Take one request from `key`'s budget: None if allowed, else seconds to wait."""
        ...


class TokenBucketLimiter:
    """`rate` requests per second on average, bursts of up to `burst`, per key.

    Buckets of keys that have been idle long enough to be full again are dropped, so memory
    stays proportional to the keys active in the last `burst / rate` seconds."""

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._last_sweep = clock()

    async def acquire(self, key: str) -> float | None:
        """Take one token; None if there was one, else the seconds until there is."""
        now = self._clock()
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens - 1.0, now)
        self._sweep(now)
        return None

    def _sweep(self, now: float) -> None:
        refill = self.burst / self.rate
        if now - self._last_sweep < refill:
            return
        self._last_sweep = now
        for key in [k for k, (_, at) in self._buckets.items() if now - at >= refill]:
            del self._buckets[key]
