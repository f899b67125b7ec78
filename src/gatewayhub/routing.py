"""Routing: which provider accounts may take a payment, in which order, and why.

Pure and fast: everything that does not depend on the payment (capabilities, compiled fee
schedules, rules) is prepared once when the `Router` is built, so one decision is a loop of
set look-ups and integer arithmetic. Reasons are kept as data (codes and numbers) and only
turned into sentences when someone asks (`RouteDecision.explain`).

Strategies rank the eligible accounts and compose: each contributes one sort key, in the
order given, and ties fall through to the next key, then to priority and account name.
"""

from __future__ import annotations

import operator
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from gatewayhub.currencies import EXPONENTS
from gatewayhub.fees import CompiledFees
from gatewayhub.models import PaymentMethodType
from gatewayhub.money import Money
from gatewayhub.provider import Capabilities


class Strategy(StrEnum):
    """Ranking strategies (rules are applied before ranking, whatever the strategy)."""

    PRIORITY = "priority"
    VOLUME_SPLIT = "volume_split"
    LEAST_COST = "least_cost"
    SUCCESS_RATE = "success_rate"
    EXPECTED_VALUE = "expected_value"


class Exclusion(StrEnum):
    """Why an account could not take the payment."""

    PINNED = "pinned_elsewhere"
    NO_TOKEN = "no_token"  # noqa: S105 - a reason code, not a password
    CURRENCY = "currency_not_supported"
    METHOD = "method_not_supported"
    COUNTRY = "country_not_served"
    MANUAL_CAPTURE = "no_manual_capture"
    AMOUNT = "amount_out_of_limits"
    UNHEALTHY = "circuit_open"
    RULE = "excluded_by_rule"


_EXCLUSION_TEXT = {
    Exclusion.PINNED: "the payment is pinned to another account",
    Exclusion.NO_TOKEN: "no token for this account was given",
    Exclusion.CURRENCY: "does not accept {currency}",
    Exclusion.METHOD: "does not accept {method}",
    Exclusion.COUNTRY: "does not serve cards issued in {country}",
    Exclusion.MANUAL_CAPTURE: "cannot authorize now and capture later",
    Exclusion.AMOUNT: "{amount} is outside its limits",
    Exclusion.UNHEALTHY: "circuit breaker is {detail}",
    Exclusion.RULE: "rule {detail!r} routes this payment elsewhere",
}


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """What routing needs to know about a payment."""

    payment_id: str
    amount: int
    currency: str
    method: PaymentMethodType = PaymentMethodType.CARD
    brand: str | None = None
    issuer_country: str | None = None
    customer_country: str | None = None
    manual_capture: bool = False
    token_accounts: frozenset[str] | None = None  # None: every account can use the token
    pinned: str | None = None

    @property
    def segment(self) -> str:
        """The key of success-rate statistics."""
        return f"{self.currency}:{self.method.value}"


@dataclass(frozen=True, slots=True)
class ProviderProfile:
    """An account as routing sees it."""

    account: str
    capabilities: Capabilities
    fees: CompiledFees
    priority: int = 100
    weight: int = 0
    limits: Mapping[str, tuple[int, int]] = field(default_factory=dict)


class HealthView(Protocol):
    """What routing reads from provider health (circuit breakers, approval rates)."""

    def unavailable(self, account: str) -> str | None:
        """None when the account may be called, else the breaker state ("open")."""
        ...

    def approval(self, account: str, segment: str) -> tuple[float, int]:
        """Smoothed approval rate and the number of payments it rests on."""
        ...


class RuleCondition:
    """The `when` of a rule; every given field must match."""

    __slots__ = ("amount_gt", "amount_lt", "brands", "countries", "currencies", "methods")

    def __init__(
        self,
        *,
        currencies: Sequence[str] = (),
        methods: Sequence[str] = (),
        brands: Sequence[str] = (),
        countries: Sequence[str] = (),
        amount_gt: Money | None = None,
        amount_lt: Money | None = None,
    ) -> None:
        self.currencies = frozenset(currencies)
        self.methods = frozenset(methods)
        self.brands = frozenset(brands)
        self.countries = frozenset(countries)
        self.amount_gt = amount_gt
        self.amount_lt = amount_lt

    def matches(self, req: RouteRequest, fx: Mapping[tuple[str, str], Decimal]) -> bool:
        """Does `req` satisfy every condition? Amount thresholds in another currency are
        converted with the configured FX rates, and never match without one."""
        if self.currencies and req.currency not in self.currencies:
            return False
        if self.methods and req.method.value not in self.methods:
            return False
        if self.brands and req.brand not in self.brands:
            return False
        if self.countries and req.issuer_country not in self.countries:
            return False
        if self.amount_gt is not None:
            limit = amount_in_currency(self.amount_gt, req.currency, fx)
            if limit is None or req.amount <= limit:
                return False
        if self.amount_lt is not None:
            limit = amount_in_currency(self.amount_lt, req.currency, fx)
            if limit is None or req.amount >= limit:
                return False
        return True


