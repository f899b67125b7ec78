"""The HTTP arm of a chaos run: payment scripts played over `gatewayhub serve`.

The gateway is a real `gatewayhub serve` process (`GatewayService`) with the run's
configuration written to a file; the sandboxes send their webhooks to its provider-webhook
receiver. The merchant is an httpx client in the supervisor (`HttpMerchant`), which plays
each payment's `PaymentScript` and, as a merchant would, sends a call again with the same
Idempotency-Key when it could not get an answer: the connection failed or dropped (the
server is down, or died mid-request), 409 `request_in_progress` (a dead request's key is
still leased), 503 (nothing was done), 429, 422 `no_eligible_provider` (every breaker
open, as the SDK arm waits too), and 202 (the provider's answer is unknown: the API says
to repeat the call later for the settled result). `drive_over_http` kills the server with
SIGKILL at random points and starts it again on the same database and port while the
merchant keeps going.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import re
import secrets
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from gatewayhub.models import PaymentStatus
from gatewayhub_sandbox.chaos_script import PaymentScript, ScriptEnded, Seen, run_script
from gatewayhub_sandbox.chaos_worker import gateway_config

GATEWAYHUB = str(Path(sys.executable).with_name("gatewayhub"))
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
# How long a merchant keeps sending one call again: past a restart of the server on a loaded
# machine (seconds), and how often it retries an answer that says nothing was done.
_PATIENCE = 90.0
_NOT_DONE_TRIES = 5


def toml_document(data: dict[str, Any]) -> str:
    """`data` (tables of strings, numbers, booleans and lists of them) as TOML."""
    lines: list[str] = []

    def table(path: list[str], values: dict[str, Any]) -> None:
        scalars = [(k, v) for k, v in values.items() if not isinstance(v, dict)]
        if path and scalars:
            lines.append(f"[{'.'.join(path)}]")
        for key, value in scalars:
            # JSON strings, numbers, booleans and arrays are valid TOML values.
            lines.append(f"{key} = {json.dumps(value)}")
        for key, value in values.items():
            if isinstance(value, dict):
                if not _BARE_KEY.match(key):
                    raise ValueError(f"not a bare TOML key: {key!r}")
                table([*path, key], value)

    table([], data)
    return "\n".join(lines) + "\n"


def serve_config(spec: dict[str, Any]) -> dict[str, Any]:
    """`gateway_config` for `gatewayhub serve`: no per-merchant rate limit in the way, and
    the sealing key a configuration file must carry."""
    config = gateway_config(spec)
    config["service"] = {"rate_limit": {"requests_per_second": 100_000, "burst": 100_000}}
    config["webhooks"] = {"encryption_key": base64.b64encode(secrets.token_bytes(32)).decode()}
    return config


@dataclass
class GatewayService:
    """One `gatewayhub serve` process, started again on the same port after each kill."""

    config: Path
    database_url: str
    port: int
    workdir: Path
    starts: int = 0
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self, within: float = 90.0) -> None:
        """Start it and wait until it answers `/readyz`."""
        log = (self.workdir / f"serve-{self.starts}.log").open("wb")
        self.starts += 1
        try:
            self.process = await asyncio.create_subprocess_exec(
                GATEWAYHUB,
                "serve",
                "--port",
                str(self.port),
                "--config",
                str(self.config),
                "--database-url",
                self.database_url,
                stdout=log,
                stderr=log,
                env={**os.environ, "GATEWAYHUB_LOG_LEVEL": "WARNING"},
            )
        finally:
            log.close()  # the child has its own descriptor
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    break
                try:
                    if (await http.get(f"{self.url}/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"gatewayhub serve did not start; see {log.name}")

    async def kill(self) -> None:
        """SIGKILL, and wait until it is gone."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM (SIGKILL if it does not stop within 30 s)."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            await self.kill()


