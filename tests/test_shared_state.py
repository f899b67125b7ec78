"""State shared through a real Redis by several gateway instances: circuit breakers and
approval rates, rate limits, and what happens when Redis is not there or goes away."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from gatewayhub.config import parse_config
from gatewayhub.errors import NotSent
from gatewayhub.hub import Hub
from gatewayhub.models import PaymentStatus
from gatewayhub.shared import (
    LocalRateLimiter,
    RateLimit,
    RedisLink,
    RedisRateLimiter,
    SharedHealth,
    rate_limiter,
)
from gatewayhub.testing import FixedClock
from gatewayhub.testing.pytest_plugin import RedisSpace

from .conftest import fake

EUR_10 = {"amount": 1000, "currency": "EUR", "payment_method": "tok_visa"}
# Nothing listens on port 1: connections are refused at once.
NO_REDIS = "redis://127.0.0.1:1/0"
MakeHub = Callable[..., Awaitable[Hub]]


@pytest.fixture
async def make_hub(sqlite_url: str, clock: FixedClock) -> AsyncIterator[MakeHub]:
    """Started hubs on one database over fake accounts "a" then "b" (priority order)."""
    hubs: list[Hub] = []

    async def make(redis_url: str, prefix: str = "gatewayhub", **gateway: Any) -> Hub:
        config = parse_config(
            {
                "gateway": {
                    "database_url": sqlite_url,
                    "redis_url": redis_url,
                    "redis_prefix": prefix,
                    **gateway,
                },
                "routing": {"strategies": ["priority"]},
                "retry": {"tries_per_attempt": 1},
                "health": {"consecutive_failures": 3, "open_seconds": 30},
                "providers": {"a": {"type": "fake", "priority": 1}, "b": {"type": "fake"}},
            }
        )
        hub = Hub(config, clock=clock, rng=random.Random(len(hubs)), background=False)
        hubs.append(await hub.start())
        return hub

    yield make
    for hub in hubs:
        await hub.close()


def shared(hub: Hub) -> SharedHealth:
    assert isinstance(hub.health, SharedHealth)
    return hub.health


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for `condition`, which the background exchange makes true (bounded, generously)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"never happened: {what}")


async def fail_three(hub: Hub) -> None:
    """Three payments whose calls to "a" fail (not sent): each fails over to "b"."""
    fake(hub, "a").script("authorize", *[NotSent("connection refused")] * 3)
    for _ in range(3):
        payment = await hub.authorize(**EUR_10)
        assert payment.provider == "b"


async def test_failures_on_one_instance_open_the_circuit_on_another(
    make_hub: MakeHub, redis_space: RedisSpace
) -> None:
    a = await make_hub(redis_space.url, redis_space.prefix, health_refresh_seconds=0.05)
    b = await make_hub(redis_space.url, redis_space.prefix, health_refresh_seconds=0.05)
    assert b.explain_route(**EUR_10).accounts[0] == "a"

    await fail_three(a)

    await until(lambda: b.explain_route(**EUR_10).accounts == ["b"], "b routes around a")
    assert b.explain_route(**EUR_10).exclusion_text()["a"].count("open") == 1
    payment = await b.authorize(**EUR_10)
    assert payment.provider == "b"
    assert fake(b, "a").calls == [], "b never tried the account a saw failing"


async def test_the_shared_breaker_half_opens_and_a_probe_anywhere_closes_it(
    make_hub: MakeHub, redis_space: RedisSpace, clock: FixedClock
) -> None:
    a = await make_hub(redis_space.url, redis_space.prefix, health_refresh_seconds=60)
    b = await make_hub(redis_space.url, redis_space.prefix, health_refresh_seconds=60)
    await fail_three(a)
    await shared(a).sync()
    await shared(b).sync()
    assert b.health.unavailable("a") == "open"

    clock.advance(30)
    assert b.health.unavailable("a") is None, "half-open: b may probe"
    probe = await b.authorize(**EUR_10)
    assert probe.provider == "a"
    await shared(b).sync()
    await shared(a).sync()
    assert shared(a).snapshot("a")["circuit"] == "closed"
    assert shared(a).local.unavailable("a") is None, "a's own breaker half-opened too"


async def test_approval_rates_are_counted_over_every_instance(
    make_hub: MakeHub, redis_space: RedisSpace
) -> None:
    a = await make_hub(redis_space.url, redis_space.prefix, health_refresh_seconds=60)
    b = await make_hub(redis_space.url, redis_space.prefix, health_refresh_seconds=60)
    for _ in range(3):
        assert (await a.authorize(**EUR_10)).status is PaymentStatus.CAPTURED
        assert (await b.authorize(**EUR_10)).status is PaymentStatus.CAPTURED
    await shared(a).sync()
    await shared(b).sync()
    await shared(a).sync()
    assert a.health.approval("a", "EUR:card")[1] == 6
    assert b.health.approval("a", "EUR:card")[1] == 6
    assert shared(b).snapshot("a")["payments"] == 6


async def test_without_redis_payments_use_local_state_with_one_warning(
    make_hub: MakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="gatewayhub.shared"):
        hub = await make_hub(NO_REDIS, health_refresh_seconds=0.01, redis_retry_seconds=0.01)
        for _ in range(10):
            assert (await hub.authorize(**EUR_10)).status is PaymentStatus.CAPTURED
            await asyncio.sleep(0.02)  # the exchange keeps retrying meanwhile
        await fail_three(hub)
        assert hub.explain_route(**EUR_10).accounts == ["b"], "the local breaker still works"
        assert hub.health.snapshot("a")["shared"] is False

    warnings = [r for r in caplog.records if r.name == "gatewayhub.shared"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "127.0.0.1:1 is unreachable" in warnings[0].getMessage()


class Proxy:
    """A TCP forwarder to Redis that the test can cut and restore (a real network fault)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update((writer, up_writer))


