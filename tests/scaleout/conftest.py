"""Real processes for the scale-out tests: sandbox emulators (`python -m gatewayhub_sandbox`)
and gateway instances (`gatewayhub serve`) on free loopback ports, one database, one Redis.

Settings are shortened (leases, reconciler, health refresh, webhook retries) so work left
by a killed instance is taken over within seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatewayhub.api.merchants import create_merchant
from gatewayhub.clock import SystemClock
from gatewayhub.hub import Hub
from gatewayhub.storage import migrate_database, open_database
from gatewayhub_sandbox.launch import free_port

GATEWAYHUB = str(Path(sys.executable).with_name("gatewayhub"))
ENV = {**os.environ, "GATEWAYHUB_LOG_LEVEL": "WARNING"}


def wait_until_answers(url: str, process: subprocess.Popen[bytes], within: float = 60) -> None:
    """Until `url` answers 200 (a started process on a loaded machine takes seconds)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then the exit status (SIGKILL if it does not stop within 30 s)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@dataclass
class Sandbox:
    """One sandbox emulator process."""

    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def charges(self) -> list[dict[str, Any]]:
        """Every charge the emulator has created (its own record)."""
        charges: list[dict[str, Any]] = httpx.get(f"{self.url}/_sandbox/charges").json()["charges"]
        return charges

    def configure(self, **settings: Any) -> None:
        """Availability, latency, failure rate of the running emulator."""
        httpx.patch(f"{self.url}/_sandbox/config", json=settings).raise_for_status()


@dataclass
class Instance:
    """One `gatewayhub serve` process."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Receiver:
    """A local HTTP endpoint recording the merchant webhooks delivered to it."""

    url: str
    bodies: list[bytes] = field(default_factory=list)


@dataclass
class Cluster:
    """Sandboxes and gateway instances on one database and one Redis prefix."""

    folder: Path
    database_url: str
    redis_url: str
    redis_prefix: str
    sandboxes: dict[str, Sandbox] = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)
    encryption_key: str = field(
        default_factory=lambda: base64.b64encode(secrets.token_bytes(32)).decode()
    )

    def sandbox(self, name: str, *, webhook_url: str | None = None) -> Sandbox:
        port = free_port()
        command = [sys.executable, "-m", "gatewayhub_sandbox", "--port", str(port)]
        command += ["--name", name, "--currencies", "EUR"]
        if webhook_url is not None:
            command += ["--webhook-url", webhook_url]
        process = subprocess.Popen(command, env=ENV, stderr=subprocess.DEVNULL)
        box = Sandbox(name, port, process)
        self.sandboxes[name] = box
        wait_until_answers(f"{box.url}/_sandbox/events", process)
        return box

    def write_config(self) -> Path:
        """The configuration every instance reads: sandboxes in priority order."""
        lines = [
            "[gateway]",
            f'redis_url = "{self.redis_url}"',
            f'redis_prefix = "{self.redis_prefix}"',
            "pool_size = 4",
            "max_overflow = 4",
            # Send window: deadline 0.5 + timeout 1 + grace 0.5 = 2 s.
            "idempotency_lease_seconds = 3",
            "reconcile_after_seconds = 2",
            "in_flight_grace_seconds = 0.5",
            "reconcile_lease_seconds = 3",
            "inbox_lease_seconds = 2",
            "health_refresh_seconds = 0.5",
            "shutdown_grace_seconds = 5",
            "[routing]",
            'strategies = ["priority"]',
            "[retry]",
            "tries_per_attempt = 1",
            "deadline = 0.5",
            "[health]",
            "consecutive_failures = 3",
            "open_seconds = 60",
            "[service.rate_limit]",
            "requests_per_second = 100000",
            "burst = 100000",
            "[webhooks]",
            "allow_private_webhook_urls = true",
            "timeout_seconds = 1",
            "lease_seconds = 2",
            "retry_schedule = [0.5]",
            "poll_seconds = 0.2",
            "jitter = 0",
            f'encryption_key = "{self.encryption_key}"',
        ]
        for priority, box in enumerate(self.sandboxes.values(), start=1):
            lines += [
                f"[providers.{box.name}]",
                'type = "sandbox"',
                f"priority = {priority}",
                f"[providers.{box.name}.settings]",
                f'base_url = "{box.url}"',
                'currencies = ["EUR"]',
                "timeouts = { total = 1 }",
            ]
        path = self.folder / "gateway.toml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def serve(self, port: int | None = None, *extra: str) -> Instance:
        """Start one more instance (on `port`, e.g. one a sandbox already sends webhooks to)."""
        port = port or free_port()
        process = subprocess.Popen(
            [
                GATEWAYHUB,
                "serve",
                "--port",
                str(port),
                "--config",
                str(self.write_config()),
                "--database-url",
                self.database_url,
                *extra,
            ],
            env=ENV,
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
        )
        instance = Instance(port, process)
        self.instances.append(instance)
        wait_until_answers(f"{instance.url}/readyz", process)
        return instance

    def merchant(self, *scopes: str) -> tuple[str, str]:
        """A new merchant's id and API key (created in the shared database)."""

        async def make() -> tuple[str, str]:
            db = open_database(self.database_url)
            try:
                issued = await create_merchant(db, "Scale Shop", list(scopes), SystemClock().now())
            finally:
                await db.close()
            return issued.merchant_id, issued.key

        return asyncio.run(make())

    def register_endpoint(self, merchant_id: str, url: str) -> None:
        """A merchant webhook endpoint, registered through the SDK on the shared database."""

        async def register() -> None:
            hub = Hub(self.write_config(), database_url=self.database_url, background=False)
            async with hub:
                await hub.endpoints.register(merchant_id, url)

        asyncio.run(register())


@pytest.fixture
def cluster(postgres_url: str, redis_space: Any, tmp_path: Path) -> Iterator[Cluster]:
    """An empty PostgreSQL database, a Redis prefix; processes stopped afterwards."""
    asyncio.run(_reset(postgres_url))
    made = Cluster(tmp_path, postgres_url, redis_space.url, redis_space.prefix)
    try:
        yield made
    finally:
        for instance in made.instances:
            stop(instance.process)
        for box in made.sandboxes.values():
            stop(box.process)


async def _reset(url: str) -> None:
    """Migrated, and every table emptied (the session's database is shared by tests)."""
    await migrate_database(url)
    db = open_database(url)
    try:
        await db.run(_truncate_all)
    finally:
        await db.close()


def _truncate_all(connection: Any) -> None:
    import sqlalchemy as sa  # noqa: PLC0415

    names = [n for n in sa.inspect(connection).get_table_names() if n != "alembic_version"]
    connection.execute(sa.text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A merchant's webhook endpoint on loopback, answering 200 to every POST."""
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["content-length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks", bodies)
    finally:
        server.shutdown()
        server.server_close()
