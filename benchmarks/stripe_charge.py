"""A Stripe card charge, side by side: gatewayhub, the official `stripe` package, raw httpx.

All three arms charge the same local Stripe-compatible server (benchmarks/stripe_server.py,
its own process) with the same PaymentIntent create (amount, currency, payment method,
confirm, automatic capture, redirects off, two metadata keys, an Idempotency-Key) and read
the same PaymentIntent JSON back. Only the client process is measured.

- gatewayhub: `Hub.authorize` with one `stripe` account whose `base_url` is the local
  server, on a SQLite file: validation, routing, the idempotency claim, the attempt
  journaled before the call, the adapter's request and parsing, then the result, ledger
  postings, merchant event and idempotency answer in one transaction;
- stripe: stripe-python's `StripeClient(..., http_client=stripe.HTTPXClient())` and
  `client.v1.payment_intents.create_async(params, options={"idempotency_key": ...})`, its
  defaults otherwise (telemetry header on, as shipped), records nothing;
- httpx: one `httpx.AsyncClient.post` of the form and `json.loads` of the answer.

Measures:
- CPU per charge (`time.process_time`, all threads of the process, so SQLite's worker
  thread counts), one charge at a time, several rounds alternating the arms, median;
- CPU spent inside gatewayhub's `Store` (every store coroutine wrapped, in separate rounds),
  so the database and ledger part of gatewayhub's cost is shown apart from the rest;
- throughput: charges per second with `--concurrency` charges in flight (wall time; the
  server shares the two cores, so this is the least reliable figure);
- instructions per charge (`--instructions`): each arm alone under callgrind for two run
  lengths, the difference divided by the extra charges (start-up cancels out); `perf stat`
  has no instruction counter on this machine;
- where the CPU goes (`--profile`): py-spy samples of each arm alone, grouped by package,
  and gatewayhub's functions by inclusive share.

    python benchmarks/stripe_charge.py [--charges 1000] [--rounds 5] [--instructions] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import stripe

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stripe_server

from gatewayhub.config import parse_config
from gatewayhub.hub import Hub

HEADING = "## Stripe charge: gatewayhub vs the official stripe package vs raw httpx"
KEY = stripe_server.SECRET_KEY
API_VERSION = stripe_server.API_VERSION
AMOUNT, CURRENCY, METHOD = 2000, "usd", "pm_card_visa"
ARMS = ("gatewayhub", "stripe", "httpx")
Charge = Callable[[str], Awaitable[None]]


def _form(key: str) -> dict[str, Any]:
    """The PaymentIntent create the stripe and httpx arms send (gatewayhub's adapter builds
    the same fields, with its own two metadata keys)."""
    return {
        "amount": AMOUNT,
        "currency": CURRENCY,
        "payment_method": METHOD,
        "confirm": True,
        "capture_method": "automatic",
        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        "metadata": {"order_id": f"ord_{key}", "attempt_key": key},
    }


def _form_pairs(key: str) -> list[tuple[str, str]]:
    return [
        ("amount", str(AMOUNT)),
        ("currency", CURRENCY),
        ("payment_method", METHOD),
        ("confirm", "true"),
        ("capture_method", "automatic"),
        ("automatic_payment_methods[enabled]", "true"),
        ("automatic_payment_methods[allow_redirects]", "never"),
        ("metadata[order_id]", f"ord_{key}"),
        ("metadata[attempt_key]", key),
    ]


def hub_config(base: str, database: Path) -> Any:
    return parse_config(
        {
            "gateway": {"database_url": f"sqlite:///{database}"},
            "providers": {
                "stripe": {
                    "type": "stripe",
                    "settings": {"secret_key": KEY, "base_url": base, "currencies": ["USD"]},
                }
            },
        }
    )


class Clients:
    """The three arms' clients, open on one server."""

    def __init__(self, base: str, workdir: Path) -> None:
        self.base = base
        self.hub = Hub(hub_config(base, workdir / "bench.db"), background=False)
        self.stripe_http = stripe.HTTPXClient()
        self.stripe = stripe.StripeClient(
            KEY, base_addresses={"api": base}, http_client=self.stripe_http
        )
        self.httpx = httpx.AsyncClient(base_url=base)

    async def __aenter__(self) -> Clients:
        await self.hub.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.hub.close()
        await self.httpx.aclose()
        await self.stripe_http.close_async()

    def arm(self, name: str) -> Charge:
        return {"gatewayhub": self.gatewayhub, "stripe": self.official, "httpx": self.raw}[name]

    async def gatewayhub(self, key: str) -> None:
        payment = await self.hub.authorize(
            amount=AMOUNT,
            currency="USD",
            payment_method=METHOD,
            capture="automatic",
            idempotency_key=key,
        )
        assert payment.status.value == "captured", payment

    async def official(self, key: str) -> None:
        intent = await self.stripe.v1.payment_intents.create_async(
            _form(key),  # type: ignore[arg-type]
            options={"idempotency_key": key},
        )
        assert intent.status == "succeeded", intent

    async def raw(self, key: str) -> None:
        response = await self.httpx.post(
            "/v1/payment_intents",
            content=urlencode(_form_pairs(key)).encode(),
            headers={
                "Authorization": f"Bearer {KEY}",
                "Stripe-Version": API_VERSION,
                "Idempotency-Key": key,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        intent = json.loads(response.content)
        assert response.status_code == 200, intent
        assert intent["status"] == "succeeded", intent


async def cpu_per_charge(charge: Charge, count: int, tag: str) -> float:
    start = time.process_time()
    for i in range(count):
        await charge(f"{tag}-{i}")
    return (time.process_time() - start) / count


async def throughput(charge: Charge, count: int, concurrency: int, tag: str) -> tuple[float, float]:
    """Charges per second (wall) and CPU per charge with `concurrency` charges in flight."""
    numbers = iter(range(count))

    async def worker() -> None:
        for i in numbers:
            await charge(f"{tag}-{i}")

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return count / wall, cpu / count


class CpuMeter:
    """CPU spent inside some coroutine methods of one object, wrapped on the instance.
    Charges run one at a time while metered, so nothing else runs meanwhile."""

    def __init__(self, target: object, names: list[str]) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._target = target
        self._names = names
        for name in names:
            setattr(target, name, self._metered(getattr(target, name)))

    @classmethod
    def public(cls, target: object) -> CpuMeter:
        """Every public coroutine method of `target`."""
        found = inspect.getmembers(target, inspect.iscoroutinefunction)
        return cls(target, [name for name, _ in found if not name.startswith("_")])

    def _metered(self, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def metered(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return await method(*args, **kwargs)
            finally:
                self.seconds += time.process_time() - start
                self.calls += 1

        return metered

    def remove(self) -> None:
        for name in self._names:
            delattr(self._target, name)


async def side_by_side(
    charges: int, rounds: int, concurrency: int, throughput_charges: int
) -> dict[str, Any]:
    port = stripe_server.free_port()
    server = stripe_server.start(port)
    workdir = Path(tempfile.mkdtemp(prefix="gh-stripe-bench-"))
    cpu: dict[str, list[float]] = {arm: [] for arm in ARMS}
    rate: dict[str, list[float]] = {arm: [] for arm in ARMS}
    rate_cpu: dict[str, list[float]] = {arm: [] for arm in ARMS}
    parts: list[dict[str, float]] = []
    try:
        async with Clients(f"http://127.0.0.1:{port}", workdir) as clients:
            for arm in ARMS:
                await cpu_per_charge(clients.arm(arm), 200, f"{arm}-warm")
            for round_no in range(rounds):
                # Rotate the order so no arm always runs first or last in a round.
                order = ARMS[round_no % 3 :] + ARMS[: round_no % 3]
                for arm in order:
                    cpu[arm].append(
                        await cpu_per_charge(clients.arm(arm), charges, f"{arm}-{round_no}")
                    )
                store = CpuMeter.public(clients.hub.store)
                http = CpuMeter(clients.hub.accounts["stripe"].adapter.http, ["send"])
                total = await cpu_per_charge(clients.gatewayhub, charges, f"meter-{round_no}")
                store.remove()
                http.remove()
                parts.append(
                    {
                        "total": total,
                        "store": store.seconds / charges,
                        "store_calls": store.calls / charges,
                        "http": http.seconds / charges,
                    }
                )
                for arm in order:
                    per_second, per_charge = await throughput(
                        clients.arm(arm), throughput_charges, concurrency, f"{arm}-tp-{round_no}"
                    )
                    rate[arm].append(per_second)
                    rate_cpu[arm].append(per_charge)
    finally:
        server.terminate()
        server.wait()
    return {"cpu": cpu, "rate": rate, "rate_cpu": rate_cpu, "parts": parts}


# -- instructions (callgrind) and profile ------------------------------------------------------


async def run_one_arm(arm: str, count: int) -> None:
    """One arm alone, after a warm-up: what --instructions runs under callgrind."""
    port = stripe_server.free_port()
    server = stripe_server.start(port)
    try:
        async with Clients(
            f"http://127.0.0.1:{port}", Path(tempfile.mkdtemp(prefix="gh-stripe-arm-"))
        ) as clients:
            charge = clients.arm(arm)
            await cpu_per_charge(charge, 20, "warm")
            await measured(charge, count)
    finally:
        server.terminate()
        server.wait()


async def measured(charge: Charge, count: int) -> None:
    """The charges a profile keeps (its frame tells them from the warm-up's)."""
    await cpu_per_charge(charge, count, "arm")


def instructions_per_charge(arm: str, short: int = 50, long: int = 250) -> int:
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
                "--charges",
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


# First match wins: the adapter's path contains "/stripe/" too.
_GROUPS = (
    ("gatewayhub_stripe/", "gatewayhub_stripe adapter"),
    ("gatewayhub/storage/", "gatewayhub.storage (Store, hot statements)"),
    ("gatewayhub/", "gatewayhub core (hub, service, routing, ledger, payment, models, views)"),
    ("sqlalchemy/", "SQLAlchemy (with the sqlite3 calls it makes)"),
    ("pydantic", "pydantic (validation, dumps)"),
    ("httpx/", "httpx"),
    ("httpcore/", "httpcore + h11 (HTTP/1.1)"),
    ("h11/", "httpcore + h11 (HTTP/1.1)"),
    ("anyio/", "anyio"),
    ("stripe/", "stripe package"),
    ("asyncio/", "asyncio event loop"),
    ("selectors.py", "asyncio event loop"),
    ("json/", "json"),
)


def _group(frame: str) -> str:
    where = frame.rsplit("(", 1)[-1]
    for marker, label in _GROUPS:
        if where.startswith(marker) or f"/{marker}" in where:
            return label
    return "other (stdlib: uuid, datetime, urllib, logging, ...)"


def _py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def sampled(arm: str, count: int) -> list[tuple[list[str], int]]:
    """py-spy's stacks (root first) of `count` charges of one arm alone, sampled 1000 times a
    second without instrumenting anything; only samples inside the measured loop are kept."""
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "stacks.txt"
        subprocess.run(
            [
                _py_spy() or "py-spy",
                "record",
                "--format",
                "raw",
                "--rate",
                "1000",
                "--output",
                str(out),
                "--",
                sys.executable,
                __file__,
                "--arm",
                arm,
                "--charges",
                str(count),
            ],
            check=True,
            capture_output=True,
        )
        stacks = []
        for line in out.read_text().splitlines():
            text, _, weight = line.rpartition(" ")
            frames = text.split(";")
            if any(f.startswith("measured (") for f in frames):
                stacks.append((frames, int(weight)))
    return stacks


def profile_groups(stacks: list[tuple[list[str], int]]) -> list[tuple[str, float]]:
    """Own time (the sampled leaf frame) per package, as shares of the samples."""
    totals: dict[str, int] = defaultdict(int)
    for frames, weight in stacks:
        totals[_group(frames[-1])] += weight
    total = sum(totals.values())
    return sorted(((k, v / total) for k, v in totals.items()), key=lambda kv: -kv[1])


def hot_functions(stacks: list[tuple[list[str], int]], top: int = 15) -> list[tuple[str, float]]:
    """gatewayhub's functions by inclusive share of the samples (each counted once a stack)."""
    totals: dict[str, int] = defaultdict(int)
    for frames, weight in stacks:
        seen = set()
        for frame in frames:
            name, _, where = frame.rpartition(" (")
            if where.startswith(("gatewayhub/", "gatewayhub_stripe/")):
                key = f"{where.split(':')[0]} {name}"
                if key not in seen:
                    seen.add(key)
                    totals[key] += weight
    total = sum(w for _, w in stacks)
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    return [(k, v / total) for k, v in ranked[:top]]


# -- the section ---------------------------------------------------------------------------------


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} us"


def measure(
    charges: int = 1000,
    rounds: int = 5,
    concurrency: int = 16,
    instructions: bool = True,
    profile: bool = True,
) -> str:
    results = asyncio.run(side_by_side(charges, rounds, concurrency, charges))
    cpu = {arm: statistics.median(v) for arm, v in results["cpu"].items()}
    rate = {arm: statistics.median(v) for arm, v in results["rate"].items()}
    rate_cpu = {arm: statistics.median(v) for arm, v in results["rate_cpu"].items()}
    part = {k: statistics.median(p[k] for p in results["parts"]) for k in results["parts"][0]}
    rest = part["total"] - part["store"] - part["http"]
    load = os.getloadavg()[0]
    command = (
        f"python benchmarks/stripe_charge.py --charges {charges} --rounds {rounds} "
        f"--concurrency {concurrency}{' --instructions' if instructions else ''}"
        f"{' --profile' if profile else ''}"
    )
    names = {
        "gatewayhub": "gatewayhub `Hub.authorize` (routing + idempotency + journal + ledger on SQLite)",
        "stripe": f"official `stripe` {stripe.VERSION} `v1.payment_intents.create_async` (HTTPXClient)",
        "httpx": "raw `httpx.AsyncClient.post` + `json.loads`",
    }
    lines = [
        HEADING,
        "",
        f"Command: `{command}` (server: `benchmarks/stripe_server.py`, started by the benchmark)",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other jobs, "
        f"Python {platform.python_version()}, httpx {httpx.__version__}; measured "
        f"{time.strftime('%Y-%m-%d')} (load average {load:.1f} at the end).",
        "Setup: a local Stripe-compatible server in its own process on loopback answers "
        "`POST /v1/payment_intents` with a succeeded PaymentIntent in Stripe's wire format; "
        "all three arms send the same create (confirm, automatic capture, two metadata keys, "
        "an Idempotency-Key). Only the client process is measured.",
        "",
        f"| arm | CPU per charge, one at a time (median of {rounds}) | rounds | "
        f"charges/s at {concurrency} in flight | CPU per charge at {concurrency} in flight |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {names[arm]} | {_us(cpu[arm])} | "
        f"{', '.join(f'{r * 1e6:.0f}' for r in results['cpu'][arm])} | "
        f"{rate[arm]:.0f} | {_us(rate_cpu[arm])} |"
        for arm in ARMS
    ]
    lines += [
        "",
        f"gatewayhub's Stripe charge costs **{(cpu['gatewayhub'] - cpu['stripe']) / cpu['stripe'] * 100:+.0f}%** "
        f"CPU per charge against the official stripe package (target: no more, i.e. +0% or less), "
        f"and {(cpu['gatewayhub'] - cpu['httpx']) / cpu['httpx'] * 100:+.0f}% against raw httpx. "
        f"The official package costs {(cpu['stripe'] - cpu['httpx']) / cpu['httpx'] * 100:+.0f}% over raw httpx.",
        "",
        "gatewayhub's charge taken apart (separate rounds, one charge at a time, the "
        "`Store`'s coroutines and the adapter's `ProviderHTTP.send` wrapped to add up "
        "the CPU spent inside them):",
        "",
        "| part of gatewayhub's charge | CPU per charge (median) | share |",
        "|---|---|---|",
        f"| inside the `Store`: SQLAlchemy + sqlite3, {part['store_calls']:.0f} transactions "
        f"(claim + attempt journaled; result + ledger + event + idempotency answer) | "
        f"{_us(part['store'])} | {part['store'] / part['total'] * 100:.0f}% |",
        f"| the HTTP exchange (`ProviderHTTP.send`: httpx send + read) | {_us(part['http'])} | "
        f"{part['http'] / part['total'] * 100:.0f}% |",
        f"| the rest: validation, idempotency fingerprint, routing, ledger postings, the "
        f"adapter's form and parsing, views | {_us(rest)} | {rest / part['total'] * 100:.0f}% |",
        f"| total (metered rounds) | {_us(part['total'])} | |",
        "",
        f"Without the Store gatewayhub spends {_us(part['total'] - part['store'])} per charge, "
        f"{(part['total'] - part['store'] - cpu['stripe']) / cpu['stripe'] * 100:+.0f}% against "
        f"the official package (which records nothing); the HTTP exchange alone costs "
        f"{(part['http'] - cpu['httpx']) / cpu['httpx'] * 100:+.0f}% against the whole raw httpx "
        "arm (post + json.loads).",
    ]
    if instructions:
        counts = {arm: instructions_per_charge(arm) for arm in ARMS}
        lines += [
            "",
            "Instructions per charge (callgrind, 250 minus 50 charges per arm, each arm alone; "
            "start-up cancels out; independent of the other jobs on the machine):",
            "",
            "| arm | instructions per charge |",
            "|---|---|",
            *(f"| {names[arm]} | {counts[arm] / 1e6:.2f} M |" for arm in ARMS),
            "",
            f"Instructions: gatewayhub **{(counts['gatewayhub'] - counts['stripe']) / counts['stripe'] * 100:+.0f}%** "
            f"against the official package, {(counts['gatewayhub'] - counts['httpx']) / counts['httpx'] * 100:+.0f}% "
            "against raw httpx.",
        ]
    if profile and _py_spy():
        ours = sampled("gatewayhub", 1000)
        groups = profile_groups(ours)
        official = profile_groups(sampled("stripe", 1000))
        hot = hot_functions(ours)
        per_charge = cpu["gatewayhub"]
        lines += [
            "",
            "Where the CPU goes (py-spy, 1000 samples/s, 1000 charges of each arm alone; own "
            "time of the sampled Python frame, so C calls count in the Python code that made "
            "them; the gatewayhub column's us are its share times its CPU per charge above):",
            "",
            "| package | gatewayhub arm | official stripe arm |",
            "|---|---|---|",
        ]
        theirs = dict(official)
        lines += [
            f"| {label} | {share * 100:.1f}% ({share * per_charge * 1e6:.0f} us) | "
            f"{theirs.get(label, 0) * 100:.1f}% |"
            for label, share in groups
        ]
        for label, share in official:
            if label not in dict(groups):
                lines.append(f"| {label} | 0.0% | {share * 100:.1f}% |")
        lines += [
            "",
            "gatewayhub's functions by inclusive share of the gatewayhub arm's samples:",
            "",
            "| function | share | about, per charge |",
            "|---|---|---|",
            *(
                f"| `{name}` | {share * 100:.1f}% | {share * per_charge * 1e6:.0f} us |"
                for name, share in hot
            ),
        ]
    return "\n".join(lines) + "\n"


def report(quick: bool = False) -> str:
    """This benchmark's section of docs/benchmarks.md."""
    if quick:
        return measure(charges=200, rounds=2, concurrency=16, instructions=False, profile=False)
    return measure()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--charges", type=int, default=1000, help="charges per arm per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions (callgrind)"
    )
    parser.add_argument("--profile", action="store_true", help="where gatewayhub's CPU goes")
    parser.add_argument("--arm", choices=ARMS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.arm:
        asyncio.run(run_one_arm(args.arm, args.charges))
        return
    print(
        measure(args.charges, args.rounds, args.concurrency, args.instructions, args.profile),
        end="",
    )


if __name__ == "__main__":
    main()
