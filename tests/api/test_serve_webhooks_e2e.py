"""End to end: `gatewayhub serve` as a real process delivers signed webhooks to a merchant's
receiver (uvicorn in this process) for a payment created, captured and refunded over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatewayhub.webhooks.standard import verify

from .test_serve_e2e import COMMAND, first_line, free_port

# Test values only: the sealing key (base64 of 32 bytes).
SEALING_KEY = "dGVzdC1rZXktZm9yLWdhdGV3YXlodWItd2ViaG9va3M="
CONFIG = """
[webhooks]
allow_private_webhook_urls = true   # the receiver listens on 127.0.0.1
poll_seconds = 0.2

[providers.sandbox_eu]
type = "sandbox"
settings = { base_url = "embedded", currencies = ["EUR"] }
"""


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str = ""
    got: list[Delivery] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        self.got.append(Delivery(dict(request.headers), await request.body()))
        return Response(status_code=204)

    def types(self) -> list[str]:
        return [json.loads(d.body)["type"] for d in self.got]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A merchant's webhook receiver on a free loopback port."""
    state = Receiver()
    app = Starlette(routes=[Route("/hooks", state.handle, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.01)
    state.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hooks"
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, a merchant key) of `gatewayhub serve` with a configuration file."""
    config = tmp_path / "gatewayhub.toml"
    config.write_text(CONFIG)
    env = {
        **os.environ,
        "GATEWAYHUB_LOG_LEVEL": "WARNING",
        "GATEWAYHUB_CONFIG": str(config),
        "GATEWAYHUB_DATABASE_URL": database_url,
        "GATEWAYHUB_WEBHOOK_KEY": SEALING_KEY,
    }
    made = subprocess.run(
        [COMMAND, "merchants", "create", "Corner Shop"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    key = next(line.split()[1] for line in made.stdout.splitlines() if line.startswith("key "))
    port = free_port()
    process = subprocess.Popen(
        [COMMAND, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    try:
        line = first_line(process, within=60)
        assert line.startswith(f"gatewayhub API http://127.0.0.1:{port}/v1"), line
        yield f"http://127.0.0.1:{port}", key
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=30)
        assert "Traceback" not in errors, errors
    assert not list(tmp_path.glob("*.webhook-key")), "a configured key: no local key file"


def wait_for(receiver: Receiver, types: set[str], within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not types <= set(receiver.types()):
        assert time.monotonic() < deadline, f"got {receiver.types()}, waiting for {types}"
        time.sleep(0.1)


def test_a_payments_events_reach_the_merchant_signed(
    server: tuple[str, str], receiver: Receiver
) -> None:
    base, key = server
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:
        registered = http.post(
            "/v1/webhook-endpoints",
            json={"url": receiver.url, "description": "order system"},
            headers={"Idempotency-Key": "hooks-1"},
        )
        assert registered.status_code == 201, registered.text
        secret = registered.json()["secret"]

        created = http.post(
            "/v1/payments",
            json={
                "amount": 4200,
                "currency": "EUR",
                "payment_method": {"token": "tok_visa"},
                "capture": "manual",
            },
            headers={"Idempotency-Key": "order-7"},
        )
        assert (created.status_code, created.json()["status"]) == (201, "authorized")
        payment_id = created.json()["id"]
        captured = http.post(
            f"/v1/payments/{payment_id}/capture", headers={"Idempotency-Key": "order-7-cap"}
        )
        assert captured.status_code == 200
        refunded = http.post(
            f"/v1/payments/{payment_id}/refunds",
            json={"amount": 1000},
            headers={"Idempotency-Key": "order-7-rf"},
        )
        assert (refunded.status_code, refunded.json()["status"]) == (201, "succeeded")

        wanted = {
            "payment.authorized",
            "payment.captured",
            "payment.partially_refunded",
            "refund.succeeded",
        }
        wait_for(receiver, wanted)
        for delivery in receiver.got:
            verify([secret], delivery.headers, delivery.body, datetime.now(UTC))
            event = json.loads(delivery.body)
            assert delivery.headers["webhook-id"] == event["id"]
        by_type = {json.loads(d.body)["type"]: json.loads(d.body) for d in receiver.got}
        assert by_type["payment.captured"]["data"]["id"] == payment_id
        assert by_type["payment.captured"]["data"]["captured"] == 4200
        assert by_type["refund.succeeded"]["data"]["refund"] == refunded.json()["id"]
        ids = [d.headers["webhook-id"] for d in receiver.got]
        assert len(set(ids)) == len(set(receiver.types())), "one webhook id per event"

        endpoint_id = registered.json()["id"]
        # The receiver answers before the dispatcher records the outcome: poll for it.
        deadline = time.monotonic() + 30
        while True:
            deliveries = http.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries").json()
            statuses = {d["status"] for d in deliveries["data"]}
            if statuses == {"delivered"} or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert statuses == {"delivered"}
        assert {d["event_type"] for d in deliveries["data"]} >= wanted
