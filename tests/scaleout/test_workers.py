"""`gatewayhub serve --workers 2`: one socket, two processes, each with its own hub, on
SQLite (WAL, shared file) and PostgreSQL; SIGTERM stops them all and exits 0."""

from __future__ import annotations

import base64
import secrets
import subprocess
from pathlib import Path

import httpx

from .conftest import ENV, GATEWAYHUB, free_port, stop, wait_until_answers

EUR_42 = {"amount": 4200, "currency": "EUR", "payment_method": {"token": "tok_visa"}}


def test_two_workers_share_a_port_and_stop_on_sigterm(database_url: str, tmp_path: Path) -> None:
    env = dict(ENV)
    if database_url.startswith("postgresql"):
        # Only a local SQLite file gets a sealing key made on the spot; elsewhere it is given.
        env["GATEWAYHUB_WEBHOOK_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
    made = subprocess.run(
        [GATEWAYHUB, "merchants", "create", "Shop", "--database-url", database_url],
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
        [
            GATEWAYHUB,
            "serve",
            "--workers",
            "2",
            "--port",
            str(port),
            "--database-url",
            database_url,
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{url}/readyz", process)
        workers = subprocess.run(
            ["pgrep", "-P", str(process.pid), "-f", "multiprocessing.spawn"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        assert len(workers) == 2
        auth = {"Authorization": f"Bearer {key}"}
        ids = set()
        for n in range(6):
            made_payment = httpx.post(
                f"{url}/v1/payments",
                json=EUR_42,
                headers={**auth, "Idempotency-Key": f"w-{n}"},
                timeout=30,
            )
            assert made_payment.status_code == 201, made_payment.text
            ids.add(made_payment.json()["id"])
        assert len(ids) == 6
        # Every worker seals and opens endpoint secrets with the same key (on SQLite: the
        # key file the parent made before the workers started).
        for n in range(6):
            registered = httpx.post(
                f"{url}/v1/webhook-endpoints",
                json={"url": f"https://93.184.216.34/hooks/{n}"},  # public: no DNS needed
                headers={**auth, "Idempotency-Key": f"e-{n}"},
                timeout=30,
            )
            assert registered.status_code == 201, registered.text
            assert registered.json()["secret"].startswith("whsec_")
    finally:
        status = stop(process)
    out, errors = process.communicate()
    assert status == 0, errors
    assert b"workers 2" in out
    assert b"Traceback" not in errors


def test_in_memory_sqlite_is_refused_with_workers(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            GATEWAYHUB,
            "serve",
            "--workers",
            "2",
            "--port",
            str(free_port()),
            "--database-url",
            "sqlite:///:memory:",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**ENV, "GATEWAYHUB_WEBHOOK_KEY": base64.b64encode(secrets.token_bytes(32)).decode()},
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "in-memory SQLite database cannot be shared" in done.stdout
