"""From per-payment outcomes to a `SimulationResult`.

Sums are exact int64 (sorted groups and `numpy.add.reduceat`, never float weights). Mixed
currencies meet only here: each currency's sum is converted once into the reporting
currency with Decimal and rounded half-up to its minor unit, and converted sums are added.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from gatewayhub.currencies import EXPONENTS
from gatewayhub.errors import ConfigError
from gatewayhub.simulation.attempts import APPROVED, DECLINED, NO_ROUTE, UNAVAILABLE, Outcomes
from gatewayhub.simulation.result import (
    Breakdown,
    Daily,
    ObservedSummary,
    ProviderShare,
    SimulationResult,
    StrategyResult,
)
from gatewayhub.simulation.scenario import Plan, PlannedStrategy
from gatewayhub.simulation.transactions import I64, NO_FEE, OUTCOME_APPROVED, Transactions

_DAY = 86_400


class Converter:
    """Sums in any currency -> minor units of the reporting currency."""

    def __init__(self, fx: dict[tuple[str, str], Decimal], reporting: str) -> None:
        self.fx = fx
        self.reporting = reporting

    def require(self, currencies: list[str]) -> None:
        """Fail early, naming every missing rate."""
        missing = [
            c for c in currencies if c != self.reporting and (c, self.reporting) not in self.fx
        ]
        if missing:
            pairs = ", ".join(f'"{self.reporting}/{c}"' for c in missing)
            raise ConfigError(
                f"reporting in {self.reporting} needs FX rates for {', '.join(missing)}: "
                f"add {pairs} to [fx]"
            )

    def convert(self, amount: int, currency: str) -> int:
        """`amount` minor units of `currency` in the reporting currency, half-up."""
        if currency == self.reporting or amount == 0:
            return amount
        major = Decimal(amount).scaleb(-EXPONENTS[currency]) * self.fx[(currency, self.reporting)]
        return int(major.scaleb(EXPONENTS[self.reporting]).quantize(Decimal(1), ROUND_HALF_UP))

    def convert_rows(self, sums: I64, currencies: list[str]) -> int:
        """The total of per-currency sums (one per entry of `currencies`)."""
        return sum(self.convert(int(v), c) for v, c in zip(sums.tolist(), currencies, strict=True))


def group_sums(key: I64, size: int, *values: I64) -> list[I64]:
    """For each of `values`, the sum per key in [0, size)."""
    if len(key) == 0:
        return [np.zeros(size, dtype=np.int64) for _ in values]
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    out = []
    for v in values:
        total = np.zeros(size, dtype=np.int64)
        total[sorted_key[starts]] = np.add.reduceat(v[order].astype(np.int64), starts)
        out.append(total)
    return out


def summarize(
    plan: Plan,
    txns: Transactions,
    outcomes: dict[str, Outcomes],
    seed: int,
    notes: list[str],
) -> SimulationResult:
    """The result object of a run."""
    converter = Converter(plan.fx, plan.scenario.reporting_currency)
    converter.require(sorted(set(txns.currencies)))
    results = [_strategy(plan, txns, s, outcomes[s.name], converter) for s in plan.strategies]
    base = next(r for r in results if r.baseline)
    results = [
        replace(r, fee_savings=base.fees - r.fees, net_gain=r.net_revenue - base.net_revenue)
        for r in results
    ]
    first, last = int(txns.timestamp[0]), int(txns.timestamp[-1])
    return SimulationResult(
        scenario=plan.scenario.name,
        reporting_currency=converter.reporting,
        seed=seed,
        payments=len(txns),
        period_start=_iso(first),
        period_end=_iso(last),
        source=txns.source,
        strategies=results,
        observed=_observed(txns, converter),
        notes=list(dict.fromkeys(notes)),
    )


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def _strategy(
    plan: Plan,
    txns: Transactions,
    strategy: PlannedStrategy,
    o: Outcomes,
    converter: Converter,
) -> StrategyResult:
    n = len(txns)
    currencies = txns.currencies
    c = len(currencies)
    approved = o.status == APPROVED
    volume = np.where(approved, txns.amount, 0)
    refunded = np.where(o.refunded, txns.amount, 0)
    cur = txns.currency.astype(np.int64)
    counts = np.bincount(o.status, minlength=4)

    ones = np.ones(n, dtype=np.int64)
    per_cur = group_sums(
        cur, c, ones, approved, volume, o.fee, o.fx, o.net, refunded, o.refund_cost
    )
    payments_c, approved_c, volume_c, fee_c, fx_c, net_c, refunded_c, refund_cost_c = per_cur
    currency_rows = [
        Breakdown(
            currencies[i],
            currencies[i],
            int(payments_c[i]),
            int(approved_c[i]),
            int(volume_c[i]),
            int(fee_c[i]),
            int(fx_c[i]),
            int(net_c[i]),
        )
        for i in np.argsort(
            [-converter.convert(int(v), currencies[i]) for i, v in enumerate(volume_c)]
        )
        if payments_c[i]
    ]

    def total(sums: I64) -> int:
        return converter.convert_rows(sums, currencies)

    method_rows: list[Breakdown] = []
    m = len(txns.methods)
    key = txns.method.astype(np.int64) * c + cur
    mp, ma, mv, mf, mx, mn = group_sums(key, m * c, ones, approved, volume, o.fee, o.fx, o.net)
    for mi, method in enumerate(txns.methods):
        cells = slice(mi * c, (mi + 1) * c)
        if not mp[cells].any():
            continue
        method_rows.append(
            Breakdown(
                method.value,
                converter.reporting,
                int(mp[cells].sum()),
                int(ma[cells].sum()),
                total(mv[cells]),
                total(mf[cells]),
                total(mx[cells]),
                total(mn[cells]),
            )
        )

    method_rows.sort(key=lambda b: -b.payments)
    p = len(plan.accounts)
    prov = np.where(approved, o.provider, 0).astype(np.int64) * c + cur
    pv, pf = group_sums(prov, p * c, volume, np.where(approved, o.fee, 0))
    routed = np.bincount(o.first[o.first >= 0], minlength=p)
    approved_by = np.bincount(o.provider[approved], minlength=p)
    approved_volume = total(volume_c)
    providers = []
    for pi, account in enumerate(plan.accounts):
        cells = slice(pi * c, (pi + 1) * c)
        vol = total(pv[cells])
        providers.append(
            ProviderShare(
                account,
                int(routed[pi]),
                int(approved_by[pi]),
                vol,
                total(pf[cells]),
                vol / approved_volume if approved_volume else 0.0,
            )
        )

    reached = o.attempts > 0
    latency = o.latency_ms[reached]
    return StrategyResult(
        name=strategy.name,
        description=strategy.describe(),
        baseline=strategy.baseline,
        payments=n,
        approved=int(counts[APPROVED]),
        declined=int(counts[DECLINED]),
        no_route=int(counts[NO_ROUTE]),
        unavailable=int(counts[UNAVAILABLE]),
        attempts=int(o.attempts.sum(dtype=np.int64)),
        failed_over=int((o.attempts > 1).sum()),
        approved_volume=approved_volume,
        fees=total(fee_c),
        fx_cost=total(fx_c),
        refunded_volume=total(refunded_c),
        refund_costs=total(refund_cost_c),
        net_revenue=total(net_c),
        fee_savings=0,
        net_gain=0,
        latency_mean_ms=float(latency.mean()) if len(latency) else 0.0,
        latency_p95_ms=float(np.percentile(latency, 95)) if len(latency) else 0.0,
        providers=providers,
        currencies=currency_rows,
        methods=method_rows,
        daily=_daily(plan, txns, o, approved, volume, converter),
    )


def _daily(
    plan: Plan,
    txns: Transactions,
    o: Outcomes,
    approved: np.ndarray,
    volume: I64,
    converter: Converter,
) -> Daily:
    currencies = txns.currencies
    c, p = len(currencies), len(plan.accounts)
    day0 = int(txns.timestamp[0]) // _DAY
    day = txns.timestamp // _DAY - day0
    d = int(day[-1]) + 1
    cur = txns.currency.astype(np.int64)
    prov = np.where(approved, o.provider, 0).astype(np.int64)
    (cells,) = group_sums((day * p + prov) * c + cur, d * p * c, volume)
    (net_cells,) = group_sums(day * c + cur, d * c, o.net)
    cells = cells.reshape(d, p, c)
    net_cells = net_cells.reshape(d, c)
    provider_volume = {
        account: [converter.convert_rows(cells[di, pi], currencies) for di in range(d)]
        for pi, account in enumerate(plan.accounts)
    }
    net = [converter.convert_rows(net_cells[di], currencies) for di in range(d)]
    days = [datetime.fromtimestamp((day0 + di) * _DAY, UTC).date().isoformat() for di in range(d)]
    return Daily(days, provider_volume, net)


def _observed(txns: Transactions, converter: Converter) -> ObservedSummary | None:
    observed = txns.observed
    if observed is None:
        return None
    known = observed.outcome >= 0
    with_fee = observed.fee != NO_FEE
    (fees,) = group_sums(
        txns.currency.astype(np.int64), len(txns.currencies), np.where(with_fee, observed.fee, 0)
    )
    return ObservedSummary(
        rows_with_outcome=int(known.sum()),
        approved=int((observed.outcome == OUTCOME_APPROVED).sum()),
        rows_with_fee=int(with_fee.sum()),
        fees=converter.convert_rows(fees, txns.currencies),
    )
