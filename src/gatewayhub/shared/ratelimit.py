"""Per-key rate limits (per merchant API calls): a token bucket, in process or in Redis.

`acquire(key)` takes one token: None when the call may go ahead, else the seconds until a
token will be there (for a `Retry-After`). A refused call takes nothing. The bucket holds
`burst` tokens and refills at `rate` per second.

`RedisRateLimiter` keeps the bucket in Redis, updated by one Lua script (read, refill, take
and write in one atomic step, so instances never both spend the last token), at the cost
of one round trip per call. When Redis is down it uses an in-process bucket per instance
instead - limits are then per instance - and returns to Redis when it answers again.
Time is the injected clock's wall time: instances share no monotonic clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from gatewayhub.clock import Clock
from gatewayhub.shared.link import RedisLink, SharedStateUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

# Epoch seconds as floats carry ~0.2 us of rounding: a millionth of a token short is a full one.
_ROUNDING = 1e-6
# KEYS[1]: the bucket hash. ARGV: now (seconds), rate (tokens/s), burst.
# Returns the wait in seconds as a string ("0" = allowed): a Lua number would be truncated.
_TAKE = """
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(v[1]) or burst
local at = tonumber(v[2]) or now
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate)
  at = now
end
local wait = 0
if tokens >= 1 - 1e-6 then tokens = math.max(0, tokens - 1) else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens),
  'at', string.format('%.6f', at))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return string.format('%.6f', wait)
"""


class RateLimiter(Protocol):
    """What the HTTP layer asks before serving a call."""

    async def acquire(self, key: str) -> float | None:
        """None when allowed now, else the seconds until a call under `key` will be."""
        ...


@dataclass(frozen=True, slots=True)
class RateLimit:
    """`rate` calls per second on average, up to `burst` at once."""

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")


class LocalRateLimiter:
    """Token buckets in this process."""

    def __init__(self, limit: RateLimit, clock: Clock) -> None:
        self.limit = limit
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._last_sweep = clock.now().timestamp()

    async def acquire(self, key: str) -> float | None:
        """Take a token from `key`'s bucket, or say how long until one is there."""
        return self.take(key)

    def take(self, key: str) -> float | None:
        """`acquire` without the coroutine (for callers that are not async)."""
        now = self.clock.now().timestamp()
        rate, burst = self.limit.rate, self.limit.burst
        tokens, at = self._buckets.get(key, (float(burst), now))
        if now > at:
            tokens = min(burst, tokens + (now - at) * rate)
            at = now
        if tokens >= 1 - _ROUNDING:
            self._buckets[key] = (max(0.0, tokens - 1), at)
            self._sweep(now)
            return None
        self._buckets[key] = (tokens, at)
        return (1 - tokens) / rate

    def _sweep(self, now: float) -> None:
        # A bucket idle for `burst / rate` seconds is full again, the same as no bucket:
        # dropping those keeps memory proportional to the recently active keys.
        refill = self.limit.burst / self.limit.rate
        if now - self._last_sweep < refill:
            return
        self._last_sweep = now
        for key in [k for k, (_, at) in self._buckets.items() if now - at >= refill]:
            del self._buckets[key]


class RedisRateLimiter:
    """Token buckets in Redis, shared by every instance; local buckets while it is down."""

    def __init__(self, link: RedisLink, limit: RateLimit, clock: Clock) -> None:
        self.link = link
        self.limit = limit
        self.clock = clock
        self.fallback = LocalRateLimiter(limit, clock)
        self._take = link.client.register_script(_TAKE)

    async def acquire(self, key: str) -> float | None:
        """Take a token from `key`'s shared bucket, or say how long until one is there."""
        args = [self.clock.now().timestamp(), self.limit.rate, self.limit.burst]

        async def take(client: Redis) -> str:
            reply = await self._take(keys=[self.link.key("rate", key)], args=args, client=client)
            return str(reply)

        try:
            wait = float(await self.link.call(take))
        except SharedStateUnavailable:
            return self.fallback.take(key)
        return wait if wait > 0 else None


def rate_limiter(link: RedisLink | None, limit: RateLimit, clock: Clock) -> RateLimiter:
    """The shared limiter when Redis is configured (`Hub.redis`), else an in-process one."""
    if link is None:
        return LocalRateLimiter(limit, clock)
    return RedisRateLimiter(link, limit, clock)