def amount_in_currency(
    money: Money, currency: str, fx: Mapping[tuple[str, str], Decimal]
) -> int | None:
    """`money` in minor units of `currency` (rounded half-even, as Decimal does), or None
    when no FX rate between the two is configured."""
    if money.currency == currency:
        return money.amount
    rate = fx.get((money.currency, currency))
    if rate is None:
        return None
    return int((money.to_decimal() * rate).scaleb(EXPONENTS[currency]).to_integral_value())


@dataclass(frozen=True, slots=True)
class Rule:
    """ "when these conditions hold, use these accounts (in this order)"."""

    name: str
    when: RuleCondition
    use: tuple[str, ...]
    fallback: bool = False  # may other eligible accounts follow the rule's accounts?


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    """How to rank. `exploration` is the share of payments routed to learn success rates."""

    strategies: tuple[Strategy, ...] = (Strategy.PRIORITY,)
    rules: tuple[Rule, ...] = ()
    exploration: float = 0.0
    success_rate_bucket: float = 0.02  # approval rates closer than this count as equal
    fx_rates: Mapping[tuple[str, str], Decimal] = field(default_factory=dict)


@dataclass(slots=True)
class Candidate:
    """An eligible account and the figures it was ranked by."""

    account: str
    fee: int
    approval: float
    observations: int
    expected_value: float
    priority: int
    rule: str | None = None
    explored: bool = False
    split_arm: bool = False
    # Sort keys, one per strategy, so ranking is one C-level sort whatever the composition.
    value_key: float = 0.0
    rate_key: float = 0.0
    split_key: int = 0


