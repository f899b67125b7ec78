"""One Redis connection for the state gateway instances share, and whether it answers.

Every Redis call goes through `RedisLink.call`. A failure (refused connection, timeout, a
server that went away) marks the link down and logs one warning; while it is down, calls
fail at once with `SharedStateUnavailable` - no connection attempt, no waiting - and every
user of the link falls back to this instance's own state. After `retry_seconds` one call is
let through again; when it succeeds the link is up and that is logged once too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from gatewayhub.errors import ConfigError

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("gatewayhub.shared")
T = TypeVar("T")


class SharedStateUnavailable(Exception):
    """Redis did not answer (or is known to be down): use this instance's own state."""


def _redis_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import RedisError  # noqa: PLC0415 - optional backend

    # OSError covers refused and reset sockets that redis-py lets through unwrapped.
    return (RedisError, OSError, TimeoutError)


class RedisLink:
    """A Redis client with short timeouts, no retries of its own, and an up/down state.

    `prefix` starts every key, so several deployments (or tests) can share one server.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "gatewayhub",
        timeout: float = 0.25,
        retry_seconds: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            from redis.asyncio import Redis  # noqa: PLC0415 - optional backend
            from redis.asyncio.retry import Retry  # noqa: PLC0415
            from redis.backoff import NoBackoff  # noqa: PLC0415
        except ImportError as exc:
            raise ConfigError(
                "gateway.redis_url needs the redis client: pip install 'gatewayhub[redis]'"
            ) from exc
        try:
            self.client: Redis = Redis.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                # A failed call is not retried here: the caller falls back to local state at
                # once, which is what keeps a payment from waiting on a dead Redis.
                retry=Retry(NoBackoff(), 0),
                decode_responses=True,
            )
        except ValueError as exc:
            raise ConfigError(f"gateway.redis_url is not a Redis URL: {exc}") from None
        kwargs = self.client.connection_pool.connection_kwargs
        self.where = f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"
        self.prefix = prefix
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self._monotonic = monotonic
        self._errors = _redis_errors()
        self._down_since: float | None = None
        self._retry_at = 0.0

    @property
    def up(self) -> bool:
        """Did the last call succeed (or has none failed yet)?"""
        return self._down_since is None

    def key(self, *parts: str) -> str:
        """A key under this deployment's prefix."""
        return ":".join((self.prefix, *parts))

    async def call(self, request: Callable[[Redis], Awaitable[T]]) -> T:
        """Run `request` on the client; `SharedStateUnavailable` when Redis is down."""
        if self._down_since is not None and self._monotonic() < self._retry_at:
            raise SharedStateUnavailable(f"Redis at {self.where} is down")
        try:
            result = await request(self.client)
        except self._errors as exc:
            self._mark_down(exc)
            raise SharedStateUnavailable(f"Redis at {self.where}: {exc}") from exc
        if self._down_since is not None:
            log.warning(
                "shared state: Redis at %s answers again after %.1f s; sharing resumes",
                self.where,
                self._monotonic() - self._down_since,
            )
            self._down_since = None
        return result

    def _mark_down(self, exc: BaseException) -> None:
        now = self._monotonic()
        self._retry_at = now + self.retry_seconds
        if self._down_since is None:
            self._down_since = now
            log.warning(
                "shared state: Redis at %s is unreachable (%s: %s); this instance uses its "
                "own circuit breakers, approval rates and rate limits until it is back",
                self.where,
                type(exc).__name__,
                exc,
            )

    async def delete_prefix(self) -> int:
        """Delete every key under the prefix (tests and `gatewayhub` resets); returns how many."""

        async def run(client: Redis) -> int:
            count = 0
            async for key in client.scan_iter(match=f"{self.prefix}:*", count=500):
                count += int(await client.delete(key))
            return count

        return await self.call(run)

    async def close(self) -> None:
        """Close the client's connections (bounded: closing never waits on a dead server)."""
        try:
            async with asyncio.timeout(self.timeout * 4):
                await self.client.aclose()
        except TimeoutError:
            log.warning("shared state: closing the Redis connections to %s timed out", self.where)