@dataclass
class HttpTally:
    """What the merchant met over HTTP."""

    retries: Counter[str] = field(default_factory=Counter)  # why a call was sent again
    replayed: int = 0  # answers marked Idempotent-Replayed
    server_errors: Counter[str] = field(default_factory=Counter)  # 5xx answers kept

    def markdown(self) -> str:
        """One paragraph."""
        why = ", ".join(f"{k} {v:,}" for k, v in sorted(self.retries.items())) or "none"
        kept = ", ".join(f"{k} {v:,}" for k, v in sorted(self.server_errors.items())) or "none"
        return (
            f"Over HTTP the merchant sent {self.retries.total():,} calls again with the same "
            f"Idempotency-Key ({why}); {self.replayed:,} answers were replays. "
            f"5xx answers the script ended on: {kept}."
        )


def _document(response: httpx.Response) -> dict[str, Any]:
    """The JSON object answered ({} when the answer is not one)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _problem_code(response: httpx.Response) -> str:
    return str(_document(response).get("code", f"http_{response.status_code}"))


def _seen(body: dict[str, Any]) -> Seen:
    return Seen(body["id"], PaymentStatus(body["status"]), body["captured"])


class HttpMerchant:
    """A script's calls over the HTTP API (`Merchant`)."""

    def __init__(self, http: httpx.AsyncClient, tally: HttpTally) -> None:
        self.http = http
        self.tally = tally

    async def _send(self, method: str, path: str, key: str | None, body: Any) -> httpx.Response:
        """One call, sent again with the same key until it gets an answer to act on."""
        headers = {"Idempotency-Key": key} if key else {}
        deadline = time.monotonic() + _PATIENCE
        not_done = 0
        while True:
            try:
                response = await self.http.request(method, path, json=body, headers=headers)
            except httpx.TransportError as exc:
                if time.monotonic() > deadline:
                    raise ScriptEnded(f"error:{type(exc).__name__}") from None
                self.tally.retries["connection failed or dropped"] += 1
                await asyncio.sleep(0.2)
                continue
            if response.headers.get("idempotent-replayed") == "true":
                self.tally.replayed += 1
            status = response.status_code
            if time.monotonic() > deadline:
                return response
            if status == 202:
                # The provider's answer is unknown: as the API says, repeat with the same key
                # later for the settled result (409 until the key's lease ends, then the
                # gateway resumes the operation and answers once it is settled).
                self.tally.retries["202 outcome unknown"] += 1
                await asyncio.sleep(1.0)
                continue
            if status < 400:
                return response
            code = _problem_code(response)
            wait = float(response.headers.get("retry-after", "0.25"))
            if (status, code) in {(409, "request_in_progress"), (422, "no_eligible_provider")}:
                # A killed request's lease, or every breaker open: both pass by themselves.
                self.tally.retries[code] += 1
                await asyncio.sleep(0.25)
                continue
            if status in (429, 503) and "payment" not in _document(response):
                # Nothing was done (no connection free, or the provider was not reached and
                # the key released): the same request again, a few times.
                not_done += 1
                if not_done < _NOT_DONE_TRIES:
                    self.tally.retries[f"{status} {code}"] += 1
                    await asyncio.sleep(min(wait, 2.0))
                    continue
            return response

    async def _payment(self, method: str, path: str, key: str | None, body: Any = None) -> Seen:
        """A call answered with the payment, or the end of the script."""
        response = await self._send(method, path, key, body)
        if response.status_code == 202:
            # Still unknown after the merchant's patience (the SDK arm stops at the first
            # OperationPending).
            raise ScriptEnded("error:operation_pending")
        if response.status_code < 300:
            return _seen(response.json())
        document = _document(response)
        if "payment" in document:  # declined, or no provider reachable: the payment failed
            return _seen(document["payment"])
        raise self._ended(response)

    def _ended(self, response: httpx.Response) -> ScriptEnded:
        code = _problem_code(response)
        if response.status_code >= 500:
            self.tally.server_errors[f"{response.status_code} {code}"] += 1
        return ScriptEnded(f"error:{code}")

    async def authorize(self, script: PaymentScript) -> Seen:
        """POST /v1/payments"""
        body = {
            "amount": script.amount,
            "currency": "EUR",
            "payment_method": {"token": script.token},
            "capture": "manual" if script.manual else "automatic",
            "reference": script.key,
        }
        return await self._payment("POST", "/v1/payments", script.key, body)

    async def capture(self, payment_id: str, amount: int | None, final: bool, key: str) -> Seen:
        """POST /v1/payments/{id}/capture"""
        body = {"amount": amount, "final": final} if amount is not None else {"final": final}
        return await self._payment("POST", f"/v1/payments/{payment_id}/capture", key, body)

    async def void(self, payment_id: str, key: str) -> Seen:
        """POST /v1/payments/{id}/void"""
        return await self._payment("POST", f"/v1/payments/{payment_id}/void", key)

    async def refund(self, payment_id: str, amount: int | None, key: str) -> None:
        """POST /v1/payments/{id}/refunds"""
        body = {"amount": amount} if amount is not None else {}
        response = await self._send("POST", f"/v1/payments/{payment_id}/refunds", key, body)
        if response.status_code == 202:
            raise ScriptEnded("error:operation_pending")
        if response.status_code >= 300:
            raise self._ended(response)

    async def get(self, payment_id: str) -> Seen:
        """GET /v1/payments/{id}"""
        return await self._payment("GET", f"/v1/payments/{payment_id}", None)


