"""CPU per authorization: gatewayhub's SDK against raw httpx, side by side, same server.

Both arms talk to one sandbox emulator running in a separate process on loopback, so the
CPU measured here (this process only) is what each client spends per payment:

- raw httpx: POST /v1/charges with the JSON body, idempotency key and API key, then parse the
  JSON answer - what a hand-written integration does, with no routing, no storage, no retries;
- gatewayhub: `Hub.authorize` - validation, routing, idempotency claim, the attempt journaled
  before the call, the provider call through the adapter, the result, ledger postings and the
  merchant event written in one transaction, on a SQLite file.

Rounds alternate the arms so both see the same machine state. Also measures one routing
decision among 12 provider accounts. Prints a table; with --write, rewrites its section of
docs/benchmarks.md.

    python benchmarks/authorize_cpu.py --payments 2000 --rounds 5 --write
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from decimal import Decimal
from pathlib import Path

import httpx

from gatewayhub.config import parse_config
from gatewayhub.fees import CompiledFees, FeeSchedule
from gatewayhub.health import LocalHealth
from gatewayhub.hub import Hub
from gatewayhub.models import PaymentMethodType
from gatewayhub.provider import Capabilities
from gatewayhub.routing import ProviderProfile, Router, RouteRequest, RoutingPolicy, Strategy
from gatewayhub.testing import FixedClock

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "sk_sandbox_local"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gatewayhub_sandbox",
            "--port",
            str(port),
            "--currencies",
            "EUR,USD,JPY",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("sandbox server did not start")


async def raw_httpx(base: str, count: int, round_no: int) -> float:
    async with httpx.AsyncClient(base_url=base) as client:
        start = time.process_time()
        for i in range(count):
            response = await client.post(
                "/v1/charges",
                json={
                    "amount": 1050,
                    "currency": "EUR",
                    "source": "tok_visa",
                    "capture": True,
                    "reference": f"raw-{round_no}-{i}",
                    "metadata": {},
                },
                headers={
                    "Authorization": f"Bearer {API_KEY}",
                    "Idempotency-Key": f"raw-{round_no}-{i}",
                },
            )
            body = response.json()
            assert body["status"] == "captured", body
        return (time.process_time() - start) / count


async def gatewayhub_sdk(hub: Hub, count: int, round_no: int) -> float:
    start = time.process_time()
    for i in range(count):
        payment = await hub.authorize(
            amount=1050,
            currency="EUR",
            payment_method="tok_visa",
            idempotency_key=f"gh-{round_no}-{i}",
        )
        assert payment.status.value == "captured", payment
    return (time.process_time() - start) / count


def routing_decision_us(providers: int = 12, iterations: int = 20000) -> float:
    profiles = []
    currencies = frozenset({"EUR", "USD", "GBP", "JPY", "KWD"})
    for n in range(providers):
        fees = FeeSchedule(
            percent=Decimal("1.2") + Decimal(n) / 10,
            fixed={"EUR": f"0.{10 + n} EUR"},
            cross_border_percent=Decimal("1.5"),
            fx_percent=Decimal("2"),
        )
        profiles.append(
            ProviderProfile(
                account=f"acct{n}",
                capabilities=Capabilities(currencies=currencies),
                fees=CompiledFees(fees, "DE", frozenset({"EUR"})),
                priority=n,
                weight=1,
            )
        )
    router = Router(
        profiles,
        RoutingPolicy(strategies=(Strategy.EXPECTED_VALUE, Strategy.LEAST_COST, Strategy.PRIORITY)),
    )
    health = LocalHealth(FixedClock())
    request = RouteRequest("pay_01BENCH", 12345, "EUR", PaymentMethodType.CARD, "visa", "FR")
    decision = router.route(request, health)
    assert len(decision.candidates) == providers
    seconds = min(timeit.repeat(lambda: router.route(request, health), number=iterations, repeat=5))
    return seconds / iterations * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--payments", type=int, default=2000, help="payments per arm per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--write", action="store_true", help="rewrite the section in docs/benchmarks.md"
    )
    args = parser.parse_args()

    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="gh-bench-"))
    config = parse_config(
        {
            "gateway": {"database_url": f"sqlite:///{workdir / 'bench.db'}"},
            "providers": {
                "sandbox": {
                    "type": "sandbox",
                    "settings": {"base_url": base, "currencies": ["EUR", "USD", "JPY"]},
                }
            },
        }
    )
    raw: list[float] = []
    sdk: list[float] = []
    try:
        async with Hub(config, background=False) as hub:
            await raw_httpx(base, 200, -1)  # warm both paths
            await gatewayhub_sdk(hub, 200, -1)
            for round_no in range(args.rounds):
                raw.append(await raw_httpx(base, args.payments, round_no))
                sdk.append(await gatewayhub_sdk(hub, args.payments, round_no))
    finally:
        server.terminate()
        server.wait()
    routing = routing_decision_us()

    raw_us = statistics.median(raw) * 1e6
    sdk_us = statistics.median(sdk) * 1e6
    overhead = (sdk_us - raw_us) / raw_us * 100
    lines = [
        "## Authorization CPU: gatewayhub SDK vs raw httpx",
        "",
        f"Command: `python benchmarks/authorize_cpu.py --payments {args.payments} --rounds {args.rounds} --write`",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"measured {time.strftime('%Y-%m-%d')}.",
        "Setup: one sandbox emulator in its own process on loopback; this process's CPU time per payment, "
        "median over rounds that alternate the two arms.",
        "",
        "| arm | CPU per payment (median of rounds) | rounds |",
        "|---|---|---|",
        f"| raw httpx POST + JSON parse (baseline) | {raw_us:.0f} us | {', '.join(f'{r * 1e6:.0f}' for r in raw)} |",
        f"| gatewayhub `Hub.authorize` (routing + idempotency + ledger on SQLite) | {sdk_us:.0f} us | {', '.join(f'{r * 1e6:.0f}' for r in sdk)} |",
        "",
        f"gatewayhub adds **{overhead:+.1f}%** CPU per payment over raw httpx (target: at most +25%).",
        "",
        f"Routing decision among 12 accounts (expected value, least cost, priority): **{routing:.1f} us** "
        "(best of 5 x 20,000; target: well under 50 us).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section(ROOT / "docs" / "benchmarks.md", lines[0], text)


def write_section(path: Path, heading: str, text: str) -> None:
    """Replace (or append) the section that starts with `heading`."""
    current = (
        path.read_text()
        if path.exists()
        else "# Benchmarks\n\nFigures measured on this project's CI machine kind; each section names the command that produced it.\n\n"
    )
    start = current.find(heading)
    if start == -1:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = current.find("\n## ", start + len(heading))
        updated = current[:start] + text + (current[end + 1 :] if end != -1 else "")
    path.parent.mkdir(exist_ok=True)
    path.write_text(updated.rstrip("\n") + "\n")


if __name__ == "__main__":
    asyncio.run(main())
