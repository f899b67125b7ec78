"""Chaos run: gatewayhub under provider faults and gateway crashes, then the money checked.

Payments with captures, voids and refunds go through the SDK (`--via sdk`), the HTTP
service (`--via http`: a `gatewayhub serve` process called by an httpx merchant) or both
at once (`--via both`: payments alternate) against sandbox servers in separate processes,
each with a seeded fault plan; the gateway process is killed with SIGKILL and restarted on
the way; then every invariant is checked between gatewayhub's database and each sandbox's
own record. See docs/reliability.md.

    python benchmarks/chaos.py --payments 10000 --kills 12 --database postgres
    python benchmarks/chaos.py --via http --payments 1000 --kills 4 --database postgres
    python benchmarks/chaos.py --payments 300            # SQLite, a minute

It measures nothing against a baseline: its figures are faults injected and violations
found (which must be zero), with the time each phase took on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
from pathlib import Path

import asyncpg

from gatewayhub_sandbox.chaos_run import ARMS, ChaosSettings, run_chaos

ADMIN_URL = os.environ.get(
    "GATEWAYHUB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _run(args: argparse.Namespace, workdir: Path) -> str:
    database_name = None
    if args.database == "postgres":
        database_name = f"gh_chaos_{secrets.token_hex(4)}"
        await _admin(f'CREATE DATABASE "{database_name}"')
        url = f"{ADMIN_URL.rsplit('/', 1)[0]}/{database_name}"
    else:
        url = f"sqlite:///{workdir / 'chaos.db'}"
    try:
        result = await run_chaos(
            ChaosSettings(
                database_url=url,
                workdir=workdir,
                payments=args.payments,
                sandboxes=args.sandboxes,
                kills=args.kills,
                kill_after=(args.kill_min, args.kill_max),
                concurrency=args.concurrency,
                seed=args.seed,
                settle_bound=args.settle_bound,
                via=args.via,
            )
        )
    finally:
        if database_name is not None:
            await _admin(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')
    command = " ".join(["python benchmarks/chaos.py", *sys.argv[1:]])
    verdict = (
        "all invariants held"
        if result.invariants.held
        else f"**{len(result.invariants.violations)} violations**"
    )
    return "\n".join(
        [
            "## Chaos run",
            "",
            f"`{command}` on {args.database}, {ARMS[args.via]}: {verdict}.",
            "",
            result.markdown(),
            "",
        ]
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--payments", type=int, default=300)
    parser.add_argument("--sandboxes", type=int, default=3)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--kill-min", type=float, default=2.0, help="seconds between kills")
    parser.add_argument("--kill-max", type=float, default=6.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settle-bound", type=float, default=60.0)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--via",
        choices=["sdk", "http", "both"],
        default="sdk",
        help="the SDK worker, gatewayhub serve, or both at once (payments alternate)",
    )
    return parser


def report(argv: list[str] | None = None) -> str:
    """The markdown section of a run (the defaults: 300 payments on SQLite)."""
    args = _parser().parse_args(argv if argv is not None else [])
    with tempfile.TemporaryDirectory(prefix="gatewayhub-chaos-") as workdir:
        return asyncio.run(_run(args, Path(workdir)))


if __name__ == "__main__":
    print(report(sys.argv[1:]))
