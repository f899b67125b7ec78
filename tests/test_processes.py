"""Several real gateway processes on one database, and a process killed mid-payment.
The sandbox server's own record of charges is the judge of "charged once"."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gatewayhub.hub import Hub
from gatewayhub.models import AttemptStatus, PaymentStatus

WORKER = Path(__file__).parent / "workers" / "authorize.py"
sys.path.insert(0, str(WORKER.parent))
from authorize import config  # noqa: E402


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gatewayhub_sandbox", "--port", str(port), "--currencies", "EUR"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(10)


def charges_for(sandbox_url: str, payment_id: str) -> list[dict[str, object]]:
    record = httpx.get(f"{sandbox_url}/_sandbox/charges").json()
    return [c for c in record["charges"] if c["reference"] == payment_id]


def run_worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_one_key_from_four_processes_charges_once(
    database_url: str, sandbox_url: str
) -> None:
    key = f"multi-{uuid.uuid4()}"
    workers = [
        run_worker(
            "--database-url",
            database_url,
            "--sandbox-url",
            sandbox_url,
            "--key",
            key,
            "--concurrency",
            "10",
        )
        for _ in range(4)
    ]
    outcomes = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        outcomes.extend(json.loads(out))
    payments = {o["payment"] for o in outcomes if "payment" in o}
    errors = {o["error"] for o in outcomes if "error" in o}
    assert len(payments) == 1, outcomes
    assert errors <= {"request_in_progress"}
    assert len(charges_for(sandbox_url, payments.pop())) == 1


async def test_crash_between_provider_call_and_record_is_resumed(
    database_url: str, sandbox_url: str
) -> None:
    key = f"crash-{uuid.uuid4()}"
    crashed = run_worker(
        "--database-url",
        database_url,
        "--sandbox-url",
        sandbox_url,
        "--key",
        key,
        "--lease",
        "3",
        "--crash-after-call",
    )
    crashed.communicate(timeout=60)
    assert crashed.returncode == 3, "the worker died right after the provider charged"
    async with Hub(config(database_url, sandbox_url, 3), background=False) as hub:
        left = (await hub.list()).items
        assert len(left) == 1
        assert left[0].status is PaymentStatus.PENDING
        assert left[0].attempts[0].status is AttemptStatus.STARTED, "journaled before the call"
        await asyncio.sleep(3.1)  # let the dead process's lease run out
        payment = await hub.authorize(
            amount=1234, currency="EUR", payment_method="tok_visa", idempotency_key=key
        )
        assert payment.id == left[0].id
        assert payment.status is PaymentStatus.CAPTURED
        assert [a.status for a in payment.attempts] == [AttemptStatus.SUCCEEDED]
        assert len(charges_for(sandbox_url, payment.id)) == 1
        assert await hub.store.unbalanced_transactions() == []
        again = await hub.authorize(
            amount=1234, currency="EUR", payment_method="tok_visa", idempotency_key=key
        )
        assert again.id == payment.id
    assert len(charges_for(sandbox_url, payment.id)) == 1
