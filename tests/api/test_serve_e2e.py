"""End to end: `gatewayhub merchants create` and `gatewayhub serve` as real processes, driven
over real HTTP: create a payment, capture it, refund part of it."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gatewayhub_sandbox.launch import free_port

COMMAND = str(Path(sys.executable).with_name("gatewayhub"))


def first_line(process: subprocess.Popen[str], within: float) -> str:
    """The first line the process prints, waiting at most `within` seconds."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if selector.select(timeout=0.2):
            return process.stdout.readline()
        if process.poll() is not None:
            break
    raise AssertionError(f"gatewayhub serve printed nothing (exit {process.poll()})")


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, a merchant key) of a running `gatewayhub serve`."""
    # PostgreSQL needs the sealing key of merchant webhook secrets (test value: 32 bytes).
    sealing = "dGVzdC1rZXktZm9yLWdhdGV3YXlodWItd2ViaG9va3M="
    env = {**os.environ, "GATEWAYHUB_LOG_LEVEL": "WARNING", "GATEWAYHUB_WEBHOOK_KEY": sealing}
    made = subprocess.run(
        [COMMAND, "merchants", "create", "Corner Shop", "--database-url", database_url],
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
        [COMMAND, "serve", "--port", str(port), "--database-url", database_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    try:
        line = first_line(process, within=60)
        base = f"http://127.0.0.1:{port}"
        assert line.startswith(f"gatewayhub API {base}/v1  docs {base}/docs  webhooks ")
        assert f"{base}/v1/webhooks/sandbox/sandbox_eu" in line
        yield base, key
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=30)
        assert "Traceback" not in errors, errors


def test_create_capture_refund_over_real_http(server: tuple[str, str]) -> None:
    base, key = server
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:
        assert http.get("/readyz").json() == {"status": "ok"}
        created = http.post(
            "/v1/payments",
            json={
                "amount": 4200,
                "currency": "EUR",
                "payment_method": {"token": "tok_visa"},
                "capture": "manual",
                "reference": "order-1001",
            },
            headers={"Idempotency-Key": "order-1001"},
        )
        assert created.status_code == 201, created.text
        payment = created.json()
        assert payment["status"] == "authorized"

        captured = http.post(
            f"/v1/payments/{payment['id']}/capture", headers={"Idempotency-Key": "order-1001-cap"}
        )
        assert (captured.status_code, captured.json()["captured"]) == (200, 4200)
        refund = http.post(
            f"/v1/payments/{payment['id']}/refunds",
            json={"amount": 1000, "reason": "returned a mug"},
            headers={"Idempotency-Key": "order-1001-rf1"},
        )
        assert (refund.status_code, refund.json()["status"]) == (201, "succeeded")

        final = http.get(f"/v1/payments/{payment['id']}").json()
        assert (final["status"], final["captured"], final["refunded"]) == (
            "partially_refunded",
            4200,
            1000,
        )
        assert http.get("/docs").status_code == 200
        assert "gatewayhub_provider_attempts_total" in http.get("/metrics").text
