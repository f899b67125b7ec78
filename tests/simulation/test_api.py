"""The bounded request the HTTP API hands to the simulator."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest
from pydantic import ValidationError

from gatewayhub.errors import InvalidRequest
from gatewayhub.simulation import SAMPLE_SCENARIO
from gatewayhub.simulation.api import MAX_GENERATED, MAX_ROWS, run_simulation_request


@pytest.fixture
def scenario() -> dict[str, Any]:
    return tomllib.loads(SAMPLE_SCENARIO.read_text(encoding="utf-8"))


def _json_scenario(scenario: dict[str, Any]) -> dict[str, Any]:
    # What an HTTP client sends: TOML datetimes become ISO strings.
    return json.loads(json.dumps(scenario, default=str))


def test_generated_run_returns_json(scenario: dict[str, Any]) -> None:
    body = {"scenario": _json_scenario(scenario), "generate": 2000, "seed": 3}
    result = run_simulation_request(body)
    assert json.loads(json.dumps(result)) == result
    assert result["payments"] == 2000
    assert result["strategies"][0]["name"] == "only global_psp"
    assert len(result["strategies"]) == 8


def test_payment_rows(scenario: dict[str, Any]) -> None:
    body = {
        "scenario": _json_scenario(scenario),
        "payments": [
            {"timestamp": "2026-03-02T10:00:00Z", "amount": "10.00", "currency": "EUR"},
            {"timestamp": "2026-03-02T10:00:01Z", "amount_minor": 1500, "currency": "JPY",
             "issuer_country": "JP", "card_brand": "jcb"},
        ],
    }  # fmt: skip
    result = run_simulation_request(body)
    assert result["payments"] == 2
    assert result["strategies"][1]["payments"] == 2


def test_bad_rows_name_index_and_field(scenario: dict[str, Any]) -> None:
    body = {
        "scenario": _json_scenario(scenario),
        "payments": [
            {"timestamp": "2026-03-02T10:00:00Z", "amount": "10.001", "currency": "EUR"},
        ],
    }
    with pytest.raises(InvalidRequest) as caught:
        run_simulation_request(body)
    assert caught.value.field == "payments[0].amount"
    assert "more decimals than EUR" in caught.value.reason


@pytest.mark.parametrize(
    "change",
    [
        {"generate": MAX_GENERATED + 1},
        {"generate": 10, "payments": [{"timestamp": "x", "currency": "EUR"}]},
        {"generate": None},
        {"generate": 10, "surprise": True},
    ],
)
def test_request_bounds(scenario: dict[str, Any], change: dict[str, Any]) -> None:
    body = {"scenario": _json_scenario(scenario), **change}
    with pytest.raises(ValidationError):
        run_simulation_request(body)


def test_too_many_rows(scenario: dict[str, Any]) -> None:
    row = {"timestamp": "2026-03-02T10:00:00Z", "amount": "1.00", "currency": "EUR"}
    with pytest.raises(ValidationError, match="at most 10000"):
        run_simulation_request({"scenario": scenario, "payments": [row] * (MAX_ROWS + 1)})


def test_invalid_scenario(scenario: dict[str, Any]) -> None:
    broken = {**_json_scenario(scenario), "baseline": "nobody"}
    with pytest.raises(InvalidRequest) as caught:
        run_simulation_request({"scenario": broken, "generate": 10})
    assert caught.value.field == "scenario"
    assert "baseline 'nobody'" in caught.value.reason
