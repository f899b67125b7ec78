"""Open-loop load against one and against two `gatewayhub serve` instances.

PostgreSQL (a fresh database) and Redis (a fresh key prefix) are shared by the instances;
one sandbox emulator runs as a process of its own. Payments are started at a fixed rate
whatever the answers do (open loop), for `--seconds` per arm, round-robin over the
instances; latency is measured from each request's due time, so queueing shows. Errors:
anything but 201, and transport failures or timeouts (10 s). Then a short sweep of higher
rates (`--sweep-seconds` each) shows where the machine saturates.

    python benchmarks/load.py [--rate 40] [--seconds 60] [--sweep 60,80,120] [--sweep-seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).parent))
from service_latency import GATEWAYHUB, free_port, gateway_toml, wait_http

HEADING = "## Load: one vs two gateway instances (PostgreSQL + Redis)"
ADMIN_URL = os.environ.get(
    "GATEWAYHUB_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("GATEWAYHUB_BENCH_REDIS", "redis://127.0.0.1:6379/0")


@dataclass
class Arm:
    name: str
    rate: float
    seconds: float
    latencies: list[float]
    errors: int
    elapsed: float

    def pct(self, q: float) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed


async def open_loop(urls: list[str], key: str, rate: float, seconds: float, tag: str) -> Arm:
    count = int(rate * seconds)
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=500, max_keepalive_connections=500)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        start = loop.time() + 0.2

        async def one(i: int) -> None:
            nonlocal errors
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            try:
                r = await client.post(
                    f"{urls[i % len(urls)]}/v1/payments",
                    json={
                        "amount": 1050,
                        "currency": "EUR",
                        "payment_method": {"token": "tok_visa"},
                    },
                    headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"{tag}-{i}"},
                )
            except httpx.HTTPError:
                errors += 1
                return
            if r.status_code != 201:
                errors += 1
                return
            latencies.append(loop.time() - due)

        await asyncio.gather(*(one(i) for i in range(count)))
        elapsed = loop.time() - start
    return Arm(
        f"{len(urls)} instance{'s' if len(urls) > 1 else ''}",
        rate,
        seconds,
        latencies,
        errors,
        elapsed,
    )


class Deployment:
    """A fresh database and Redis prefix, one sandbox, gateway instances started on demand."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db_name = f"gh_bench_{secrets.token_hex(4)}"
        self.database_url = f"{ADMIN_URL.rsplit('/', 1)[0]}/{self.db_name}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.instances: list[subprocess.Popen[bytes]] = []

    async def _admin(self, statement: str) -> None:
        connection = await asyncpg.connect(ADMIN_URL)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    def start(self) -> str:
        asyncio.run(self._admin(f'CREATE DATABASE "{self.db_name}"'))
        sandbox_port = free_port()
        self.processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gatewayhub_sandbox",
                    "--port",
                    str(sandbox_port),
                    "--currencies",
                    "EUR",
                ],
                stderr=subprocess.DEVNULL,
            )
        )
        wait_http(f"http://127.0.0.1:{sandbox_port}/_sandbox/events", within=90)
        self.config = self.folder / "gateway.toml"
        shared = f'redis_url = "{REDIS_URL}"\nredis_prefix = "gh_bench_{secrets.token_hex(4)}"\n'
        self.config.write_text(gateway_toml(self.database_url, sandbox_port, shared))
        subprocess.run(
            [GATEWAYHUB, "migrate", "--config", str(self.config)], check=True, capture_output=True
        )
        made = subprocess.run(
            [GATEWAYHUB, "merchants", "create", "Bench", "--config", str(self.config)],
            capture_output=True,
            text=True,
            check=True,
        )
        return next(line.split()[1] for line in made.stdout.splitlines() if line.startswith("key "))

    def instance(self) -> str:
        port = free_port()
        process = subprocess.Popen(
            [GATEWAYHUB, "serve", "--config", str(self.config), "--port", str(port)],
            stdout=subprocess.DEVNULL,
        )
        self.instances.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/readyz", within=90)
        return url

    def stop(self) -> None:
        for process in self.instances + self.processes:
            process.terminate()
            process.wait(timeout=60)
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))


def run(
    rate: float, seconds: float, sweep: list[float], sweep_seconds: float
) -> tuple[list[Arm], list[Arm], tuple[float, ...]]:
    with tempfile.TemporaryDirectory() as folder:
        deployment = Deployment(Path(folder))
        try:
            key = deployment.start()
            first = deployment.instance()
            second = deployment.instance()
            main = [
                asyncio.run(open_loop([first], key, rate, seconds, "one")),
                asyncio.run(open_loop([first, second], key, rate, seconds, "two")),
            ]
            swept = []
            for step, higher in enumerate(sweep):
                swept.append(
                    asyncio.run(open_loop([first], key, higher, sweep_seconds, f"s1-{step}"))
                )
                swept.append(
                    asyncio.run(
                        open_loop([first, second], key, higher, sweep_seconds, f"s2-{step}")
                    )
                )
            load = os.getloadavg()
        finally:
            deployment.stop()
    return main, swept, load


def table(arms: list[Arm]) -> list[str]:
    lines = [
        "| arm | offered /s | seconds | completed /s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for arm in arms:
        if len(arm.latencies) < 2:
            lines.append(
                f"| {arm.name} | {arm.rate:g} | {arm.seconds:g} | {arm.throughput:.1f} | - | - | - | {arm.errors} |"
            )
            continue
        lines.append(
            f"| {arm.name} | {arm.rate:g} | {arm.seconds:g} | {arm.throughput:.1f} | {arm.pct(50):.0f} | "
            f"{arm.pct(95):.0f} | {arm.pct(99):.0f} | {arm.errors} |"
        )
    return lines


def section(main: list[Arm], swept: list[Arm], load: tuple[float, ...], command: str) -> str:
    lines = [
        HEADING,
        "",
        f"Command: `{command}`",
        "",
        "Open loop on loopback: POST /v1/payments (automatic capture) started at a fixed rate,"
        " round-robin over the instances, latency from each request's due time. PostgreSQL and"
        " Redis shared; one sandbox emulator process; each `gatewayhub serve` its own process."
        " Errors: non-201 answers, transport failures, 10 s timeouts.",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()};"
        f" load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min;"
        " other jobs shared the machine: indicative figures only).",
        "",
        *table(main),
        "",
        "Sweep (where it saturates: completed/s stops following the offered rate, latency grows):",
        "",
        *table(swept),
    ]
    return "\n".join(lines) + "\n"


def report(
    rate: float = 40, seconds: float = 60, sweep: str = "60,80,120", sweep_seconds: float = 15
) -> str:
    """The docs/benchmarks.md section."""
    steps = [float(s) for s in sweep.split(",") if s]
    main, swept, load = run(rate, seconds, steps, sweep_seconds)
    command = f"python benchmarks/load.py --rate {rate:g} --seconds {seconds:g} --sweep {sweep} --sweep-seconds {sweep_seconds:g}"
    return section(main, swept, load, command)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=40)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--sweep", default="60,80,120")
    parser.add_argument("--sweep-seconds", type=float, default=15)
    args = parser.parse_args()
    print(report(args.rate, args.seconds, args.sweep, args.sweep_seconds))
