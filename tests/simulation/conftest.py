"""Builders for simulation tests: small scenarios and histories written inline."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from gatewayhub.simulation.history import parse_rows
from gatewayhub.simulation.market import Market
from gatewayhub.simulation.ranking import rank
from gatewayhub.simulation.scenario import Plan, Scenario, parse_scenario
from gatewayhub.simulation.transactions import Transactions

MakeScenario = Callable[..., Scenario]
MakeHistory = Callable[[list[Mapping[str, Any]]], Transactions]
Ranked = Callable[[Plan, Transactions], dict[str, list[list[str]]]]


@pytest.fixture
def make_scenario() -> MakeScenario:
    """A scenario from provider tables and strategy tables (defaults: one "priority")."""

    def make(
        providers: dict[str, dict[str, Any]],
        strategies: list[dict[str, Any]] | None = None,
        **top: Any,
    ) -> Scenario:
        data = {
            "providers": providers,
            "strategies": strategies or [{"name": "priority", "strategies": ["priority"]}],
            **top,
        }
        return parse_scenario(data, "test scenario")

    return make


@pytest.fixture
def make_history() -> MakeHistory:
    """Transactions from row dicts (CSV field names; timestamp defaults to one fixed time)."""

    def make(rows: list[Mapping[str, Any]]) -> Transactions:
        filled = [
            (i + 2, {"timestamp": "2026-03-02T12:00:00Z", "id": f"p{i}", **row})
            for i, row in enumerate(rows)
        ]
        return parse_rows(filled, source="test rows").transactions

    return make


@pytest.fixture
def ranked() -> Ranked:
    """The simulator's candidate order (account names) per strategy, per payment."""

    def order(plan: Plan, txns: Transactions) -> dict[str, list[list[str]]]:
        market = Market(plan, txns, seed=0, max_attempts=1)
        chunk = market.chunk(0, len(txns))
        out = {}
        for strategy in plan.strategies:
            ranking = rank(strategy.router, market, chunk)
            out[strategy.name] = [
                [plan.accounts[c] for c in ranking.order[i, : ranking.count[i]]]
                for i in range(len(txns))
            ]
        return out

    return order