@dataclass
class Progress:
    """Payments finished so far, awaited by the kill schedule."""

    done: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def bump(self) -> None:
        """One more payment finished."""
        self.done += 1
        self.changed.set()

    async def reach(self, target: int) -> None:
        """Until `target` payments are finished."""
        while self.done < target:
            self.changed.clear()
            await self.changed.wait()


@dataclass(frozen=True)
class HttpRun:
    """What `drive_over_http` needs besides the run's settings."""

    service: GatewayService
    api_key: str
    seed: int
    concurrency: int
    kills: int
    kill_after: tuple[float, float]
    kill_after_done: tuple[int, int] | None
    rng: random.Random


async def _kill_schedule(run: HttpRun, progress: Progress, total: int) -> None:
    """SIGKILL the server `run.kills` times, each after some time or some payments, and
    start it again at once on the same database and port."""
    for _ in range(run.kills):
        remaining = total - progress.done
        if remaining <= 1:
            return
        if run.kill_after_done is not None:
            finished = min(run.rng.randint(*run.kill_after_done), remaining // 2)
            await progress.reach(progress.done + finished)
        else:
            try:
                await asyncio.wait_for(progress.reach(total), run.rng.uniform(*run.kill_after))
            except TimeoutError:
                pass  # time to kill
            else:
                return  # every payment finished first
        await run.service.kill()
        await run.service.start()


async def drive_over_http(run: HttpRun, indices: list[int], tally: HttpTally) -> dict[int, str]:
    """Play the scripts of `indices` over the API with `run.concurrency` tasks while the
    server (started already) is killed and restarted; each payment's outcome."""
    done: dict[int, str] = {}
    progress = Progress()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in indices:
        queue.put_nowait(index)
    headers = {"Authorization": f"Bearer {run.api_key}"}
    async with httpx.AsyncClient(base_url=run.service.url, headers=headers, timeout=30.0) as http:
        merchant = HttpMerchant(http, tally)

        async def work() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                done[index] = await run_script(merchant, PaymentScript.draw(run.seed, index))
                progress.bump()

        # Each kill lands while payments remain, so the schedule ends with them; if a restart
        # fails, the group cancels the merchant's tasks.
        async with asyncio.TaskGroup() as group:
            group.create_task(_kill_schedule(run, progress, len(indices)))
            for _ in range(run.concurrency):
                group.create_task(work())
    return done
