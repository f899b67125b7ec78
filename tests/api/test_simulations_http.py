"""POST /v1/simulations: the bounded simulation over HTTP (fee arithmetic itself is tested
in tests/simulation)."""

from __future__ import annotations

import json
import tomllib
from typing import Any

from gatewayhub.hub import Hub
from gatewayhub.simulation import SAMPLE_SCENARIO
from gatewayhub.simulation.api import run_simulation_request

from .conftest import Client, new_merchant

SIMULATIONS = "/v1/simulations"


def sample_scenario() -> dict[str, Any]:
    # What an HTTP client sends: the TOML's datetimes become ISO strings.
    return json.loads(json.dumps(tomllib.loads(SAMPLE_SCENARIO.read_text()), default=str))


async def test_a_generated_history_is_compared_across_the_sample_strategies(
    api: tuple[Hub, Client],
) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    body = {"scenario": sample_scenario(), "generate": 500, "seed": 4}
    answer = await client.call("POST", SIMULATIONS, json=body, key="sim-1")
    assert answer.status_code == 200
    result = answer.json()
    assert result["payments"] == 500
    # The sample scenario: a single-provider baseline plus seven strategies.
    assert len(result["strategies"]) == 8
    baseline = result["strategies"][0]
    assert (baseline["name"], baseline["baseline"], baseline["fee_savings"]) == (
        "only global_psp",
        True,
        0,
    )
    assert all(s["payments"] == 500 for s in result["strategies"])
    # The same request through the SDK gives the same answer: HTTP adds nothing of its own.
    assert result == json.loads(json.dumps(run_simulation_request(body)))
    replay = await client.call("POST", SIMULATIONS, json=body, key="sim-1")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == result
    assert (await client.call("GET", "/v1/payments")).json()["data"] == [], "no payment was made"


async def test_a_bad_row_is_named_by_index_and_field(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    rows = [
        {"timestamp": "2026-03-02T10:00:00Z", "amount": "10.00", "currency": "EUR"},
        {"timestamp": "2026-03-02T10:00:01Z", "amount": "ten", "currency": "EUR"},
    ]
    answer = await client.call(
        "POST", SIMULATIONS, json={"scenario": sample_scenario(), "payments": rows}
    )
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["code"] == "validation_error"
    assert problem["errors"][0]["field"] == "payments[1].amount"


async def test_payments_and_generate_together_are_refused(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    body = {
        "scenario": sample_scenario(),
        "generate": 10,
        "payments": [{"timestamp": "2026-03-02T10:00:00Z", "amount": "1.00", "currency": "EUR"}],
    }
    answer = await client.call("POST", SIMULATIONS, json=body)
    assert answer.status_code == 422
    assert "either payments or generate" in answer.json()["detail"]


async def test_more_than_the_bound_is_refused(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    answer = await client.call(
        "POST", SIMULATIONS, json={"scenario": sample_scenario(), "generate": 100_001}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "generate"
