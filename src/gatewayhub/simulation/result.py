"""The result of a simulation run: per strategy totals, shares, breakdowns, daily series.

Money fields are integers: minor units of the run's reporting currency, except in the
per-currency breakdown, which stays in each payment currency. `to_dict()` gives the same in
JSON-able form (what the HTTP API returns and `--json` writes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gatewayhub.money import Money
from gatewayhub.simulation.attempts import Outcomes


@dataclass(frozen=True)
class ProviderShare:
    """One provider under one strategy."""

    account: str
    routed: int  # payments it was the first choice for
    approved: int
    approved_volume: int
    fees: int
    volume_share: float  # of the strategy's approved volume


@dataclass(frozen=True)
class Breakdown:
    """Totals for one currency or one payment method; money in `currency`."""

    key: str
    currency: str
    payments: int
    approved: int
    approved_volume: int
    fees: int
    fx_cost: int
    net_revenue: int

    @property
    def approval_rate(self) -> float:
        """Approved payments over all payments of this slice."""
        return self.approved / self.payments if self.payments else 0.0


@dataclass(frozen=True)
class Daily:
    """Day by day (UTC): approved volume per provider and net revenue."""

    days: list[str]
    provider_volume: dict[str, list[int]]
    net_revenue: list[int]


@dataclass(frozen=True)
class StrategyResult:
    """Everything one strategy did with the history."""

    name: str
    description: str
    baseline: bool
    payments: int
    approved: int
    declined: int
    no_route: int
    unavailable: int
    attempts: int
    failed_over: int  # payments that needed more than one provider
    approved_volume: int
    fees: int
    fx_cost: int
    refunded_volume: int
    refund_costs: int
    net_revenue: int
    fee_savings: int  # baseline fees minus these fees
    net_gain: int  # this net revenue minus the baseline's
    latency_mean_ms: float
    latency_p95_ms: float
    providers: list[ProviderShare]
    currencies: list[Breakdown]
    methods: list[Breakdown]
    daily: Daily

    @property
    def approval_rate(self) -> float:
        """Approved payments over all payments."""
        return self.approved / self.payments if self.payments else 0.0

    @property
    def fee_rate(self) -> float:
        """Fees over approved volume (a rate, so a float)."""
        return self.fees / self.approved_volume if self.approved_volume else 0.0


@dataclass(frozen=True)
class ObservedSummary:
    """What the history itself says happened (when it has the optional columns)."""

    rows_with_outcome: int
    approved: int
    rows_with_fee: int
    fees: int

    @property
    def approval_rate(self) -> float | None:
        """Approved over rows with an outcome."""
        return self.approved / self.rows_with_outcome if self.rows_with_outcome else None


@dataclass
class SimulationResult:
    """A run: the data it used and one `StrategyResult` per strategy, baseline first."""

    scenario: str
    reporting_currency: str
    seed: int
    payments: int
    period_start: str
    period_end: str
    source: str
    strategies: list[StrategyResult]
    observed: ObservedSummary | None = None
    notes: list[str] = field(default_factory=list)
    outcomes: dict[str, Outcomes] | None = None  # per payment, when asked for

    @property
    def baseline(self) -> StrategyResult:
        """The single-provider baseline."""
        return next(s for s in self.strategies if s.baseline)

    def strategy(self, name: str) -> StrategyResult:
        """The result of the strategy called `name`."""
        for s in self.strategies:
            if s.name == name:
                return s
        raise KeyError(name)

    def money(self, amount: int) -> Money:
        """`amount` minor units of the reporting currency."""
        return Money(amount, self.reporting_currency)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: money as integer minor units (reporting currency unless stated)."""
        strategies = []
        for s in self.strategies:
            entry = asdict(s)
            entry["approval_rate"] = round(s.approval_rate, 6)
            entry["fee_rate"] = round(s.fee_rate, 6)
            entry["providers"] = [
                {**asdict(p), "volume_share": round(p.volume_share, 6)} for p in s.providers
            ]
            strategies.append(entry)
        observed = None
        if self.observed is not None:
            observed = {**asdict(self.observed), "approval_rate": self.observed.approval_rate}
        return {
            "scenario": self.scenario,
            "reporting_currency": self.reporting_currency,
            "money_unit": "minor units of reporting_currency (per-currency rows: their own)",
            "seed": self.seed,
            "payments": self.payments,
            "period": {"start": self.period_start, "end": self.period_end},
            "source": self.source,
            "notes": self.notes,
            "observed": observed,
            "strategies": strategies,
        }
