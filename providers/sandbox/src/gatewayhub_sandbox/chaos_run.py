"""A chaos run: payments through gatewayhub against faulty sandbox servers, with the gateway
process killed and restarted, then the books checked against every provider's own record.

    result = await run_chaos(ChaosSettings(payments=500, database_url=..., workdir=...))
    print(result.markdown())

What happens:

1. `sandboxes` sandbox servers start as separate processes, each with its own seeded
   `FaultPlan` (errors, dropped connections, slow and hanging answers before and after the
   work, 429 storms, webhook faults) and outage windows.
2. The payments' scripts (`chaos_script`) are played through one arm, or both (`via`):
   - `sdk`: a gateway worker process (`chaos_worker`) embeds the SDK, drives the payments
     with `concurrency` tasks and receives the sandboxes' webhooks. It is killed with
     SIGKILL `kills` times at random moments and started again with the payments it had
     not finished.
   - `http`: a `gatewayhub serve` process receives the webhooks and the API calls of an
     httpx merchant in this process (`chaos_http`), which sends each call again with its
     Idempotency-Key when it got no answer. The server is killed `kills` times and started
     again on the same database and port while the merchant keeps going.
   - `both`: even-numbered payments through the SDK worker, odd ones over HTTP, at the same
     time on one database (two gateways, as two instances); each process is killed `kills`
     times, the webhooks go to the server.
3. Settling: a fresh gateway on the same database receives the late webhooks and runs the
   reconciler until no outcome is unknown, within `settle_bound` seconds.
4. `check_invariants` compares the database with each sandbox's `GET /_sandbox/charges`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import uvicorn

from gatewayhub.api.merchants import IssuedKey, create_merchant
from gatewayhub.clock import SystemClock
from gatewayhub.hub import Hub
from gatewayhub.storage import migrate_database, open_database
from gatewayhub.testing.invariants import RESOLVED, InvariantReport, check_invariants
from gatewayhub_sandbox.chaos_http import (
    GatewayService,
    HttpRun,
    HttpTally,
    drive_over_http,
    serve_config,
    toml_document,
)
from gatewayhub_sandbox.chaos_worker import hub_config, webhook_app
from gatewayhub_sandbox.faults import FaultPlan, Outage
from gatewayhub_sandbox.launch import SandboxProcess, free_port, spawn
from gatewayhub_sandbox.record import provider_charges

_NEVER = datetime(1970, 1, 1, tzinfo=UTC)
Via = Literal["sdk", "http", "both"]
ARMS: dict[Via, str] = {
    "sdk": "through the SDK (a worker process embedding `Hub`)",
    "http": "through the HTTP service (`gatewayhub serve`, called by an httpx merchant)",
    "both": "through both arms at once on one database (even-numbered payments through the "
    "SDK worker, odd ones through `gatewayhub serve`)",
}

# The default plan: about one request in five meets a fault, one webhook in four.
DEFAULT_PLAN = FaultPlan(
    error_before=0.03,
    reset_before=0.03,
    slow=0.01,
    error_after=0.03,
    reset_after=0.03,
    timeout_after=0.02,
    rate_limit_storm=0.002,
    webhook_lost=0.08,
    webhook_duplicated=0.06,
    webhook_delayed=0.06,
    webhook_reordered=0.06,
    slow_seconds=1.5,
    hang_seconds=1.5,
    storm_seconds=0.3,
    webhook_delay_max_ms=400,
    reorder_hold_ms=300,
)


@dataclass(frozen=True)
class ChaosSettings:
    """The size and the faults of a run."""

    database_url: str
    workdir: Path
    payments: int = 300
    sandboxes: int = 3
    kills: int = 2  # of each gateway process (`both` runs two)
    kill_after: tuple[float, float] = (2.0, 6.0)  # seconds of driving between two kills
    # Or: payments finished between two kills (each kill then lands while payments remain,
    # whatever the machine's speed).
    kill_after_done: tuple[int, int] | None = None
    concurrency: int = 16
    seed: int = 1
    plan: FaultPlan = DEFAULT_PLAN
    outage_seconds: float = 2.0
    outage_every: float = 25.0
    settle_bound: float = 60.0
    via: Via = "sdk"  # the SDK worker, `gatewayhub serve`, or both (payments alternate)

    def indices(self, arm: Literal["sdk", "http"]) -> list[int]:
        """The payments `arm` plays."""
        if self.via != "both":
            return list(range(self.payments)) if self.via == arm else []
        return list(range(0 if arm == "sdk" else 1, self.payments, 2))

    def arm_concurrency(self) -> int:
        """Tasks per arm: both arms together keep `concurrency` calls going."""
        return max(1, self.concurrency // 2) if self.via == "both" else self.concurrency


@dataclass
class ChaosResult:
    """What a run did and what held."""

    settings: ChaosSettings
    invariants: InvariantReport
    faults: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    arm_outcomes: dict[str, Counter[str]] = field(default_factory=dict)  # "sdk", "http"
    kills: int = 0
    restarts: int = 0
    drive_seconds: float = 0.0
    settle_seconds: float = 0.0
    unresolved_after_drive: int = 0
    backlog_seconds: float = 0.0
    backlog: int = 0
    provider_charges: int = 0
    captures: int = 0
    refunds: int = 0
    http: HttpTally = field(default_factory=HttpTally)

    @property
    def faults_injected(self) -> int:
        """Faults of every kind, storms counted once (their 429s are in `rate_limited`)."""
        return sum(n for kind, n in self.faults.items() if kind != "rate_limit_storm")

    def _outcomes(self) -> str:
        def listed(outcomes: Counter[str]) -> str:
            return ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items()))

        if self.settings.via != "both":
            return listed(self.outcomes)
        return "; ".join(
            f"{arm.upper()} arm: {listed(self.arm_outcomes.get(arm, Counter()))}"
            for arm in ("sdk", "http")
        )

    def markdown(self) -> str:
        """The faults table, the invariants table and the figures of the run."""
        s = self.settings
        processes = "the two gateway processes" if s.via == "both" else "the gateway process"
        lines = [
            f"{s.payments:,} payments {ARMS[s.via]}, {s.sandboxes} sandbox servers, "
            f"seed {s.seed}, {self.kills} SIGKILLs of {processes} ({self.restarts} restarts); "
            f"driving took {self.drive_seconds:.1f} s. When it ended "
            f"{self.unresolved_after_drive} payments had an unknown outcome; the reconciler "
            f"settled them in {self.settle_seconds:.1f} s (bound {s.settle_bound:.0f} s). "
            f"{self.backlog:,} webhooks waited in the inbox when driving ended; applying "
            f"those still there after settling took {self.backlog_seconds:.1f} s.",
            "",
            f"Provider side: {self.provider_charges:,} charges, {self.captures:,} captures, "
            f"{self.refunds:,} refunds. Outcomes: {self._outcomes()}.",
            "",
            *([self.http.markdown(), ""] if s.via != "sdk" else []),
            "| fault injected | count |",
            "|---|---:|",
        ]
        lines += [f"| {kind} | {n:,} |" for kind, n in sorted(self.faults.items())]
        lines += [
            f"| **total** (storms counted by their 429s) | **{self.faults_injected:,}** |",
            "",
            self.invariants.table(),
        ]
        if self.invariants.violations:
            lines += ["", "Violations (first 20):", ""]
            lines += [
                f"- {v.invariant}: {v.subject}: {v.detail}" for v in self.invariants.violations[:20]
            ]
        return "\n".join(lines)


def _plans(settings: ChaosSettings, rng: random.Random) -> list[FaultPlan]:
    return [
        settings.plan.model_copy(
            update={
                "seed": settings.seed * 1000 + k,
                # An outage about every `outage_every` seconds, the first soon after the
                # gateway has started, for as long as any run lasts.
                "outages": tuple(
                    Outage(
                        start=5.0 + n * settings.outage_every + rng.uniform(0, 10),
                        duration=settings.outage_seconds,
                    )
                    for n in range(400)
                ),
            }
        )
        for k in range(settings.sandboxes)
    ]


async def _drive(
    settings: ChaosSettings,
    spec: dict[str, Any],
    indices: list[int],
    rng: random.Random,
    result: ChaosResult,
) -> None:
    """Run workers until every payment of `indices` is done, killing `kills` of them."""
    done: dict[int, str] = {}
    kills_left = settings.kills
    while len(done) < len(indices):
        spec["todo"] = [i for i in indices if i not in done]
        spec_file = settings.workdir / "worker.json"
        spec_file.write_text(json.dumps(spec))
        stderr = (settings.workdir / f"worker-{result.restarts}.log").open("wb")
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gatewayhub_sandbox.chaos_worker",
            str(spec_file),
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
        assert worker.stdout is not None
        kill_at = time.monotonic() + rng.uniform(*settings.kill_after) if kills_left else None
        remaining = len(indices) - len(done)
        kill_after_done = (
            min(rng.randint(*settings.kill_after_done), remaining // 2)
            if kills_left and settings.kill_after_done and remaining > 1
            else None
        )
        if kill_after_done is not None:
            kill_at = None
        finished_here = 0
        killed = False
        try:
            while True:
                timeout = None if kill_at is None else max(0.0, kill_at - time.monotonic())
                try:
                    line = await asyncio.wait_for(worker.stdout.readline(), timeout)
                except TimeoutError:
                    line = b""
                    killed = True
                words = line.decode().split()
                if len(words) == 3 and words[0] == "done":
                    done[int(words[1])] = words[2]
                    finished_here += 1
                    killed = kill_after_done is not None and finished_here >= kill_after_done
                if killed:
                    worker.send_signal(signal.SIGKILL)
                    kills_left -= 1
                    result.kills += 1
                    break
                if not line:
                    break
        except asyncio.CancelledError:
            # The other arm failed (`both`): this worker must not outlive the run.
            worker.send_signal(signal.SIGKILL)
            await worker.wait()
            raise
        code = await worker.wait()
        stderr.close()
        if not killed and code != 0:
            log = (settings.workdir / f"worker-{result.restarts}.log").read_text()[-3000:]
            raise RuntimeError(f"the chaos worker failed (exit {code}):\n{log}")
        if len(done) < len(indices):
            result.restarts += 1
    result.outcomes.update(done.values())
    result.arm_outcomes["sdk"] = Counter(done.values())


async def _drive_http(
    settings: ChaosSettings,
    spec: dict[str, Any],
    merchant: IssuedKey,
    hooks_port: int,
    result: ChaosResult,
) -> None:
    """Serve the API on `hooks_port` (where the sandboxes' webhooks go) and play the HTTP
    arm's payments through it, killing the server `kills` times."""
    config = settings.workdir / "serve.toml"
    config.write_text(toml_document(serve_config(spec)))
    service = GatewayService(config, settings.database_url, hooks_port, settings.workdir)
    run = HttpRun(
        service=service,
        api_key=merchant.key,
        seed=settings.seed,
        concurrency=settings.arm_concurrency(),
        kills=settings.kills,
        kill_after=settings.kill_after,
        kill_after_done=settings.kill_after_done,
        # Its own schedule: in `both` the SDK arm draws from the run's generator meanwhile.
        rng=random.Random(f"{settings.seed}:http"),  # noqa: S311 - a test schedule
    )
    await service.start()
    try:
        done = await drive_over_http(run, settings.indices("http"), result.http)
    finally:
        await service.stop()
    result.outcomes.update(done.values())
    result.arm_outcomes["http"] = Counter(done.values())
    result.kills += service.starts - 1
    result.restarts += service.starts - 1


async def _merchant(database_url: str) -> IssuedKey:
    """The run's merchant (both arms act for it), in a migrated database."""
    await migrate_database(database_url)
    db = open_database(database_url)
    try:
        return await create_merchant(db, "Chaos Shop", [], SystemClock().now())
    finally:
        await db.close()


async def _settle(hub: Hub, bound: float) -> tuple[float, int]:
    """Reconcile until no outcome is unknown (or `bound` passes), applying webhooks a batch
    at a time on the way; returns the seconds it took and how many payments were unresolved
    at the start."""
    started = time.monotonic()
    first = await hub.store.unresolved(hub.clock.now(), _NEVER, 1_000_000)
    while time.monotonic() - started < bound:
        if not await hub.store.unresolved(hub.clock.now(), _NEVER, 1):
            break
        await hub.process_webhooks()
        await hub.reconciler.run_once()
        await asyncio.sleep(0.5)
    return time.monotonic() - started, len(first)


async def _apply_backlog(hub: Hub) -> float:
    """Apply every webhook left in the inbox (late, duplicated, delayed ones); the seconds."""
    started = time.monotonic()
    # Webhooks still on their way (delayed, held, retried by the sandboxes) land first.
    await asyncio.sleep(3.5)
    while await hub.process_webhooks():
        pass
    return time.monotonic() - started


async def run_chaos(settings: ChaosSettings) -> ChaosResult:
    """One chaos run (see the module docstring)."""
    rng = random.Random(settings.seed)  # noqa: S311 - a test schedule, not security
    settings.workdir.mkdir(parents=True, exist_ok=True)
    # Where the sandboxes deliver webhooks: the SDK worker's receiver, or the server's.
    hooks_port = free_port()
    sandboxes: list[SandboxProcess] = []
    try:
        for k, plan in enumerate(_plans(settings, rng)):
            name = f"sandbox_{k}"
            sandboxes.append(
                spawn(
                    name,
                    webhook_url=f"http://127.0.0.1:{hooks_port}/v1/webhooks/sandbox/{name}",
                    faults=plan,
                    workdir=settings.workdir,
                )
            )
        merchant = await _merchant(settings.database_url)
        spec: dict[str, Any] = {
            "database_url": settings.database_url,
            "merchant": merchant.merchant_id,
            "accounts": {s.name: s.url for s in sandboxes},
            "webhook_port": hooks_port if settings.via == "sdk" else free_port(),
            "seed": settings.seed,
            "concurrency": settings.arm_concurrency(),
            "alert_after": settings.settle_bound,
        }
        result = ChaosResult(settings, InvariantReport())
        started = time.monotonic()
        # A task group: when one arm fails, the other is cancelled (its process stopped).
        async with asyncio.TaskGroup() as arms:
            if settings.indices("sdk"):
                arms.create_task(_drive(settings, spec, settings.indices("sdk"), rng, result))
            if settings.indices("http"):
                arms.create_task(_drive_http(settings, spec, merchant, hooks_port, result))
        result.drive_seconds = time.monotonic() - started
        result.invariants = await _settle_and_check(settings, spec, hooks_port, sandboxes, result)
        return result
    finally:
        for sandbox in sandboxes:
            sandbox.stop()


async def _settle_and_check(
    settings: ChaosSettings,
    spec: dict[str, Any],
    hooks_port: int,
    sandboxes: list[SandboxProcess],
    result: ChaosResult,
) -> InvariantReport:
    async with Hub(hub_config(spec), background=False) as hub:
        server = uvicorn.Server(
            uvicorn.Config(
                webhook_app(hub),
                host="127.0.0.1",
                port=hooks_port,
                log_level="critical",
                access_log=False,
                lifespan="off",
            )
        )
        serving = asyncio.create_task(server.serve())
        try:
            result.backlog = await hub.store.inbox_pending()
            result.settle_seconds, result.unresolved_after_drive = await _settle(
                hub, settings.settle_bound
            )
            result.backlog_seconds = await _apply_backlog(hub)
            charges = []
            async with httpx.AsyncClient(timeout=30) as http:
                for sandbox in sandboxes:
                    record = (await http.get(f"{sandbox.url}/_sandbox/charges")).json()
                    charges += provider_charges(sandbox.name, record)
                    result.captures += len(record["captures"])
                    result.refunds += len(record["refunds"])
                    faults = (await http.get(f"{sandbox.url}/_sandbox/faults")).json()
                    result.faults.update(faults["injected"])
            result.provider_charges = len(charges)
            report = await check_invariants(hub.store, hub.merchant_id, charges)
            if result.settle_seconds >= settings.settle_bound:
                report.fail(
                    RESOLVED,
                    "run",
                    f"outcomes still unknown after the {settings.settle_bound:.0f} s bound",
                )
            if hub.reconciler_unresolved:
                report.fail(
                    RESOLVED,
                    "run",
                    f"the reconciler reports {hub.reconciler_unresolved} payments past its bound",
                )
            return report
        finally:
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await serving
