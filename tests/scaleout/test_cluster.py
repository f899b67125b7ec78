"""Several `gatewayhub serve` processes on one PostgreSQL and one Redis, sandbox providers
as processes of their own: one idempotency key across instances, a circuit opened by what
another instance saw, and an instance killed mid-run."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from .conftest import Cluster, Instance, Receiver, free_port

EUR_42 = {"amount": 4200, "currency": "EUR", "payment_method": {"token": "tok_visa"}}
SETTLED = {"captured", "authorized", "failed"}


def eventually(check: Callable[[], Any], what: str, within: float = 30) -> Any:
    """The first truthy value of `check()`, which other processes make true."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"never happened within {within} s: {what}")


def test_one_idempotency_key_on_every_instance_charges_once(cluster: Cluster) -> None:
    box = cluster.sandbox("sb_only")
    # Slow answers keep the first request running while the others arrive.
    box.configure(latency_ms=500)
    instances = [cluster.serve(), cluster.serve()]
    _, key = cluster.merchant("payments:write", "payments:read")
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "order-scale-1"}

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as http:
            return await asyncio.gather(
                *(
                    http.post(f"{instances[i % 2].url}/v1/payments", json=EUR_42, headers=headers)
                    for i in range(100)
                )
            )

    responses = asyncio.run(burst())

    charges = box.charges()
    assert len(charges) == 1, charges
    # 201 first and replayed (also in the moment before the HTTP layer stored what it sent).
    done = [r for r in responses if r.status_code == 201]
    waiting = [r for r in responses if r.status_code == 409]
    assert len(done) + len(waiting) == 100, sorted({r.status_code for r in responses})
    assert all(r.json()["type"].endswith("request_in_progress") for r in waiting)
    assert len({r.json()["id"] for r in done}) == 1
    payment = done[0].json()
    assert (payment["amount"], payment["provider_reference"]) == (4200, charges[0]["id"])
    # Once the first request is over, every instance answers with the same payment.
    for instance in instances:
        again = httpx.post(f"{instance.url}/v1/payments", json=EUR_42, headers=headers)
        assert (again.status_code, again.json()["id"]) == (201, payment["id"])
        assert again.headers["idempotent-replayed"] == "true"


def test_a_provider_failing_on_one_instance_opens_its_circuit_on_the_other(
    cluster: Cluster,
) -> None:
    first, _second = cluster.sandbox("sb_first"), cluster.sandbox("sb_second")
    a, b = cluster.serve(), cluster.serve()
    _, key = cluster.merchant("payments:write", "payments:read", "admin")
    auth = {"Authorization": f"Bearer {key}"}
    first.configure(available=False)
    for n in range(3):
        made = httpx.post(
            f"{a.url}/v1/payments", json=EUR_42, headers={**auth, "Idempotency-Key": f"fail-{n}"}
        )
        assert (made.status_code, made.json()["provider"]) == (201, "sb_second")

    def circuit_on_b() -> str:
        listed = httpx.get(f"{b.url}/v1/providers", headers=auth).json()["data"]
        state: str = next(p["circuit"] for p in listed if p["account"] == "sb_first")
        return state if state == "open" else ""

    eventually(circuit_on_b, "B sees the circuit A opened", within=10)
    # The provider is back, but B has not tried it: its circuit is open because of A.
    first.configure(available=True)
    routed = httpx.post(
        f"{b.url}/v1/payments", json=EUR_42, headers={**auth, "Idempotency-Key": "after"}
    ).json()
    assert routed["provider"] == "sb_second"
    assert [attempt["provider"] for attempt in routed["attempts"]] == ["sb_second"]
    assert first.charges() == []


def test_an_instance_killed_mid_run_loses_nothing(cluster: Cluster, receiver: Receiver) -> None:
    doomed_port = free_port()
    # The provider sends its webhooks to the instance that will die.
    box = cluster.sandbox(
        "sb_main", webhook_url=f"http://127.0.0.1:{doomed_port}/v1/webhooks/sandbox/sb_main"
    )
    box.configure(latency_ms=100)
    doomed, survivor = cluster.serve(doomed_port), cluster.serve()
    merchant_id, key = cluster.merchant("payments:write", "payments:read")
    cluster.register_endpoint(merchant_id, receiver.url)
    auth = {"Authorization": f"Bearer {key}"}
    orders = 60
    answered: dict[str, dict[str, Any]] = {}
    last: dict[str, str] = {}
    third_answered = asyncio.Event()

    async def pay(http: httpx.AsyncClient, n: int, gate: asyncio.Semaphore) -> None:
        # A client behind a proxy: on a broken connection it retries the same key elsewhere.
        order = f"order-{n}"
        targets: list[Instance] = [(doomed, survivor)[n % 2], survivor]
        async with gate:
            for attempt in range(40):
                target = targets[min(attempt, 1)]
                try:
                    response = await http.post(
                        f"{target.url}/v1/payments",
                        json={**EUR_42, "reference": order},
                        headers={**auth, "Idempotency-Key": order},
                    )
                except httpx.TransportError:
                    continue
                if response.status_code == 201:
                    answered[order] = response.json()
                    if len(answered) >= orders // 3:
                        third_answered.set()
                    return
                last[order] = f"{target.port}: {response.status_code} {response.text[:300]}"
                # 409 request_in_progress until the key's lease runs out; 202 still processing
                await asyncio.sleep(0.5)

    async def run() -> None:
        gate = asyncio.Semaphore(8)
        async with httpx.AsyncClient(timeout=10) as http:
            tasks = [asyncio.create_task(pay(http, n, gate)) for n in range(orders)]
            await third_answered.wait()
            doomed.process.kill()  # SIGKILL: no shutdown of any kind
            await asyncio.gather(*tasks)

    asyncio.run(run())
    doomed.process.wait()

    assert len(answered) == orders, {o: last.get(o) for o in set(last) - set(answered)}
    with httpx.Client(base_url=survivor.url, headers=auth, timeout=10) as http:

        def all_settled() -> list[dict[str, Any]]:
            views = [http.get(f"/v1/payments/{p['id']}").json() for p in answered.values()]
            return views if all(v["status"] in SETTLED for v in views) else []

        views = eventually(all_settled, "every answered payment settled")
        assert {v["status"] for v in views} == {"captured"}
        known = {a["provider_reference"] for v in views for a in v["attempts"]}
    # Every charge the provider made belongs to a payment gatewayhub has.
    charges = box.charges()
    assert {c["id"] for c in charges} <= known
    assert len([c for c in charges if c["status"] != "failed"]) == orders

    # Merchant webhooks of every payment reach the receiver, whoever had claimed them.
    def delivered() -> set[str]:
        ids = {json.loads(body)["data"]["id"] for body in receiver.bodies}
        return ids if ids >= {p["id"] for p in answered.values()} else set()

    eventually(delivered, "a merchant webhook for every payment")
