"""What does not depend on the strategy: for every payment and provider, is the provider
eligible, what would it charge, how likely is it to approve, is it up.

Payments are grouped into cohorts that share everything routing reads except the amount
and the time (currency, method, brand, card type, issuing country). Per cohort the live code
is asked once: `Router.ineligible` for eligibility, `ApprovalModel` for approval rates,
`RuleCondition.matches` for rules. What depends on the amount is done on arrays with the
live arithmetic: `CompiledFees.estimate_group` for fees, the account's limits, and rule
thresholds converted by `amount_in_currency`. Matrices are built one chunk of payments at a
time to bound memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from gatewayhub.routing import Router, RouteRequest, Rule, RuleCondition, amount_in_currency
from gatewayhub.simulation import draws
from gatewayhub.simulation.availability import Availability, AvailabilityArrays
from gatewayhub.simulation.hashing import crc32_each
from gatewayhub.simulation.scenario import Plan
from gatewayhub.simulation.transactions import F64, I32, I64, U64, Bool, Transactions


@dataclass(frozen=True, slots=True)
class Cohort:
    """Payments that routing cannot tell apart except by amount and time."""

    currency: str
    method_index: int
    brand: str | None
    card_type: str | None
    issuer: str | None

    def request(self, txns: Transactions) -> RouteRequest:
        """A route request standing for the cohort (amount-dependent checks aside)."""
        return RouteRequest(
            payment_id="cohort",
            amount=1,
            currency=self.currency,
            method=txns.methods[self.method_index],
            brand=self.brand,
            issuer_country=self.issuer,
        )


@dataclass
class Chunk:
    """Rows `start:stop` of the history, with one column per provider where it applies."""

    start: int
    stop: int
    rows: I64
    amount: I64
    currency: I32
    cohort: I32
    crc: U64
    eligible: Bool  # capabilities and limits (health aside)
    availability: AvailabilityArrays
    fee: I64
    fx: I64
    fixed: I64
    router_approval: F64  # what HealthView.approval returns
    true_approval: F64  # the payment's actual chance
    u_approve: F64  # [rows, attempt]
    u_soft: F64  # [rows, attempt]

    @property
    def size(self) -> int:
        """Number of payments in the chunk."""
        return self.stop - self.start


class Market:
    """Strategy-independent tables for one plan and one history."""

    def __init__(self, plan: Plan, txns: Transactions, seed: int, max_attempts: int) -> None:
        self.plan = plan
        self.txns = txns
        self.seed = seed
        self.max_attempts = max_attempts
        self.providers = len(plan.accounts)
        self.availability = Availability(plan)
        self.crc = crc32_each(txns.ids)
        self._cohorts(txns)
        self._provider_tables(plan, txns)
        self._rule_cache: dict[int, tuple[Bool, I64, I64, Bool, Bool]] = {}

    # -- per cohort ---------------------------------------------------------------------------

    def _cohorts(self, txns: Transactions) -> None:
        dims = [
            len(txns.currencies),
            len(txns.methods),
            len(txns.brands),
            len(txns.card_types),
            len(txns.countries),
        ]
        key = np.zeros(len(txns), dtype=np.int64)
        columns: list[np.ndarray] = [
            txns.currency,
            txns.method,
            txns.brand,
            txns.card_type,
            txns.issuer,
        ]
        for column, size in zip(columns, dims, strict=True):
            key = key * size + column.astype(np.int64)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        self.cohort: I32 = inverse.astype(np.int32).reshape(-1)
        self.cohorts = [
            Cohort(
                txns.currencies[txns.currency[i]],
                int(txns.method[i]),
                txns.brands[txns.brand[i]],
                txns.card_types[txns.card_type[i]],
                txns.countries[txns.issuer[i]],
            )
            for i in first.tolist()
        ]
        # Fee groups: cohorts that price alike (currency, method, issuing country).
        fee_keys: dict[tuple[str, int, str | None], int] = {}
        self.fee_group = np.array(
            [
                fee_keys.setdefault((c.currency, c.method_index, c.issuer), len(fee_keys))
                for c in self.cohorts
            ],
            dtype=np.int32,
        )
        self.fee_groups = list(fee_keys)

    def _provider_tables(self, plan: Plan, txns: Transactions) -> None:
        g, p = len(self.cohorts), self.providers
        unlimited = plan.without_limits()
        checker = Router(unlimited, plan.strategies[0].router.policy)
        self.static_ok = np.zeros((g, p), dtype=np.bool_)
        self.segment_rate = np.zeros((g, p), dtype=np.float64)
        self.payment_rate = np.zeros((g, p), dtype=np.float64)
        for gi, cohort in enumerate(self.cohorts):
            req = cohort.request(txns)
            segment = req.segment
            for pi, profile in enumerate(unlimited):
                self.static_ok[gi, pi] = checker.ineligible(profile, req) is None
                model = plan.provider(pi).approval
                country = profile.fees.country
                cross = (
                    cohort.issuer is not None and country is not None and cohort.issuer != country
                )
                self.segment_rate[gi, pi] = model.segment_rate(segment)
                self.payment_rate[gi, pi] = model.payment_rate(
                    segment, cross, cohort.brand, cohort.card_type
                )
        c = len(txns.currencies)
        self.has_limit = np.zeros((c, p), dtype=np.bool_)
        self.limit_low = np.zeros((c, p), dtype=np.int64)
        self.limit_high = np.zeros((c, p), dtype=np.int64)
        for pi, profile in enumerate(plan.profiles):
            for ci, currency in enumerate(txns.currencies):
                limits = profile.limits.get(currency)
                if limits is not None:
                    self.has_limit[ci, pi] = True
                    self.limit_low[ci, pi], self.limit_high[ci, pi] = limits
        self.soft_share = np.array(
            [plan.provider(i).approval.soft_decline_share for i in range(p)], dtype=np.float64
        )

    # -- rules --------------------------------------------------------------------------------

    def rule_matches(self, rule: Rule, fx: Mapping[tuple[str, str], Decimal], chunk: Chunk) -> Bool:
        """Which payments of `chunk` satisfy `rule`'s conditions."""
        compiled = self._rule_cache.get(id(rule))
        if compiled is None:
            compiled = self._rule_cache[id(rule)] = self._compile_rule(rule.when, fx)
        static, above, below, has_above, has_below = compiled
        cur = chunk.currency
        match = static[chunk.cohort]
        match &= ~has_above[cur] | (chunk.amount > above[cur])
        match &= ~has_below[cur] | (chunk.amount < below[cur])
        return match

    def _compile_rule(
        self, when: RuleCondition, fx: Mapping[tuple[str, str], Decimal]
    ) -> tuple[Bool, I64, I64, Bool, Bool]:
        # The amount-free part of the condition is asked of the live RuleCondition per
        # cohort; the thresholds are converted per currency by the router's own function.
        plain = RuleCondition(
            currencies=tuple(when.currencies),
            methods=tuple(when.methods),
            brands=tuple(when.brands),
            countries=tuple(when.countries),
        )
        static = np.array(
            [plain.matches(c.request(self.txns), fx) for c in self.cohorts], dtype=np.bool_
        )
        currencies = self.txns.currencies
        size = len(currencies)
        above, below = np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64)
        has_above, has_below = np.zeros(size, dtype=np.bool_), np.zeros(size, dtype=np.bool_)
        never: set[str] = set()
        for ci, currency in enumerate(currencies):
            for bound, values, flags in (
                (when.amount_gt, above, has_above),
                (when.amount_lt, below, has_below),
            ):
                if bound is None:
                    continue
                limit = amount_in_currency(bound, currency, fx)
                if limit is None:
                    never.add(currency)  # no FX rate: the live rule never matches
                else:
                    flags[ci] = True
                    values[ci] = limit
        if never:
            static &= np.array([c.currency not in never for c in self.cohorts], dtype=np.bool_)
        return static, above, below, has_above, has_below

    # -- chunks -------------------------------------------------------------------------------

    def chunk(self, start: int, stop: int) -> Chunk:
        """The matrices of rows `start:stop`."""
        txns = self.txns
        rows = np.arange(start, stop, dtype=np.int64)
        amount = txns.amount[start:stop]
        currency = txns.currency[start:stop].astype(np.int32)
        cohort = self.cohort[start:stop]
        within = ~self.has_limit[currency] | (
            (amount[:, None] >= self.limit_low[currency])
            & (amount[:, None] <= self.limit_high[currency])
        )
        eligible = self.static_ok[cohort] & within
        availability = self.availability.arrays(txns.timestamp[start:stop])
        fee, fx, fixed = self._fees(amount, cohort, eligible)
        factor = availability.factor
        attempts = range(self.max_attempts)
        return Chunk(
            start=start,
            stop=stop,
            rows=rows,
            amount=amount,
            currency=currency,
            cohort=cohort,
            crc=self.crc[start:stop],
            eligible=eligible,
            availability=availability,
            fee=fee,
            fx=fx,
            fixed=fixed,
            router_approval=self.segment_rate[cohort] * factor,
            true_approval=self.payment_rate[cohort] * factor,
            u_approve=np.stack(
                [draws.uniforms(self.seed, draws.APPROVE + k, rows) for k in attempts], axis=1
            ),
            u_soft=np.stack(
                [draws.uniforms(self.seed, draws.SOFT + k, rows) for k in attempts], axis=1
            ),
        )

    def _fees(self, amount: I64, cohort: I32, eligible: Bool) -> tuple[I64, I64, I64]:
        n, p = len(amount), self.providers
        fee = np.zeros((n, p), dtype=np.int64)
        fx = np.zeros((n, p), dtype=np.int64)
        fixed = np.zeros((n, p), dtype=np.int64)
        groups = self.fee_group[cohort]
        order = np.argsort(groups, kind="stable")
        bounds = np.flatnonzero(np.diff(groups[order])) + 1
        for rows in np.split(order, bounds):
            if len(rows) == 0:
                continue
            currency, method_index, issuer = self.fee_groups[groups[rows[0]]]
            method = self.txns.methods[method_index]
            amounts = amount[rows]
            for pi, profile in enumerate(self.plan.profiles):
                if not eligible[rows, pi].any():
                    continue
                group = profile.fees.estimate_group(amounts, currency, method, issuer)
                fee[rows, pi] = group.total
                fx[rows, pi] = group.fx
                fixed[rows, pi] = group.fixed
        return fee, fx, fixed
