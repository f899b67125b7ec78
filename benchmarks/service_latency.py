"""Latency the HTTP service adds to a payment, over calling the sandbox directly.

Two arms, one after the other, against the same sandbox emulator process on loopback:

- direct: POST /v1/charges to the emulator (what a hand-written integration does);
- service: POST /v1/payments to `gatewayhub serve` (its own process, SQLite file, one sandbox
  account pointing at that emulator): auth, rate limit, validation, idempotency key, routing,
  attempt journaled before the call, the call, ledger and answer stored, problem/JSON out.

Open loop: requests are started at a fixed rate whatever the answers do, and each latency
is measured from the moment its request was due, so a slow answer delays nobody's clock.
Each arm first sends `WARMUP` requests that are not counted; then the arms take turns,
`--rounds` runs of `payments / rounds` requests each, so whatever else the machine does
while they run falls on both alike. Added latency = service minus direct, per percentile
over all rounds.

    python benchmarks/service_latency.py [--rate 100] [--payments 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from gatewayhub_sandbox.launch import free_port

HEADING = "## Service latency: gatewayhub serve vs the sandbox directly"
GATEWAYHUB = str(Path(sys.executable).with_name("gatewayhub"))
API_KEY = "sk_sandbox_local"
WARMUP = 100


def wait_http(url: str, within: float = 30.0) -> None:
    """Until `url` answers, and not with a 5xx (a `/readyz` not ready yet answers 503)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def gateway_toml(database_url: str, sandbox_port: int, gateway_extra: str = "") -> str:
    """The benchmarks' gateway: one sandbox account at `sandbox_port`, no rate limit worth
    the name, a fresh sealing key (a configuration file must give one)."""
    return f"""
[gateway]
database_url = "{database_url}"
{gateway_extra}
[service.rate_limit]
requests_per_second = 100000
burst = 100000

[webhooks]
encryption_key = "{base64.b64encode(secrets.token_bytes(32)).decode()}"

[providers.sandbox_bench]
type = "sandbox"

[providers.sandbox_bench.settings]
base_url = "http://127.0.0.1:{sandbox_port}"
currencies = ["EUR"]
"""


def start_emulator(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "gatewayhub_sandbox", "--port", str(port), "--currencies", "EUR"]
    )
    wait_http(f"http://127.0.0.1:{port}/")
    return process


def start_gateway(folder: Path, emulator_port: int) -> tuple[subprocess.Popen[bytes], str, str]:
    """`gatewayhub serve` on a fresh SQLite file, one sandbox account; (process, url, key)."""
    config = folder / "gateway.toml"
    config.write_text(gateway_toml(f"sqlite:///{folder}/gateway.db", emulator_port))
    made = subprocess.run(
        [GATEWAYHUB, "merchants", "create", "Bench", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    key = next(line.split()[1] for line in made.stdout.splitlines() if line.startswith("key "))
    port = free_port()
    process = subprocess.Popen(
        [GATEWAYHUB, "serve", "--config", str(config), "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/healthz")
    return process, url, key


async def open_loop(
    send: Callable[[int], Awaitable[None]], first: int, count: int, rate: float
) -> list[float]:
    """Start request first+i at start + i/rate; latency measured from that due time."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    latencies: list[float] = [0.0] * count

    async def one(i: int) -> None:
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        await send(first + i)
        latencies[i] = loop.time() - due

    await asyncio.gather(*(one(i) for i in range(count)))
    return latencies


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]


async def measure(rate: float, count: int, rounds: int) -> dict[str, list[float]]:
    emulator_port = free_port()
    emulator = start_emulator(emulator_port)
    with tempfile.TemporaryDirectory() as folder:
        gateway, url, key = start_gateway(Path(folder), emulator_port)
        try:
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
            async with httpx.AsyncClient(limits=limits, timeout=30) as client:

                async def direct(i: int) -> None:
                    r = await client.post(
                        f"http://127.0.0.1:{emulator_port}/v1/charges",
                        json={
                            "amount": 1050,
                            "currency": "EUR",
                            "source": "tok_visa",
                            "capture": True,
                            "reference": f"direct-{i}",
                            "metadata": {},
                        },
                        headers={"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": f"d-{i}"},
                    )
                    assert r.json()["status"] == "captured", r.text

                async def service(i: int) -> None:
                    r = await client.post(
                        f"{url}/v1/payments",
                        json={
                            "amount": 1050,
                            "currency": "EUR",
                            "payment_method": {"token": "tok_visa"},
                            "reference": f"service-{i}",
                        },
                        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"s-{i}"},
                    )
                    assert r.status_code == 201, r.text

                arms = {"direct": direct, "service": service}
                for send in arms.values():
                    await open_loop(send, -WARMUP, WARMUP, rate)
                latencies: dict[str, list[float]] = {name: [] for name in arms}
                per_round = count // rounds
                for round_no in range(rounds):
                    # Alternate which arm goes first, so neither always follows the other.
                    order = list(arms) if round_no % 2 == 0 else list(reversed(arms))
                    for name in order:
                        latencies[name] += await open_loop(
                            arms[name], round_no * per_round, per_round, rate
                        )
                return latencies
        finally:
            gateway.terminate()
            gateway.wait(timeout=30)
            emulator.terminate()
            emulator.wait(timeout=30)


def section(results: dict[str, list[float]], rate: float, count: int, rounds: int) -> str:
    rows = []
    for name in ("direct", "service"):
        values = results[name]
        rows.append(
            (name, percentile(values, 50) * 1000, percentile(values, 99) * 1000, max(values) * 1000)
        )
    added50 = rows[1][1] - rows[0][1]
    added99 = rows[1][2] - rows[0][2]
    lines = [
        HEADING,
        "",
        "Command: `python benchmarks/service_latency.py"
        f" --rate {rate:g} --payments {count} --rounds {rounds}`",
        "",
        f"Open loop at {rate:g} payments/s, {len(results['direct'])} counted per arm after"
        f" {WARMUP} warm-up each, the arms taking turns in {rounds} rounds; latency from each"
        " request's due time. One sandbox emulator process; `gatewayhub serve`"
        " (uvicorn, SQLite file) in its own process; the client in a third.",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        " (shared with other jobs while measured: treat the figures as indicative).",
        "",
        "| arm | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|",
        *(f"| {n} | {p50:.2f} | {p99:.2f} | {mx:.2f} |" for n, p50, p99, mx in rows),
        "",
        f"Added by the service: **p50 {added50:.2f} ms, p99 {added99:.2f} ms**"
        " (targets: p50 <= 3 ms, p99 <= 15 ms).",
    ]
    return "\n".join(lines) + "\n"


def report(rate: float = 100.0, count: int = 1000, rounds: int = 5) -> str:
    """The docs/benchmarks.md section, measured now."""
    return section(asyncio.run(measure(rate, count, rounds)), rate, count, rounds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--payments", type=int, default=1000, help="counted per arm")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(report(args.rate, args.payments, args.rounds))
