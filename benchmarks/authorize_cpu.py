"""CPU per authorization: gatewayhub's SDK against raw httpx, side by side, same server.

Both arms talk to one sandbox emulator running in a separate process on loopback, so what is
measured (this process only) is what each client spends per payment:

- raw httpx: POST /v1/charges with the JSON body, idempotency key and API key, then parse the
  JSON answer - a hand-written integration with no routing, no storage, no retries;
- gatewayhub: `Hub.authorize` - validation, routing, idempotency claim, the attempt journaled
  before the call, the provider call through the adapter, then the result, ledger postings,
  merchant event and idempotency answer in one transaction, on a SQLite file;
- floor (reference, not a client): the same database writes gatewayhub makes for one payment,
  done with the bare sqlite3 module and pre-built rows - what durability costs at the least.

Two measures:
- CPU time (`time.process_time`), rounds alternating the arms; sensitive to other jobs;
- instructions per payment (`--instructions`): each arm under `valgrind --tool=callgrind`
  for two run lengths, the difference divided by the extra payments, so start-up cancels out
  and the figure does not depend on what else the machine is doing.

Also times one routing decision among 12 provider accounts.

    python benchmarks/authorize_cpu.py --payments 2000 --rounds 5 --instructions --write
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from datetime import UTC, datetime
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
from gatewayhub.storage.database import open_database
from gatewayhub.testing import FixedClock
from gatewayhub_sandbox.launch import free_port

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "sk_sandbox_local"
HEADING = "## Authorization CPU: gatewayhub SDK vs raw httpx"


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


def hub_config(base: str, database: Path) -> object:
    return parse_config(
        {
            "gateway": {"database_url": f"sqlite:///{database}"},
            "providers": {
                "sandbox": {
                    "type": "sandbox",
                    "settings": {"base_url": base, "currencies": ["EUR", "USD", "JPY"]},
                }
            },
        }
    )


async def raw_httpx(base: str, count: int, tag: str) -> float:
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
                    "reference": f"raw-{tag}-{i}",
                    "metadata": {},
                },
                headers={"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": f"raw-{tag}-{i}"},
            )
            body = response.json()
            assert body["status"] == "captured", body
        return (time.process_time() - start) / count


async def gatewayhub_sdk(hub: Hub, count: int, tag: str) -> float:
    start = time.process_time()
    for i in range(count):
        payment = await hub.authorize(
            amount=1050, currency="EUR", payment_method="tok_visa", idempotency_key=f"gh-{tag}-{i}"
        )
        assert payment.status.value == "captured", payment
    return (time.process_time() - start) / count


async def floor_writes(database: Path, count: int) -> float:
    """gatewayhub's writes for one captured payment, with bare sqlite3 and pre-built rows."""
    db = open_database(f"sqlite:///{database}")
    await db.migrate()
    await db.close()
    con = sqlite3.connect(database, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    route = json.dumps(
        {
            "strategies": ["priority"],
            "rule": None,
            "candidates": [
                {
                    "account": "sandbox",
                    "fee": 41,
                    "approval": 0.85,
                    "observations": 0,
                    "explored": False,
                }
            ],
            "excluded": [],
        }
    )
    event = "INSERT INTO payment_events (payment_id,type,from_status,to_status,data,created_at) VALUES (?,?,?,?,?,?)"
    start = time.process_time()
    for i in range(count):
        pid, aid = f"pay_{i}", f"att_{i}"
        con.execute("BEGIN IMMEDIATE")
        con.execute(
            "INSERT INTO idempotency_keys (merchant_id,key,operation,fingerprint,state,resource_id,locked_until,created_at,updated_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            ("m", f"k{i}", "authorize", "f" * 64, "in_progress", pid, now, now, now),
        )
        con.execute(
            "INSERT INTO payments (id,merchant_id,status,amount,currency,capture_mode,method_type,brand,funding,issuer_country,last4,reference,description,customer_country,metadata,provider,provider_reference,authorized,captured,refunded,fees,decline_code,decline_message,next_action,route,created_at,updated_at,version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                pid,
                "m",
                "pending",
                1050,
                "EUR",
                "automatic",
                "card",
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                "{}",
                None,
                None,
                0,
                0,
                0,
                0,
                None,
                None,
                "null",
                route,
                now,
                now,
                0,
            ),
        )
        con.execute(
            "INSERT INTO attempts (id,payment_id,seq,operation,provider,key,amount,currency,status,started_at,finished_at,provider_reference,decline_code,decision,provider_code,message,refund_id,final,tries) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                aid,
                pid,
                1,
                "authorize",
                "sandbox",
                f"key{i}",
                1050,
                "EUR",
                "started",
                now,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                1,
                0,
            ),
        )
        con.executemany(
            event,
            [
                (pid, "payment.created", None, None, '{"amount":1050,"currency":"EUR"}', now),
                (pid, "payment.routed", None, None, '{"candidates":["sandbox"],"rule":null}', now),
            ],
        )
        con.execute("COMMIT")
        con.execute("BEGIN IMMEDIATE")
        con.execute(
            "UPDATE payments SET status=?,provider=?,provider_reference=?,authorized=?,captured=?,refunded=?,fees=?,decline_code=?,decline_message=?,next_action=?,updated_at=?,version=? WHERE id=? AND version=?",
            ("captured", "sandbox", "ch_1", 1050, 1050, 0, 41, None, None, "null", now, 1, pid, 0),
        )
        con.execute(
            "UPDATE attempts SET status=?,finished_at=?,provider_reference=?,decline_code=?,decision=?,provider_code=?,message=?,tries=? WHERE id=?",
            ("succeeded", now, "ch_1", None, None, None, None, 1, aid),
        )
        con.executemany(
            event,
            [
                (
                    pid,
                    "payment.captured",
                    "pending",
                    "captured",
                    '{"provider":"sandbox","fee":41}',
                    now,
                )
            ],
        )
        con.executemany(
            "INSERT INTO ledger_entries (transaction_id,merchant_id,payment_id,refund_id,kind,account,currency,amount,created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (f"ltx{i}", "m", pid, None, "capture", account, "EUR", value, now)
                for account, value in (
                    ("receivable:sandbox", 1009),
                    ("sales", -1050),
                    ("fees:sandbox", 41),
                )
            ],
        )
        con.executemany(
            "INSERT INTO outbox (merchant_id,payment_id,type,payload,status,tries,created_at,next_attempt_at) VALUES (?,?,?,?,?,?,?,?)",
            [
                (
                    "m",
                    pid,
                    "payment.captured",
                    json.dumps(
                        {"id": pid, "status": "captured", "amount": 1050, "currency": "EUR"}
                    ),
                    "pending",
                    0,
                    now,
                    now,
                )
            ],
        )
        con.execute(
            "UPDATE idempotency_keys SET state=?,response_status=?,response_body=?,locked_until=?,updated_at=? WHERE merchant_id=? AND key=?",
            (
                "completed",
                200,
                json.dumps({"id": pid, "status": "captured"}),
                None,
                now,
                "m",
                f"k{i}",
            ),
        )
        con.execute("COMMIT")
    cpu = (time.process_time() - start) / count
    con.close()
    return cpu


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
    assert len(router.route(request, health).candidates) == providers
    seconds = min(timeit.repeat(lambda: router.route(request, health), number=iterations, repeat=5))
    return seconds / iterations * 1e6


