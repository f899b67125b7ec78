"""The SDK face: `gatewayhub.simulation.simulate` and the public names."""

from __future__ import annotations

import tomllib

import pytest

import gatewayhub.simulation as simulation
from gatewayhub.simulation import (
    SAMPLE_HISTORY,
    SAMPLE_SCENARIO,
    SimulationResult,
    read_history,
    simulate,
)


def test_public_names() -> None:
    assert simulation.__all__ == [
        "simulate",
        "Scenario",
        "load_scenario",
        "parse_scenario",
        "Transactions",
        "History",
        "HistoryError",
        "RowError",
        "read_history",
        "write_history",
        "GeneratorProfile",
        "generate",
        "load_profile",
        "SimulationResult",
        "StrategyResult",
        "ProviderShare",
        "Breakdown",
        "Daily",
        "ObservedSummary",
        "SAMPLE_SCENARIO",
        "SAMPLE_HISTORY",
    ]
    for name in simulation.__all__:
        assert hasattr(simulation, name), name


def test_scenario_and_history_in_any_form() -> None:
    as_dict = tomllib.loads(SAMPLE_SCENARIO.read_text(encoding="utf-8"))
    from_path = simulate(SAMPLE_SCENARIO, SAMPLE_HISTORY, seed=2)
    from_objects = simulate(as_dict, read_history(SAMPLE_HISTORY), seed=2)
    assert isinstance(from_path, SimulationResult)
    assert from_path.to_dict() == from_objects.to_dict()


def test_one_source_of_payments() -> None:
    with pytest.raises(ValueError, match="either a history or generate"):
        simulate(SAMPLE_SCENARIO)
    with pytest.raises(ValueError, match="either a history or generate"):
        simulate(SAMPLE_SCENARIO, SAMPLE_HISTORY, generate=10)


def test_progress_reports_every_step_in_order() -> None:
    steps: list[tuple[int, int, str]] = []
    simulate(
        SAMPLE_SCENARIO,
        generate=3000,
        chunk_size=1000,
        progress=lambda done, total, label: steps.append((done, total, label)),
    )
    # 3 chunks x 8 strategies, 8 bills, 1 summary
    assert [d for d, _, _ in steps] == list(range(1, 34))
    assert {t for _, t, _ in steps} == {33}
    assert steps[-1][2] == "summary"
