"""From per-payment outcomes to a `SimulationResult`.

Sums are exact int64 (sorted groups and `numpy.add.reduceat`, never float weights). Mixed
currencies meet only here: each currency's sum is converted once into the reporting
currency with Decimal and rounded half-up to its minor unit, and converted sums are added.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
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
        rate = self.fx.get((currency, self.reporting))
        if rate is None:
            self.require([currency])
        major = Decimal(amount).scaleb(-EXPONENTS[currency]) * self.fx[(currency, self.reporting)]
        return int(major.scaleb(EXPONENTS[self.reporting]).quantize(Decimal(1), ROUND_HALF_UP))

    def convert_rows(self, sums: I64, currencies: list[str]) -> int:
        """The total of per-currency sums (one per entry of `currencies`)."""
        return sum(self.convert(int(v), c) for v, c in zip(sums.tolist(), currencies, strict=True))


_SPLIT = 26  # bits in the low part of a split value
_EXACT_VALUE = 2**40  # |value| below this: both parts' sums stay exact in float64
_EXACT_ROWS = 2**30


def group_sums(key: I64, size: int, *values: I64) -> list[I64]:
    """For each of `values`, the exact int64 sum per key in [0, size).

    `numpy.bincount` is fast but sums float64 weights, which stop being exact past 2**53.
    Each value is split into a high and a low part (value = high * 2**26 + low, low in
    [0, 2**26)); with |value| < 2**40 (every payment amount is) and under 2**30 rows, the
    sums of both parts stay far below 2**53, so both are exact and recombine exactly.
    Anything larger is summed by sorting instead.
    """
    out = []
    for raw in values:
        v = raw.astype(np.int64, copy=False)
        if len(v) < _EXACT_ROWS and (len(v) == 0 or int(np.abs(v).max()) < _EXACT_VALUE):
            low = np.bincount(key, weights=v & (2**_SPLIT - 1), minlength=size)
            high = np.bincount(key, weights=v >> _SPLIT, minlength=size)
            out.append(high.astype(np.int64) * 2**_SPLIT + low.astype(np.int64))
        else:
            out.append(_sorted_sums(key, size, v))
    return out


def _sorted_sums(key: I64, size: int, v: I64) -> I64:
    total = np.zeros(size, dtype=np.int64)
    if len(key) == 0:
        return total
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    total[sorted_key[starts]] = np.add.reduceat(v[order], starts)
    return total


def summarize(
    plan: Plan,
    txns: Transactions,
    outcomes: dict[str, Outcomes],
    seed: int,
    notes: list[str],
) -> SimulationResult:
    """The result object of a run."""
    converter = Converter(plan.fx, plan.scenario.reporting_currency)
    # Only currencies some provider accepts can carry money; ask for their rates up front.
    accepted = set().union(*(p.capabilities.currencies for p in plan.profiles))
    converter.require(sorted(set(txns.currencies) & accepted))
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


@dataclass(frozen=True)
class _Cells:
    """Exact sums per (approving provider + 1, method, currency) cell of one strategy."""

    payments: I64
    approved: I64
    volume: I64
    fee: I64
    fx: I64
    net: I64
    refunded: I64
    refund_cost: I64

    def total(self, axes: tuple[int, ...]) -> _Cells:
        """The same sums with `axes` summed out."""
        return _Cells(*(getattr(self, f.name).sum(axis=axes) for f in fields(self)))


def _cells(txns: Transactions, o: Outcomes, providers: int) -> _Cells:
    m, c = len(txns.methods), len(txns.currencies)
    shape = (providers + 1, m, c)
    approved = o.status == APPROVED
    key = ((o.provider.astype(np.int64) + 1) * m + txns.method) * c + txns.currency
    size = shape[0] * m * c
    sums = group_sums(
        key,
        size,
        np.where(approved, txns.amount, 0),
        o.fee,
        o.fx,
        o.net,
        np.where(o.refunded, txns.amount, 0),
        o.refund_cost,
    )
    return _Cells(
        np.bincount(key, minlength=size).reshape(shape),
        np.bincount(key[approved], minlength=size).reshape(shape),
        *(v.reshape(shape) for v in sums),
    )


def _strategy(
    plan: Plan,
    txns: Transactions,
    strategy: PlannedStrategy,
    o: Outcomes,
    converter: Converter,
) -> StrategyResult:
    currencies = txns.currencies
    cells = _cells(txns, o, len(plan.accounts))
    by_currency = cells.total((0, 1))

    def total(sums: I64) -> int:
        return converter.convert_rows(sums, currencies)

    volumes = [converter.convert(int(v), currencies[i]) for i, v in enumerate(by_currency.volume)]
    currency_rows = [
        Breakdown(
            currencies[i],
            currencies[i],
            *(int(getattr(by_currency, f)[i]) for f in _BREAKDOWN),
        )
        for i in np.argsort([-v for v in volumes], kind="stable")
        if by_currency.payments[i]
    ]
    by_method = cells.total((0,))
    method_rows = sorted(
        (
            Breakdown(
                method.value,
                converter.reporting,
                int(by_method.payments[mi].sum()),
                int(by_method.approved[mi].sum()),
                *(total(getattr(by_method, f)[mi]) for f in _BREAKDOWN[2:]),
            )
            for mi, method in enumerate(txns.methods)
            if by_method.payments[mi].any()
        ),
        key=lambda b: -b.payments,
    )
    by_provider = cells.total((1,))
    approved_volume = total(by_currency.volume)
    routed = np.bincount(o.first[o.first >= 0], minlength=len(plan.accounts))
    providers = []
    for pi, account in enumerate(plan.accounts):
        volume = total(by_provider.volume[pi + 1])
        providers.append(
            ProviderShare(
                account,
                int(routed[pi]),
                int(by_provider.approved[pi + 1].sum()),
                volume,
                total(by_provider.fee[pi + 1]),
                volume / approved_volume if approved_volume else 0.0,
            )
        )
    counts = np.bincount(o.status, minlength=4)
    latency = o.latency_ms[o.attempts > 0]
    return StrategyResult(
        name=strategy.name,
        description=strategy.describe(),
        baseline=strategy.baseline,
        payments=len(txns),
        approved=int(counts[APPROVED]),
        declined=int(counts[DECLINED]),
        no_route=int(counts[NO_ROUTE]),
        unavailable=int(counts[UNAVAILABLE]),
        attempts=int(o.attempts.sum(dtype=np.int64)),
        failed_over=int((o.attempts > 1).sum()),
        approved_volume=approved_volume,
        fees=total(by_currency.fee),
        fx_cost=total(by_currency.fx),
        refunded_volume=total(by_currency.refunded),
        refund_costs=total(by_currency.refund_cost),
        net_revenue=total(by_currency.net),
        fee_savings=0,
        net_gain=0,
        latency_mean_ms=float(latency.mean()) if len(latency) else 0.0,
        latency_p95_ms=float(np.percentile(latency, 95)) if len(latency) else 0.0,
        providers=providers,
        currencies=currency_rows,
        methods=method_rows,
        daily=_daily(plan, txns, o, converter),
    )


_BREAKDOWN = ("payments", "approved", "volume", "fee", "fx", "net")


def _daily(plan: Plan, txns: Transactions, o: Outcomes, converter: Converter) -> Daily:
    currencies = txns.currencies
    c, p = len(currencies), len(plan.accounts) + 1
    day0 = int(txns.timestamp[0]) // _DAY
    day = txns.timestamp // _DAY - day0
    d = int(day[-1]) + 1
    approved = o.status == APPROVED
    key = (day * p + o.provider.astype(np.int64) + 1) * c + txns.currency
    volume, net = group_sums(key, d * p * c, np.where(approved, txns.amount, 0), o.net)
    volume = volume.reshape(d, p, c)
    net_by_day = net.reshape(d, p, c).sum(axis=1)
    provider_volume = {
        account: [converter.convert_rows(volume[di, pi + 1], currencies) for di in range(d)]
        for pi, account in enumerate(plan.accounts)
    }
    days = [datetime.fromtimestamp((day0 + di) * _DAY, UTC).date().isoformat() for di in range(d)]
    return Daily(days, provider_volume, [converter.convert_rows(n, currencies) for n in net_by_day])


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
