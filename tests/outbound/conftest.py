"""A real HTTP receiver (Starlette on uvicorn, in a thread) and hubs with webhooks set up."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatewayhub.config import parse_config
from gatewayhub.hub import Hub
from gatewayhub.testing import FixedClock

# A fixed test key (base64 of 32 bytes); never a real deployment's.
ENCRYPTION_KEY = "dGVzdC1rZXktZm9yLWdhdGV3YXlodWItd2ViaG9va3M="
EUR_10 = {"amount": 1000, "currency": "EUR", "payment_method": "tok_visa"}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every POST; answers with queued statuses per path, then `default`."""

    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: dict[str, deque[int]] = field(default_factory=dict)
    default: int = 200
    delay: float = 0.0  # seconds before answering (the request is recorded at once)

    def url(self, path: str = "/hook") -> str:
        return f"{self.base_url}{path}"

    def answer(self, path: str, *statuses: int) -> None:
        self.statuses.setdefault(path, deque()).extend(statuses)

    def at(self, path: str = "/hook") -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        self.received.append(Received(path, dict(request.headers), body))
        if self.delay:
            await asyncio.sleep(self.delay)
        queued = self.statuses.get(path)
        return Response(status_code=queued.popleft() if queued else self.default)


def serve(app: Any) -> Iterator[str]:
    """Run an ASGI app on a free loopback port in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    app = Starlette(routes=[Route("/{path:path}", state.handle, methods=["POST"])])
    for base in serve(app):
        state.base_url = base
        yield state


class FakeResolver:
    """DNS answers set by the test (the SSRF guard's resolver)."""

    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.answers = dict(answers or {})
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError(f"no such host {host}")
        return self.answers[host]


MakeHub = Callable[..., Awaitable[Hub]]


def webhooks_config(database_url: str, **webhooks: Any) -> Any:
    return parse_config(
        {
            "gateway": {"database_url": database_url},
            "retry": {"backoff_initial": 0.01},
            "webhooks": {
                "encryption_key": ENCRYPTION_KEY,
                "allow_private_webhook_urls": True,
                "timeout_seconds": 5,
                **webhooks,
            },
            "providers": {"a": {"type": "fake"}},
        }
    )


@pytest.fixture
async def make_hub(database_url: str, clock: FixedClock) -> AsyncIterator[MakeHub]:
    """Started hubs (no background workers) on the test database, sharing the clock."""
    hubs: list[Hub] = []

    async def make(
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: FakeResolver | None = None,
        seed: int = 7,
        **webhooks: Any,
    ) -> Hub:
        hub = Hub(
            webhooks_config(database_url, **webhooks),
            clock=clock,
            rng=random.Random(seed),
            background=False,
            webhook_transport=transport,
            resolver=resolver,
        )
        await hub.start()
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        await hub.close()


async def drain(hub: Hub) -> None:
    """Run dispatcher passes until one finds nothing to do."""
    for _ in range(100):
        if not await hub.deliver_webhooks():
            return
    raise AssertionError("the dispatcher never ran out of work")