async def run_one_arm(arm: str, count: int) -> None:
    """One arm alone (what --instructions runs under callgrind)."""
    workdir = Path(tempfile.mkdtemp(prefix="gh-bench-"))
    if arm == "floor":
        await floor_writes(workdir / "floor.db", count)
        return
    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        if arm == "raw":
            await raw_httpx(base, count, "arm")
        else:
            async with Hub(hub_config(base, workdir / "bench.db"), background=False) as hub:  # type: ignore[arg-type]
                await gatewayhub_sdk(hub, count, "arm")
    finally:
        server.terminate()
        server.wait()


def instructions_per_payment(arm: str, short: int = 50, long: int = 250) -> int:
    def collected(count: int) -> int:
        run = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                __file__,
                "--arm",
                arm,
                "--payments",
                str(count),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        match = re.search(r"Collected : (\d+)", run.stderr)
        assert match, run.stderr[-500:]
        return int(match.group(1))

    return (collected(long) - collected(short)) // (long - short)


async def side_by_side(payments: int, rounds: int) -> tuple[list[float], list[float], float]:
    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="gh-bench-"))
    raw: list[float] = []
    sdk: list[float] = []
    try:
        async with Hub(hub_config(base, workdir / "bench.db"), background=False) as hub:  # type: ignore[arg-type]
            await raw_httpx(base, 200, "warm")
            await gatewayhub_sdk(hub, 200, "warm")
            for round_no in range(rounds):
                raw.append(await raw_httpx(base, payments, str(round_no)))
                sdk.append(await gatewayhub_sdk(hub, payments, str(round_no)))
    finally:
        server.terminate()
        server.wait()
    floor = await floor_writes(workdir / "floor.db", payments)
    return raw, sdk, floor


