"""State several gateway instances share through Redis, with in-process fallbacks.

`RedisLink` is the connection and its up/down state; `SharedHealth` stands in for
`LocalHealth` (circuit breakers, approval rates); `RedisRateLimiter` and `LocalRateLimiter`
implement `RateLimiter` (per-merchant API limits). The redis client is an optional
dependency: `pip install 'gatewayhub[redis]'`.
"""

from gatewayhub.shared.health import SharedHealth
from gatewayhub.shared.link import RedisLink, SharedStateUnavailable
from gatewayhub.shared.ratelimit import (
    LocalRateLimiter,
    RateLimit,
    RateLimiter,
    RedisRateLimiter,
    rate_limiter,
)

__all__ = [
    "RedisLink",
    "SharedStateUnavailable",
    "SharedHealth",
    "RateLimit",
    "RateLimiter",
    "LocalRateLimiter",
    "RedisRateLimiter",
    "rate_limiter",
]