async def test_redis_going_away_mid_run_and_coming_back(
    make_hub: MakeHub, redis_space: RedisSpace, caplog: pytest.LogCaptureFixture
) -> None:
    host, _, rest = redis_space.url.removeprefix("redis://").partition(":")
    port, _, db = rest.partition("/")
    proxy = Proxy((host, int(port)))
    await proxy.start()
    fast = {"health_refresh_seconds": 0.02, "redis_retry_seconds": 0.05}
    via_proxy = f"redis://127.0.0.1:{proxy.port}/{db or 0}"
    with caplog.at_level(logging.WARNING, logger="gatewayhub.shared"):
        a = await make_hub(via_proxy, redis_space.prefix, **fast)
        b = await make_hub(redis_space.url, redis_space.prefix, **fast)
        assert a.redis is not None
        assert (await a.authorize(**EUR_10)).provider == "a"

        await proxy.stop()
        await until(lambda: a.redis is not None and not a.redis.up, "a notices Redis is gone")
        for _ in range(5):
            assert (await a.authorize(**EUR_10)).status is PaymentStatus.CAPTURED

        await proxy.start()
        await until(lambda: a.redis is not None and a.redis.up, "a reconnects")
        await fail_three(a)
        await until(lambda: b.explain_route(**EUR_10).accounts == ["b"], "sharing resumed")
    await proxy.stop()

    messages = [r.getMessage() for r in caplog.records if r.name == "gatewayhub.shared"]
    assert len(messages) == 2, messages
    assert "is unreachable" in messages[0]
    assert "answers again" in messages[1]


async def test_the_rate_limit_is_shared_by_instances(
    redis_space: RedisSpace, clock: FixedClock
) -> None:
    links = [RedisLink(redis_space.url, prefix=redis_space.prefix) for _ in range(2)]
    one, two = (RedisRateLimiter(link, RateLimit(rate=2, burst=4), clock) for link in links)
    try:
        assert [await one.acquire("merchant-1") for _ in range(3)] == [None] * 3
        assert await two.acquire("merchant-1") is None
        assert await two.acquire("merchant-1") == pytest.approx(0.5)
        assert await one.acquire("merchant-1") == pytest.approx(0.5), "refused calls take nothing"
        assert await one.acquire("merchant-2") is None, "keys are separate"
        clock.advance(0.5)
        assert await two.acquire("merchant-1") is None
        assert await one.acquire("merchant-1") == pytest.approx(0.5)
    finally:
        for link in links:
            await link.close()


async def test_the_rate_limiter_falls_back_to_a_local_bucket_without_redis(
    clock: FixedClock,
) -> None:
    link = RedisLink(NO_REDIS)
    limiter = rate_limiter(link, RateLimit(rate=1, burst=2), clock)
    try:
        assert [await limiter.acquire("m") for _ in range(3)] == [None, None, 1.0]
        assert not link.up
    finally:
        await link.close()


async def test_the_local_rate_limiter_refills_over_time(clock: FixedClock) -> None:
    limiter = rate_limiter(None, RateLimit(rate=10, burst=1), clock)
    assert isinstance(limiter, LocalRateLimiter)
    assert await limiter.acquire("m") is None
    assert await limiter.acquire("m") == pytest.approx(0.1)
    clock.advance(0.05)
    assert await limiter.acquire("m") == pytest.approx(0.05)
    clock.advance(0.05)
    assert await limiter.acquire("m") is None


def test_a_rate_limit_needs_a_positive_rate_and_burst() -> None:
    with pytest.raises(ValueError, match="rate > 0"):
        RateLimit(rate=0, burst=1)
    with pytest.raises(ValueError, match="burst >= 1"):
        RateLimit(rate=1, burst=0)