@dataclass(slots=True)
class RouteDecision:
    """The ordered candidates, and why each account is where it is (or is not)."""

    request: RouteRequest
    strategies: tuple[Strategy, ...]
    candidates: list[Candidate]
    excluded: list[tuple[str, Exclusion, str]]
    rule: str | None = None

    @property
    def accounts(self) -> list[str]:
        """Candidate accounts, best first."""
        return [c.account for c in self.candidates]

    def exclusion_text(self) -> dict[str, str]:
        """account -> why it was excluded, in words."""
        req = self.request
        return {
            account: _EXCLUSION_TEXT[code].format(
                currency=req.currency,
                method=req.method.value,
                country=req.issuer_country,
                amount=Money(req.amount, req.currency),
                detail=detail,
            )
            for account, code, detail in self.excluded
        }

    def explain(self, fees: Mapping[str, CompiledFees] | None = None) -> list[str]:
        """One sentence per account: why it is ranked where it is, or excluded."""
        req = self.request
        lines = []
        for rank, c in enumerate(self.candidates, start=1):
            parts = []
            if c.rule:
                parts.append(f"rule {c.rule!r} matched")
            if c.split_arm:
                parts.append("chosen volume-split arm for this payment id")
            if c.explored:
                parts.append("exploration pick (success-rate learning)")
            fee_text = Money(c.fee, req.currency)
            if fees is not None and c.account in fees:
                fee_text = (
                    fees[c.account]
                    .quote(  # type: ignore[assignment]
                        req.amount, req.currency, req.method, req.issuer_country
                    )
                    .describe(req.currency)
                )
            parts.append(f"estimated fee {fee_text}")
            parts.append(f"approval {c.approval:.1%} over {c.observations} payments")
            parts.append(f"expected value {c.expected_value:.0f} minor units")
            parts.append(f"priority {c.priority}")
            lines.append(f"#{rank} {c.account}: " + "; ".join(parts))
        for account, text in self.exclusion_text().items():
            lines.append(f"excluded {account}: {text}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """A compact record of the decision, stored with the payment."""
        return {
            "strategies": [s.value for s in self.strategies],
            "rule": self.rule,
            "candidates": [
                {
                    "account": c.account,
                    "fee": c.fee,
                    "approval": round(c.approval, 4),
                    "observations": c.observations,
                    "explored": c.explored,
                }
                for c in self.candidates
            ],
            "excluded": [
                {"account": a, "reason": code.value, "detail": d} for a, code, d in self.excluded
            ],
        }


class Router:
    """Decides routes for a fixed set of accounts under one policy."""

    def __init__(self, profiles: Sequence[ProviderProfile], policy: RoutingPolicy) -> None:
        self.profiles = tuple(sorted(profiles, key=lambda p: (p.priority, p.account)))
        self.policy = policy
        self.by_account = {p.account: p for p in self.profiles}
        for rule in policy.rules:
            unknown = [a for a in rule.use if a not in self.by_account]
            if unknown:
                raise ValueError(f"rule {rule.name!r} uses unknown accounts: {', '.join(unknown)}")
        fields = {
            Strategy.PRIORITY: "priority",
            Strategy.LEAST_COST: "fee",
            Strategy.SUCCESS_RATE: "rate_key",
            Strategy.EXPECTED_VALUE: "value_key",
            Strategy.VOLUME_SPLIT: "split_key",
        }
        self._sort_key = operator.attrgetter(
            *(fields[s] for s in policy.strategies), "priority", "account"
        )

    def route(self, req: RouteRequest, health: HealthView) -> RouteDecision:
        """Rank the accounts that can take `req`."""
        policy = self.policy
        excluded: list[tuple[str, Exclusion, str]] = []
        eligible: list[ProviderProfile] = []
        for profile in self.profiles:
            reason = self.ineligible(profile, req)
            if reason is None:
                state = health.unavailable(profile.account)
                if state is not None:
                    excluded.append((profile.account, Exclusion.UNHEALTHY, state))
                    continue
                eligible.append(profile)
            else:
                excluded.append((profile.account, reason, ""))

        rule = next((r for r in policy.rules if r.when.matches(req, policy.fx_rates)), None)
        preferred: list[ProviderProfile] = []
        if rule is not None:
            chosen = [p for p in eligible if p.account in rule.use]
            preferred = sorted(chosen, key=lambda p: rule.use.index(p.account))
            rest = [p for p in eligible if p.account not in rule.use]
            if not rule.fallback:
                excluded.extend((p.account, Exclusion.RULE, rule.name) for p in rest)
                rest = []
            eligible = rest

        segment = req.segment
        candidates = [self._candidate(p, req, health, segment, rule) for p in preferred]
        ranked = [self._candidate(p, req, health, segment, None) for p in eligible]
        candidates.extend(self._rank(ranked, req))
        return RouteDecision(
            req, policy.strategies, candidates, excluded, rule.name if rule else None
        )

    def ineligible(self, p: ProviderProfile, req: RouteRequest) -> Exclusion | None:
        """Why `p` cannot take `req` whatever its health, or None when it can."""
        caps = p.capabilities
        if req.pinned is not None and req.pinned != p.account:
            return Exclusion.PINNED
        if req.token_accounts is not None and p.account not in req.token_accounts:
            return Exclusion.NO_TOKEN
        if req.currency not in caps.currencies:
            return Exclusion.CURRENCY
        if req.method not in caps.methods:
            return Exclusion.METHOD
        if caps.countries is not None and req.issuer_country not in caps.countries:
            return Exclusion.COUNTRY
        if req.manual_capture and not caps.manual_capture:
            return Exclusion.MANUAL_CAPTURE
        limits = p.limits.get(req.currency)
        if limits is not None and not limits[0] <= req.amount <= limits[1]:
            return Exclusion.AMOUNT
        return None

    def _candidate(
        self,
        p: ProviderProfile,
        req: RouteRequest,
        health: HealthView,
        segment: str,
        rule: Rule | None,
    ) -> Candidate:
        fee = p.fees.estimate(req.amount, req.currency, req.method, req.issuer_country)
        approval, observations = health.approval(p.account, segment)
        value = approval * (req.amount - fee)
        return Candidate(
            account=p.account,
            fee=fee,
            approval=approval,
            observations=observations,
            expected_value=value,
            priority=p.priority,
            rule=rule.name if rule else None,
            value_key=-value,
        )

    def _rank(self, candidates: list[Candidate], req: RouteRequest) -> list[Candidate]:
        if len(candidates) < 2:
            return candidates
        policy = self.policy
        strategies = policy.strategies
        explore = False
        if Strategy.SUCCESS_RATE in strategies and policy.exploration > 0:
            explore = _unit_hash(req.payment_id) < policy.exploration
        arm: str | None = None
        if Strategy.VOLUME_SPLIT in strategies:
            arm = self._split_arm(candidates, req.payment_id)
        if Strategy.SUCCESS_RATE in strategies:
            bucket = policy.success_rate_bucket or 1e-9
            for c in candidates:
                c.rate_key = (
                    _unit_hash(req.payment_id + c.account) if explore else -int(c.approval / bucket)
                )
        if arm is not None:
            for c in candidates:
                c.split_key = 0 if c.account == arm else 1
        ranked = sorted(candidates, key=self._sort_key)
        if explore:
            ranked[0].explored = True
        if arm is not None:
            for c in ranked:
                c.split_arm = c.account == arm
        return ranked

    def _split_arm(self, candidates: list[Candidate], payment_id: str) -> str | None:
        weighted = [(c.account, self.by_account[c.account].weight) for c in candidates]
        total = sum(w for _, w in weighted)
        if total <= 0:
            return None
        point = zlib.crc32(payment_id.encode()) % total
        for account, weight in weighted:
            if point < weight:
                return account
            point -= weight
        return None


def _unit_hash(text: str) -> float:
    """A deterministic number in [0, 1) from `text` (stable across processes and retries)."""
    return zlib.crc32(text.encode()) / 2**32