async def measure(payments: int, rounds: int, instructions: bool) -> str:
    """The section of docs/benchmarks.md, measured now."""
    raw, sdk, floor = await side_by_side(payments, rounds)
    routing = routing_decision_us()
    raw_us, sdk_us = statistics.median(raw) * 1e6, statistics.median(sdk) * 1e6
    load = os.getloadavg()[0]
    command = f"python benchmarks/authorize_cpu.py --payments {payments} --rounds {rounds}{' --instructions' if instructions else ''} --write"
    lines = [
        HEADING,
        "",
        f"Command: `{command}`",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"measured {time.strftime('%Y-%m-%d')} (load average {load:.1f} at the end).",
        "Setup: one sandbox emulator in its own process on loopback; CPU of the client process only.",
        "",
        "| arm | CPU per payment (median of rounds) | rounds |",
        "|---|---|---|",
        f"| raw httpx POST + JSON parse (baseline) | {raw_us:.0f} us | {', '.join(f'{r * 1e6:.0f}' for r in raw)} |",
        f"| gatewayhub `Hub.authorize` (routing + idempotency + journal + ledger on SQLite) | {sdk_us:.0f} us | {', '.join(f'{r * 1e6:.0f}' for r in sdk)} |",
        f"| floor: the same database writes with bare sqlite3 (no HTTP) | {floor * 1e6:.0f} us | |",
        "",
        f"CPU time: gatewayhub adds **{(sdk_us - raw_us) / raw_us * 100:+.0f}%** per payment over raw httpx "
        f"(target: at most +25%).",
    ]
    if instructions:
        counts = {arm: instructions_per_payment(arm) for arm in ("raw", "sdk", "floor")}
        lines += [
            "",
            "Instructions per payment (callgrind; 250 minus 50 payments per arm, start-up cancels out):",
            "",
            "| arm | instructions per payment |",
            "|---|---|",
            f"| raw httpx (baseline) | {counts['raw'] / 1e6:.2f} M |",
            f"| gatewayhub `Hub.authorize` | {counts['sdk'] / 1e6:.2f} M |",
            f"| floor: the same writes with bare sqlite3 | {counts['floor'] / 1e6:.2f} M |",
            "",
            f"Instructions: gatewayhub adds **{(counts['sdk'] - counts['raw']) / counts['raw'] * 100:+.0f}%** over raw httpx; "
            f"the database writes alone, at their cheapest, are {counts['floor'] / counts['raw'] * 100:.0f}% of a raw httpx call.",
            "",
            "**The +25% target is not met, and cannot be while gatewayhub keeps its promises.** The target counts, "
            "as overhead on an HTTP call that records nothing, every write gatewayhub must make: the attempt "
            "journaled before the call (so a timeout or a crash never becomes a second charge) and the result, "
            "ledger postings, merchant event and idempotency answer in one transaction. Those writes done with "
            f"bare sqlite3, no Python around them, already cost {counts['floor'] / counts['raw'] * 100:.0f}% of a raw httpx "
            "call. Compared with an integration that records its payments at that floor (raw httpx + the floor's "
            f"writes: {(counts['raw'] + counts['floor']) / 1e6:.2f} M), gatewayhub costs "
            f"{(counts['sdk'] - counts['raw'] - counts['floor']) / (counts['raw'] + counts['floor']) * 100:.0f}% more. "
            "The rest is SQLAlchemy's statement handling (already bypassed for the hot writes, see "
            "docs/how-it-works.md), pydantic validation of the request and of the returned view, routing and the ledger.",
        ]
    lines += [
        "",
        f"Routing decision among 12 accounts (expected value, least cost, priority): **{routing:.1f} us** "
        "(best of 5 x 20,000; target: well under 50 us).",
        "",
    ]
    return "\n".join(lines)


def report(quick: bool = False) -> str:
    """This benchmark's section of docs/benchmarks.md (what the documented command runs)."""
    if quick:
        return asyncio.run(measure(200, 2, instructions=False))
    return asyncio.run(measure(1000, 5, instructions=True))


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--payments", type=int, default=2000, help="payments per arm per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions with callgrind"
    )
    parser.add_argument(
        "--write", action="store_true", help="rewrite this section of docs/benchmarks.md"
    )
    parser.add_argument("--arm", choices=["raw", "sdk", "floor"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.arm:
        await run_one_arm(args.arm, args.payments)
        return
    text = await measure(args.payments, args.rounds, args.instructions)
    print(text)
    if args.write:
        write_section(ROOT / "docs" / "benchmarks.md", HEADING, text)


def write_section(path: Path, heading: str, text: str) -> None:
    """Replace (or append) the section that starts with `heading`."""
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    start = current.find(heading)
    if start == -1:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = current.find("\n## ", start + len(heading))
        updated = current[:start] + text + (current[end + 1 :] if end != -1 else "")
    path.write_text(updated.rstrip("\n") + "\n")


if __name__ == "__main__":
    asyncio.run(main())
