"""The emulator's fault plan: each fault kind does what the README says, decisions follow the
seed, and the emulator's own record keeps the truth whatever the client saw."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import pytest

from gatewayhub.testing import FixedClock
from gatewayhub_sandbox.faults import FaultInjector, FaultPlan, Outage
from gatewayhub_sandbox.launch import serving
from gatewayhub_sandbox.provider import LOCAL_API_KEY, LOCAL_WEBHOOK_SECRET, EmulatorTransport
from gatewayhub_sandbox.server import Emulator, EmulatorConfig

AUTH = {"Authorization": f"Bearer {LOCAL_API_KEY}"}
CHARGE = {"amount": 1500, "currency": "EUR", "source": "tok_visa", "reference": "pay_1"}


def emulator(
    plan: FaultPlan | None = None,
    clock: FixedClock | None = None,
    delivered: list[dict[str, Any]] | None = None,
) -> Emulator:
    async def deliver(headers: Mapping[str, str], body: bytes) -> None:
        assert delivered is not None
        delivered.append(httpx.Response(200, content=body).json())

    return Emulator(
        EmulatorConfig(
            api_key=LOCAL_API_KEY,
            webhook_secret=LOCAL_WEBHOOK_SECRET,
            currencies=frozenset({"EUR"}),
            faults=plan or FaultPlan(),
        ),
        clock=clock or FixedClock(),
        deliver=deliver if delivered is not None else None,
    )


@pytest.fixture
async def client() -> AsyncIterator[tuple[httpx.AsyncClient, Emulator]]:
    sim = emulator()
    async with httpx.AsyncClient(
        transport=EmulatorTransport(sim), base_url="http://sandbox.test", headers=AUTH
    ) as http:
        yield http, sim


def charges(sim: Emulator) -> list[str]:
    return [c.id for c in sim.charges.values()]


def test_decisions_follow_the_seed_not_the_order() -> None:
    plan = FaultPlan(seed=11, error_before=0.1, reset_after=0.1, timeout_after=0.1)
    identities = [f"POST /v1/charges key-{i} #1" for i in range(2000)]
    first, second = FaultInjector(plan, 0.0), FaultInjector(plan, 0.0)
    forward = [first.request_fault(i, forced=None, effects=True) for i in identities]
    backward = [second.request_fault(i, forced=None, effects=True) for i in reversed(identities)]
    assert forward == list(reversed(backward))
    assert first.injected == second.injected
    assert set(first.injected) == {"error_before", "reset_after", "timeout_after"}
    other = FaultInjector(plan.model_copy(update={"seed": 12}), 0.0)
    assert [other.request_fault(i, forced=None, effects=True) for i in identities] != forward


def test_a_plan_whose_probabilities_exceed_one_is_refused() -> None:
    with pytest.raises(ValueError, match="add up to"):
        FaultPlan(error_before=0.6, reset_after=0.5)


def test_reads_meet_only_faults_from_before_the_work() -> None:
    injector = FaultInjector(FaultPlan(reset_after=1.0), 0.0)
    assert injector.request_fault("GET /v1/charges/ch_1 #1", forced=None, effects=False) is None
    assert injector.request_fault("POST /v1/charges k #1", forced=None, effects=True) == (
        "reset_after"
    )


async def test_reset_after_the_charge_drops_the_answer_but_keeps_the_charge(
    client: tuple[httpx.AsyncClient, Emulator],
) -> None:
    http, sim = client
    headers = {"Idempotency-Key": "k1", "Sandbox-Fault": "reset_after"}
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post("/v1/charges", json=CHARGE, headers=headers)
    assert len(charges(sim)) == 1
    replay = await http.post("/v1/charges", json=CHARGE, headers={"Idempotency-Key": "k1"})
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == charges(sim)[0]


async def test_reset_before_the_charge_does_nothing(
    client: tuple[httpx.AsyncClient, Emulator],
) -> None:
    http, sim = client
    headers = {"Idempotency-Key": "k2", "Sandbox-Fault": "reset_before"}
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post("/v1/charges", json=CHARGE, headers=headers)
    assert charges(sim) == []
    retry = await http.post("/v1/charges", json=CHARGE, headers={"Idempotency-Key": "k2"})
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    assert len(charges(sim)) == 1


async def test_500_after_the_charge_then_the_replay_returns_it(
    client: tuple[httpx.AsyncClient, Emulator],
) -> None:
    http, sim = client
    headers = {"Idempotency-Key": "k3", "Sandbox-Fault": "error_after"}
    failed = await http.post("/v1/charges", json=CHARGE, headers=headers)
    assert failed.status_code == 500
    assert len(charges(sim)) == 1
    replay = await http.post("/v1/charges", json=CHARGE, headers={"Idempotency-Key": "k3"})
    assert (replay.status_code, replay.json()["id"]) == (201, charges(sim)[0])


async def test_500_before_the_charge_leaves_nothing(
    client: tuple[httpx.AsyncClient, Emulator],
) -> None:
    http, sim = client
    headers = {"Idempotency-Key": "k4", "Sandbox-Fault": "error_before"}
    assert (await http.post("/v1/charges", json=CHARGE, headers=headers)).status_code == 500
    assert charges(sim) == []
    assert sim.faults.injected["error_before"] == 1


async def test_a_slow_request_is_in_progress_for_replays_and_searches() -> None:
    sim = emulator(FaultPlan(slow_seconds=0.3))
    async with httpx.AsyncClient(
        transport=EmulatorTransport(sim), base_url="http://sandbox.test", headers=AUTH
    ) as http:
        slow = asyncio.create_task(
            http.post(
                "/v1/charges",
                json=CHARGE,
                headers={"Idempotency-Key": "k5", "Sandbox-Fault": "slow"},
            )
        )
        await asyncio.sleep(0.05)
        replay = await http.post("/v1/charges", json=CHARGE, headers={"Idempotency-Key": "k5"})
        search = await http.get("/v1/charges", params={"idempotency_key": "k5"})
        assert replay.status_code == 409
        assert search.status_code == 409
        assert search.json()["error"]["code"] == "request_in_progress"
        assert (await slow).status_code == 201
        found = await http.get("/v1/charges", params={"idempotency_key": "k5"})
        assert [c["id"] for c in found.json()["data"]] == charges(sim)


async def test_an_outage_window_refuses_everything_until_it_ends() -> None:
    clock = FixedClock()
    sim = emulator(FaultPlan(outages=(Outage(start=5, duration=10),)), clock)
    async with httpx.AsyncClient(
        transport=EmulatorTransport(sim), base_url="http://sandbox.test", headers=AUTH
    ) as http:
        assert (await http.post("/v1/charges", json=CHARGE)).status_code == 201
        clock.advance(5)
        down = await http.post("/v1/charges", json=CHARGE)
        assert (down.status_code, down.json()["error"]["code"]) == (503, "service_unavailable")
        clock.advance(10)
        assert (await http.post("/v1/charges", json=CHARGE)).status_code == 201
    assert len(charges(sim)) == 2
    assert sim.faults.injected["outage"] == 1


async def test_a_429_storm_lasts_its_seconds_for_every_call() -> None:
    clock = FixedClock()
    sim = emulator(FaultPlan(rate_limit_storm=1.0, storm_seconds=2), clock)
    async with httpx.AsyncClient(
        transport=EmulatorTransport(sim), base_url="http://sandbox.test", headers=AUTH
    ) as http:
        first = await http.post("/v1/charges", json=CHARGE)
        assert (first.status_code, first.headers["Retry-After"]) == (429, "1")
        assert (await http.get("/v1/charges/ch_none")).status_code == 429
    assert charges(sim) == []
    assert sim.faults.injected["rate_limit_storm"] == 1
    assert sim.faults.injected["rate_limited"] == 2


async def webhooks_of(plan: FaultPlan) -> tuple[list[dict[str, Any]], Emulator]:
    delivered: list[dict[str, Any]] = []
    sim = emulator(plan, delivered=delivered)
    async with httpx.AsyncClient(
        transport=EmulatorTransport(sim), base_url="http://sandbox.test", headers=AUTH
    ) as http:
        charge = (await http.post("/v1/charges", json={**CHARGE, "capture": False})).json()
        await http.post(f"/v1/charges/{charge['id']}/capture", json={"amount": 1000})
        await sim.drain()
    return delivered, sim


async def test_lost_webhooks_are_never_sent_but_stay_in_the_record() -> None:
    delivered, sim = await webhooks_of(FaultPlan(webhook_lost=1.0))
    assert delivered == []
    assert [e["type"] for e in sim.events] == ["charge.authorized", "charge.captured"]


async def test_duplicated_webhooks_arrive_twice_with_one_id() -> None:
    delivered, _ = await webhooks_of(FaultPlan(webhook_duplicated=1.0, webhook_delay_max_ms=5))
    ids = [e["id"] for e in delivered]
    assert len(ids) == 4
    assert len(set(ids)) == 2


async def test_reordered_webhooks_arrive_after_the_next_event_of_their_charge() -> None:
    delivered, _ = await webhooks_of(FaultPlan(webhook_reordered=1.0, reorder_hold_ms=50))
    assert [e["type"] for e in delivered] == ["charge.captured", "charge.authorized"]


async def test_the_plan_is_installed_and_reported_over_the_api(
    client: tuple[httpx.AsyncClient, Emulator],
) -> None:
    http, _ = client
    bad = await http.put("/_sandbox/faults", json={"error_before": 2})
    assert bad.status_code == 400
    installed = await http.put("/_sandbox/faults", json={"seed": 4, "error_before": 1.0})
    assert installed.json()["plan"]["error_before"] == 1.0
    assert (await http.post("/v1/charges", json=CHARGE)).status_code == 500
    report = (await http.get("/_sandbox/faults")).json()
    assert report["injected"] == {"error_before": 1}


async def test_a_dropped_connection_over_a_real_socket_reads_as_a_protocol_error() -> None:
    sim = emulator(clock=FixedClock())
    async with serving(sim) as url, httpx.AsyncClient(base_url=url, headers=AUTH) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(
                "/v1/charges",
                json=CHARGE,
                headers={"Idempotency-Key": "k6", "Sandbox-Fault": "reset_after"},
            )
        record = (await http.get("/_sandbox/charges")).json()
    assert [c["reference"] for c in record["charges"]] == ["pay_1"]
