"""What sharing health and rate limits through Redis costs per payment, beside in-process state.

Arms, all in one run against the Redis on 127.0.0.1:6379 (a random key prefix, deleted after):

- health calls of one payment, as the service makes them: routing reads `unavailable` and
  `approval` for each of 3 accounts, then `begin_call`, `record_call`, `record_outcome`.
  `LocalHealth` against `SharedHealth` (its exchange with Redis running in the background
  every 0.5 s, its CPU counted in the figure); and, for scale, what a design that asked
  Redis on every payment would cost: one pipelined round trip per payment;
- a whole `Hub.authorize` over the fake provider on SQLite, `LocalHealth` against
  `SharedHealth` (rounds alternating the arms);
- one rate-limit check: `LocalRateLimiter` against `RedisRateLimiter` (one Lua round trip).

    python benchmarks/shared_health.py [--payments 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from gatewayhub.clock import SystemClock
from gatewayhub.config import parse_config
from gatewayhub.health import Health, HealthSettings, LocalHealth
from gatewayhub.hub import Hub
from gatewayhub.shared import LocalRateLimiter, RateLimit, RedisLink, RedisRateLimiter, SharedHealth

REDIS = os.environ.get("GATEWAYHUB_BENCH_REDIS", "redis://127.0.0.1:6379/0")
HEADING = "## Shared health and rate limits (Redis) vs in-process"
ACCOUNTS = ["acct_a", "acct_b", "acct_c"]


def one_payment(health: Health, n: int) -> None:
    for account in ACCOUNTS:
        health.unavailable(account)
        health.approval(account, "EUR:card")
    health.begin_call("acct_a")
    health.record_call("acct_a", n % 50 != 0, 0.12)
    health.record_outcome("acct_a", "EUR:card", n % 10 != 0)


async def health_us(health: Health, payments: int) -> float:
    """CPU microseconds per payment, the event loop (and any exchange task) included."""
    start = time.process_time()
    for n in range(payments):
        one_payment(health, n)
        if n % 50 == 0:
            await asyncio.sleep(0)  # payments interleave with I/O: the exchange gets its turns
    # Long enough for the background exchange to run as often as in a payment stream.
    return (time.process_time() - start) / payments * 1e6


async def round_trip_per_payment_us(link: RedisLink, payments: int) -> float:
    """Wall microseconds per payment if every payment asked Redis (one pipeline each)."""
    key = link.key("naive")
    start = time.perf_counter()
    for _ in range(payments):
        async with link.client.pipeline(transaction=False) as pipe:
            pipe.hincrby(key, "calls", 1)
            for account in ACCOUNTS:
                pipe.hmget(link.key("breaker", account), "state", "opened_at")
            await pipe.execute()
    return (time.perf_counter() - start) / payments * 1e6


def hub_config(database: Path, redis_url: str | None, prefix: str) -> object:
    gateway: dict[str, object] = {"database_url": f"sqlite:///{database}"}
    if redis_url:
        gateway.update(redis_url=redis_url, redis_prefix=prefix)
    return parse_config(
        {
            "gateway": gateway,
            "routing": {"strategies": ["success_rate", "priority"]},
            "providers": {name: {"type": "fake", "priority": i} for i, name in enumerate(ACCOUNTS)},
        }
    )


async def hub_us(config: object, payments: int) -> float:
    async with Hub(config, background=False) as hub:  # type: ignore[arg-type]
        for _ in range(50):
            await hub.authorize(amount=1000, currency="EUR", payment_method="tok_visa")
        start = time.process_time()
        for _ in range(payments):
            await hub.authorize(amount=1000, currency="EUR", payment_method="tok_visa")
        return (time.process_time() - start) / payments * 1e6


async def limiter_us(limiter: LocalRateLimiter | RedisRateLimiter, calls: int) -> float:
    start = time.perf_counter()
    for n in range(calls):
        await limiter.acquire(f"merchant-{n % 20}")
    return (time.perf_counter() - start) / calls * 1e6


async def measure(payments: int) -> dict[str, float]:
    prefix = f"gh_bench_{secrets.token_hex(4)}"
    clock = SystemClock()
    link = RedisLink(REDIS, prefix=prefix)
    results: dict[str, float] = {}
    try:
        await link.call(lambda client: client.ping())
        local = LocalHealth(clock, HealthSettings())
        shared = SharedHealth(clock, HealthSettings(), link, ACCOUNTS, refresh_seconds=0.5)
        await shared.start()
        local_runs, shared_runs = [], []
        for _ in range(3):
            local_runs.append(await health_us(local, payments))
            shared_runs.append(await health_us(shared, payments))
        await shared.close()
        results["health_local_us"] = statistics.median(local_runs)
        results["health_shared_us"] = statistics.median(shared_runs)
        results["naive_round_trip_us"] = await round_trip_per_payment_us(link, 2000)

        hub_payments = max(200, payments // 20)
        with tempfile.TemporaryDirectory() as tmp:
            local_hub, shared_hub = [], []
            for round_ in range(3):
                local_hub.append(
                    await hub_us(
                        hub_config(Path(tmp) / f"l{round_}.db", None, prefix), hub_payments
                    )
                )
                shared_hub.append(
                    await hub_us(
                        hub_config(Path(tmp) / f"s{round_}.db", REDIS, prefix), hub_payments
                    )
                )
        results["hub_local_us"] = statistics.median(local_hub)
        results["hub_shared_us"] = statistics.median(shared_hub)
        results["hub_payments"] = hub_payments

        limit = RateLimit(rate=1e6, burst=1_000_000)
        results["limit_local_us"] = await limiter_us(LocalRateLimiter(limit, clock), 20000)
        results["limit_redis_us"] = await limiter_us(RedisRateLimiter(link, limit, clock), 5000)
    finally:
        await link.delete_prefix()
        await link.close()
    return results


def report(payments: int = 20000) -> str:
    """The markdown section for docs/benchmarks.md."""
    r = asyncio.run(measure(payments))
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    extra_hub = r["hub_shared_us"] - r["hub_local_us"]
    return "\n".join(
        [
            HEADING,
            "",
            f"`python benchmarks/shared_health.py --payments {payments}` on {platform.machine()},"
            f" {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, Redis on loopback,"
            f" load average {load}. Medians of 3 rounds, arms alternating.",
            "",
            "| per payment | in-process | shared (Redis) |",
            "|---|---:|---:|",
            f"| health calls (3 accounts), CPU | {r['health_local_us']:.1f} us"
            f" | {r['health_shared_us']:.1f} us (exchange every 0.5 s included) |",
            f"| `Hub.authorize` (fake provider, SQLite, {r['hub_payments']:.0f} payments), CPU"
            f" | {r['hub_local_us']:.0f} us | {r['hub_shared_us']:.0f} us"
            f" ({extra_hub:+.0f} us) |",
            f"| rate-limit check, wall | {r['limit_local_us']:.1f} us"
            f" | {r['limit_redis_us']:.0f} us (one Lua round trip) |",
            "",
            "For scale: asking Redis on every payment (one pipelined round trip) would cost"
            f" {r['naive_round_trip_us']:.0f} us of wall time per payment; the shared health"
            " never waits for Redis on the payment path.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=20000)
    args = parser.parse_args()
    print(report(args.payments))


if __name__ == "__main__":
    main()
