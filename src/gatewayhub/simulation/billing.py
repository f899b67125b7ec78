"""After routing: monthly volume tiers, refunds, and the net revenue of every payment.

Routing estimates fees at base rates, as the live router does. The bill then applies each
provider's volume tiers: a payment made once the provider's approved volume in that calendar
month (UTC) has reached a tier's threshold is re-priced at the tier's rates, through
`CompiledFees.estimate_group(..., tier=i)`. Month-to-date volume mixes currencies, so it is
converted into the tiers' currency exactly (Decimal) at the few points where a threshold is
searched for, never per payment in floating point.

Refunds: a seeded share of approved payments is refunded in full. The provider keeps the
fixed fee, gives the rest back when its schedule says `refund_returns_fee`, and charges its
`refund_fee`. Net revenue of a payment = amount - fee, minus (amount - fee given back +
refund fee) when refunded; zero when not approved.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np

from gatewayhub.currencies import EXPONENTS
from gatewayhub.errors import ConfigError
from gatewayhub.simulation import draws
from gatewayhub.simulation.attempts import Outcomes
from gatewayhub.simulation.scenario import Plan
from gatewayhub.simulation.transactions import I64, Transactions

_SECONDS_PER_DAY = 86_400


def month_index(timestamps: I64) -> I64:
    """Calendar month (UTC) of each timestamp, as months since 1970-01."""
    days = timestamps // _SECONDS_PER_DAY
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def bill(plan: Plan, txns: Transactions, out: Outcomes, seed: int, notes: list[str]) -> None:
    """Apply volume tiers and refunds to `out`, then compute each payment's net revenue."""
    for column, profile in enumerate(plan.profiles):
        if profile.fees.schedule.volume_tiers:
            _apply_tiers(plan, txns, out, column)
    _refunds(plan, txns, out, seed, notes)


def unknown_fixed_fees(plan: Plan, txns: Transactions) -> list[str]:
    """Notes for fixed fees that could not be converted (no FX rate): like the live
    estimate, the simulation counts them as 0, and says so."""
    return [
        f"{profile.account}: fixed fee unknown for {method.value} in {currency}"
        " (no FX rate to convert it); counted as 0"
        for profile in plan.profiles
        for currency in txns.currencies
        if currency in profile.capabilities.currencies
        for method in txns.methods
        if method in profile.capabilities.methods
        and not profile.fees.rates(currency, method).fixed_known
    ]


def _apply_tiers(plan: Plan, txns: Transactions, out: Outcomes, column: int) -> None:
    fees = plan.profiles[column].fees
    thresholds = fees.tier_thresholds()
    tier_currency = thresholds[0].currency
    rows = np.flatnonzero(out.provider == column)
    if len(rows) == 0:
        return
    months = month_index(txns.timestamp[rows])
    tiers = np.zeros(len(rows), dtype=np.int64)
    bounds = np.flatnonzero(np.diff(months)) + 1
    for start, stop in zip(
        np.concatenate([[0], bounds]), np.concatenate([bounds, [len(rows)]]), strict=True
    ):
        segment = rows[start:stop]
        tiers[start:stop] = _tiers_in_month(
            plan, txns, segment, [t.to_decimal() for t in thresholds], tier_currency, column
        )
    for tier in range(1, len(thresholds) + 1):
        _reprice(plan, txns, out, column, rows[tiers == tier], tier)


def _tiers_in_month(
    plan: Plan,
    txns: Transactions,
    rows: I64,
    thresholds: list[Decimal],
    tier_currency: str,
    column: int,
) -> I64:
    """The tier of each payment: how many thresholds the month's volume before it reached."""
    currency = txns.currency[rows]
    amount = txns.amount[rows]
    before: list[tuple[I64, Decimal]] = []
    for code in np.unique(currency).tolist():
        name = txns.currencies[code]
        rate = Decimal(1) if name == tier_currency else plan.fx.get((name, tier_currency))
        if rate is None:
            raise ConfigError(
                f"{plan.accounts[column]}: volume tiers are in {tier_currency} but there is "
                f'no FX rate "{name}/{tier_currency}" to count its {name} payments'
            )
        prefix = np.concatenate([[0], np.cumsum(np.where(currency == code, amount, 0))])
        before.append((prefix, rate.scaleb(-EXPONENTS[name])))

    def volume_before(i: int) -> Decimal:
        with localcontext() as ctx:
            ctx.prec = 60
            return sum((Decimal(int(prefix[i])) * scale for prefix, scale in before), Decimal(0))

    tiers = np.zeros(len(rows), dtype=np.int64)
    for threshold in thresholds:
        # Month-to-date volume only grows: binary search for the first payment past it.
        lo, hi = 0, len(rows)
        while lo < hi:
            mid = (lo + hi) // 2
            if volume_before(mid) >= threshold:
                hi = mid
            else:
                lo = mid + 1
        tiers[lo:] += 1
    return tiers


def _reprice(
    plan: Plan, txns: Transactions, out: Outcomes, column: int, rows: I64, tier: int
) -> None:
    if len(rows) == 0:
        return
    fees = plan.profiles[column].fees
    key = (txns.currency[rows].astype(np.int64) * len(txns.methods) + txns.method[rows]) * len(
        txns.countries
    ) + txns.issuer[rows]
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    for group in np.split(rows[order], bounds):
        first = group[0]
        quote = fees.estimate_group(
            txns.amount[group],
            txns.currencies[txns.currency[first]],
            txns.methods[txns.method[first]],
            txns.countries[txns.issuer[first]],
            tier=tier,
        )
        out.fee[group] = quote.total
        out.fx[group] = quote.fx
        out.fixed[group] = quote.fixed


def _refunds(plan: Plan, txns: Transactions, out: Outcomes, seed: int, notes: list[str]) -> None:
    approved = out.provider >= 0
    rate = plan.scenario.refund_rate
    rows = np.arange(len(txns), dtype=np.int64)
    refunded = approved & (draws.uniforms(seed, draws.REFUND, rows) < rate)
    out.refunded[:] = refunded
    out.refund_cost[:] = 0
    for column, profile in enumerate(plan.profiles):
        mine = np.flatnonzero(refunded & (out.provider == column))
        if len(mine) == 0:
            continue
        returned = (
            out.fee[mine] - out.fixed[mine] if profile.fees.schedule.refund_returns_fee else 0
        )
        charge = np.zeros(len(txns.currencies), dtype=np.int64)
        for code in np.unique(txns.currency[mine]).tolist():
            name = txns.currencies[code]
            fee = profile.fees.refund_fee(name)
            if fee is None:
                notes.append(
                    f"{plan.accounts[column]}: refund fee unknown in {name} (no FX rate); "
                    "counted as 0"
                )
                fee = 0
            charge[code] = fee
        out.refund_cost[mine] = txns.amount[mine] - returned + charge[txns.currency[mine]]
    out.net[:] = np.where(approved, txns.amount - out.fee - out.refund_cost, 0)
