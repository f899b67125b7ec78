"""An outage moves volume to the providers that stay up: calls fail over while the circuit
breaker has not noticed, then routing skips the provider until the window ends."""

from __future__ import annotations

from typing import Any

import numpy as np

from gatewayhub.simulation import SAMPLE_SCENARIO, load_scenario, simulate
from gatewayhub.simulation.attempts import APPROVED, NO_ROUTE, UNAVAILABLE
from gatewayhub.simulation.availability import epoch_seconds
from gatewayhub.simulation.engine import run
from gatewayhub.simulation.generator import generate

from .conftest import MakeHistory, MakeScenario


def _provider(priority: int, percent: str) -> dict[str, Any]:
    return {
        "currencies": ["EUR"],
        "priority": priority,
        "latency_ms": 300,
        "fees": {"percent": percent},
        "approval": {"base": 1.0},
    }


def test_outage_fails_over_then_skips_the_provider(
    make_scenario: MakeScenario, make_history: MakeHistory
) -> None:
    scenario = make_scenario(
        {"cheap": _provider(1, "1.0"), "backup": _provider(2, "3.0")},
        [{"name": "least cost", "strategies": ["least_cost"]}],
        availability=[
            {"provider": "cheap", "kind": "outage", "start": "2026-03-02T10:00:00Z",
             "end": "2026-03-02T12:00:00Z", "detect_seconds": 300, "failure_ms": 3000},
        ],
        baseline="cheap",
    )  # fmt: skip
    times = [
        "09:59:59",  # before: cheap
        "10:00:00",  # down, breaker still closed: cheap fails (not sent), backup takes it
        "10:04:59",
        "10:05:00",  # breaker open: cheap is not even tried
        "11:59:59",
        "12:00:00",  # over: cheap again
    ]
    txns = make_history(
        [{"amount": "100.00", "currency": "EUR", "timestamp": f"2026-03-02T{t}Z"} for t in times]
    )
    result = run(scenario.plan(), txns, keep_outcomes=True)
    assert result.outcomes is not None
    out = result.outcomes["least cost"]
    names = ["cheap", "backup"]
    assert [names[p] for p in out.provider] == [
        "cheap", "backup", "backup", "backup", "backup", "cheap"
    ]  # fmt: skip
    assert out.attempts.tolist() == [1, 2, 2, 1, 1, 1]
    assert out.latency_ms.tolist() == [300, 3300, 3300, 300, 300, 300]
    # 1% of 100.00 = 1.00; 3% = 3.00
    assert out.fee.tolist() == [100, 300, 300, 300, 300, 100]

    only_cheap = result.outcomes["only cheap"]
    assert only_cheap.status.tolist() == [
        APPROVED, UNAVAILABLE, UNAVAILABLE, NO_ROUTE, NO_ROUTE, APPROVED
    ]  # fmt: skip
    s = result.strategy("least cost")
    assert (s.approved, s.failed_over) == (6, 2)
    assert {p.account: p.approved for p in s.providers} == {"cheap": 2, "backup": 4}
    # The baseline loses four sales; failing over keeps them at 3.00 fee each instead of 1.00
    # (58,600 - 19,800 net).
    assert s.net_gain == 4 * (10000 - 300)


def test_sample_outage_moves_eu_volume_to_the_others() -> None:
    scenario = load_scenario(SAMPLE_SCENARIO)
    window = next(w for w in scenario.availability if w.kind == "outage")
    result = simulate(scenario, generate=40_000, seed=3, keep_outcomes=True)
    assert result.outcomes is not None
    plan = scenario.plan()
    eu = plan.accounts.index("eu_acquirer")
    # The same generated history, to know each payment's time.
    times = generate(40_000, seed=3).timestamp
    start = epoch_seconds(window.start)
    inside = (times >= start + window.detect_seconds) & (times < epoch_seconds(window.end))
    same_hours_other_days = np.zeros_like(inside)
    for day in range(-7, 8):
        if day:
            shifted = times - day * 86_400
            same_hours_other_days |= (shifted >= start) & (shifted < epoch_seconds(window.end))
    assert inside.sum() > 100
    for name, out in result.outcomes.items():
        if name == result.baseline.name:
            continue
        approved = out.status == APPROVED
        assert not (approved & inside & (out.provider == eu)).any(), name
        # Outside the outage the domestic acquirer carries most of the volume; inside it,
        # the same payments went elsewhere and were still approved.
        share_outside = (out.provider[same_hours_other_days & approved] == eu).mean()
        assert share_outside > 0.4, name
        assert approved[inside].mean() > 0.8, name
