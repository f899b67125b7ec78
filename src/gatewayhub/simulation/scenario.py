"""The scenario file (TOML): providers and their prices, FX rates, approval models,
availability windows, and the routing strategies to compare.

A scenario is validated into typed models, then `plan()` turns it into the very objects the
live gateway routes with: one `ProviderProfile` per provider (capabilities and a
`CompiledFees` from its `FeeSchedule`) and one `Router` per strategy. Nothing about fees,
eligibility or ranking is re-stated here.

    name = "EU shop, Q1"
    reporting_currency = "EUR"
    baseline = "global_psp"          # the single-provider policy savings are measured against
    refund_rate = 0.02
    cascade_approval_factor = 0.35   # a cascaded soft decline is approved at 35% of the usual rate

    [fx]
    "EUR/USD" = "1.08"

    [retry]                          # gatewayhub.retry.RetryPolicy
    max_providers = 2
    cascade_soft_declines = false

    [providers.eu_acquirer]
    country = "DE"
    settlement_currencies = ["EUR"]
    currencies = ["EUR", "GBP"]
    methods = ["card"]
    priority = 1
    weight = 60
    latency_ms = 280
    limits = { EUR = ["0.50 EUR", "15000 EUR"] }
    fees = { percent = "1.2", fixed = { EUR = "0.20 EUR" }, cross_border_percent = "1.0" }
    approval = { base = 0.9, segments = { "EUR:card" = 0.93 }, cross_border = -0.05 }

    [[availability]]
    provider = "eu_acquirer"
    kind = "outage"                  # outage | degraded | latency
    start = 2026-03-06T12:00:00Z
    end = 2026-03-06T15:00:00Z

    [[strategies]]
    name = "least cost"
    strategies = ["least_cost", "priority"]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from gatewayhub.config import AmountLimits, HubConfig, RuleConfig, limit_table
from gatewayhub.errors import ConfigError
from gatewayhub.fees import CompiledFees, FeeSchedule
from gatewayhub.models import CardBrand, Country, CurrencyCode, Funding, PaymentMethodType
from gatewayhub.provider import Capabilities
from gatewayhub.retry import RetryPolicy
from gatewayhub.routing import (
    ProviderProfile,
    Router,
    RoutingPolicy,
    Rule,
    RuleCondition,
    Strategy,
)

Probability = float
_MAX_PROVIDERS = 32
_MAX_STRATEGIES = 16


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApprovalModel(_Strict):
    """How often a provider approves, by segment ("EUR:card", as the live router keys its
    success-rate windows) with additive adjustments for card properties the router does not
    key on. `soft_decline_share` is the part of declines that are soft (do not honor,
    insufficient funds: cascadable when the strategy allows); the rest are hard."""

    base: float = Field(default=0.85, ge=0, le=1)
    segments: dict[str, float] = Field(default_factory=dict)
    cross_border: float = Field(default=0.0, ge=-1, le=1)
    card_brands: dict[CardBrand, float] = Field(default_factory=dict)
    card_types: dict[Funding, float] = Field(default_factory=dict)
    soft_decline_share: float = Field(default=0.6, ge=0, le=1)

    @field_validator("segments")
    @classmethod
    def _segments(cls, segments: dict[str, float]) -> dict[str, float]:
        methods = {m.value for m in PaymentMethodType}
        for key, rate in segments.items():
            currency, _, method = key.partition(":")
            if len(currency) != 3 or method not in methods:
                raise ValueError(f'segment {key!r} must look like "EUR:card"')
            if not 0 <= rate <= 1:
                raise ValueError(f"segment {key!r}: approval rate {rate} is not in [0, 1]")
        return segments

    def segment_rate(self, segment: str) -> float:
        """The approval rate the router sees for `segment` (a `RouteRequest.segment`)."""
        return self.segments.get(segment, self.base)

    def payment_rate(
        self, segment: str, cross_border: bool, brand: str | None, card_type: str | None
    ) -> float:
        """The approval probability of one payment (before availability windows)."""
        rate = self.segment_rate(segment)
        if cross_border:
            rate += self.cross_border
        if brand is not None:
            rate += self.card_brands.get(CardBrand(brand), 0.0)
        if card_type is not None:
            rate += self.card_types.get(Funding(card_type), 0.0)
        return min(max(rate, 0.0), 1.0)


class ScenarioProvider(_Strict):
    """One provider account as the scenario describes it."""

    currencies: list[CurrencyCode] = Field(min_length=1)
    methods: list[PaymentMethodType] = Field(default_factory=lambda: [PaymentMethodType.CARD])
    countries: list[Country] | None = Field(
        default=None, description="issuing countries served (default: any)"
    )
    country: Country | None = None
    settlement_currencies: list[CurrencyCode] = Field(default_factory=list)
    priority: int = 100
    weight: int = Field(default=0, ge=0)
    limits: AmountLimits = Field(default_factory=dict)
    fees: FeeSchedule = Field(default_factory=FeeSchedule)
    approval: ApprovalModel = Field(default_factory=ApprovalModel)
    latency_ms: int = Field(default=300, ge=0, le=120_000)


class Window(_Strict):
    """A stretch of time when a provider is down, approves less, or answers slower.

    outage:   calls fail as "not sent" (`failure_ms` lost per call) and fail over; after
              `detect_seconds` the circuit breaker is open and routing skips the provider.
    degraded: approval rates are multiplied by `approval_factor` (the router's success-rate
              view included).
    latency:  `latency_ms` is added to every call.
    Overlapping windows combine: factors multiply, latencies add.
    """

    provider: str
    kind: Literal["outage", "degraded", "latency"]
    start: AwareDatetime
    end: AwareDatetime
    detect_seconds: int = Field(default=60, ge=0)
    failure_ms: int = Field(default=3000, ge=0, le=120_000)
    approval_factor: float = Field(default=1.0, gt=0, le=1)
    latency_ms: int = Field(default=0, ge=0, le=120_000)

    @model_validator(mode="after")
    def _coherent(self) -> Window:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.kind == "degraded" and self.approval_factor == 1.0:
            raise ValueError("a degraded window needs approval_factor below 1")
        if self.kind == "latency" and self.latency_ms == 0:
            raise ValueError("a latency window needs latency_ms")
        return self


class StrategyConfig(_Strict):
    """A routing policy to try: strategies rank in the order given, rules apply first.
    `retry` overrides fields of the scenario's retry policy for this strategy."""

    name: str = Field(min_length=1, max_length=64)
    strategies: list[Strategy] = Field(min_length=1)
    rules: list[RuleConfig] = Field(default_factory=list)
    exploration: float = Field(default=0.0, ge=0, le=0.5)
    success_rate_bucket: float = Field(default=0.02, gt=0, le=1)
    retry: dict[str, Any] = Field(default_factory=dict)


class Scenario(_Strict):
    """Everything a simulation run compares, as written in the TOML file."""

    name: str = "scenario"
    reporting_currency: CurrencyCode = "EUR"
    baseline: str | None = Field(
        default=None, description="single provider to compare against (default: first)"
    )
    refund_rate: float = Field(default=0.0, ge=0, le=1)
    cascade_approval_factor: float = Field(
        default=0.35,
        ge=0,
        le=1,
        description="after a soft decline, the next provider approves with its usual chance "
        "times this (an issuer that said no once often says no again)",
    )
    fx: dict[str, Decimal] = Field(default_factory=dict)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    providers: dict[str, ScenarioProvider] = Field(min_length=1, max_length=_MAX_PROVIDERS)
    availability: list[Window] = Field(default_factory=list)
    strategies: list[StrategyConfig] = Field(min_length=1, max_length=_MAX_STRATEGIES)

    @field_validator("fx")
    @classmethod
    def _fx(cls, fx: dict[str, Decimal]) -> dict[str, Decimal]:
        HubConfig(fx=fx)  # the gateway's own FX table rules
        return fx

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        known = set(self.providers)
        for name in known:
            if not name.replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"provider name {name!r} may use letters, digits, - and _")
        if self.baseline is not None and self.baseline not in known:
            raise ValueError(f"baseline {self.baseline!r} is not one of the providers")
        for window in self.availability:
            if window.provider not in known:
                raise ValueError(f"availability window names unknown provider {window.provider!r}")
        names = [s.name for s in self.strategies]
        if len(set(names)) != len(names):
            raise ValueError("strategy names must be unique")
        for strategy in self.strategies:
            for rule in strategy.rules:
                unknown = [a for a in rule.use if a not in known]
                if unknown:
                    raise ValueError(
                        f"strategy {strategy.name!r}: rule {rule.name!r} uses unknown "
                        f"providers {unknown}"
                    )
            RetryPolicy.model_validate({**self.retry.model_dump(), **strategy.retry})
        return self

    def fx_rates(self) -> dict[tuple[str, str], Decimal]:
        """Rates by (from, to), inverses included where not given (as the gateway does)."""
        return HubConfig(fx=self.fx).fx_rates()

    def baseline_account(self) -> str:
        """The baseline provider: the configured one, else the first by priority."""
        if self.baseline is not None:
            return self.baseline
        return min(self.providers.items(), key=lambda item: (item[1].priority, item[0]))[0]

    def plan(self) -> Plan:
        """The live routing objects for this scenario."""
        fx = self.fx_rates()
        profiles = []
        for account, p in self.providers.items():
            caps = Capabilities(
                currencies=frozenset(p.currencies),
                methods=frozenset(p.methods),
                countries=frozenset(p.countries) if p.countries is not None else None,
            )
            fees = CompiledFees(p.fees, p.country, frozenset(p.settlement_currencies), fx)
            profiles.append(
                ProviderProfile(account, caps, fees, p.priority, p.weight, limit_table(p.limits))
            )
        baseline = self.baseline_account()
        planned = [
            PlannedStrategy(
                name=f"only {baseline}",
                router=Router(
                    profiles,
                    RoutingPolicy(
                        rules=(Rule("baseline", RuleCondition(), (baseline,)),), fx_rates=fx
                    ),
                ),
                retry=self.retry,
                baseline=True,
            )
        ]
        for s in self.strategies:
            policy = RoutingPolicy(
                strategies=tuple(s.strategies),
                rules=tuple(r.rule() for r in s.rules),
                exploration=s.exploration,
                success_rate_bucket=s.success_rate_bucket,
                fx_rates=fx,
            )
            retry = RetryPolicy.model_validate({**self.retry.model_dump(), **s.retry})
            planned.append(PlannedStrategy(s.name, Router(profiles, policy), retry, False))
        router = planned[0].router
        return Plan(
            scenario=self,
            fx=fx,
            accounts=[p.account for p in router.profiles],
            profiles=list(router.profiles),
            strategies=planned,
        )


@dataclass(frozen=True)
class PlannedStrategy:
    """A strategy ready to run: its live router and its retry policy."""

    name: str
    router: Router
    retry: RetryPolicy
    baseline: bool

    def describe(self) -> str:
        """A short description of the policy for tables and reports."""
        policy = self.router.policy
        if self.baseline:
            return f"everything to {policy.rules[0].use[0]}"
        parts = [" > ".join(s.value for s in policy.strategies)]
        if policy.rules:
            parts.append("rules: " + ", ".join(r.name for r in policy.rules))
        if policy.exploration:
            parts.append(f"exploration {policy.exploration:.0%}")
        if self.retry.cascade_soft_declines:
            parts.append("soft declines cascade")
        return "; ".join(parts)


@dataclass(frozen=True)
class Plan:
    """A scenario turned into routing objects. `accounts` and `profiles` are in the
    routers' own order (priority, then name); every per-provider array follows it."""

    scenario: Scenario
    fx: dict[tuple[str, str], Decimal]
    accounts: list[str]
    profiles: list[ProviderProfile]
    strategies: list[PlannedStrategy]

    def provider(self, index: int) -> ScenarioProvider:
        """The scenario entry of the provider in column `index`."""
        return self.scenario.providers[self.accounts[index]]

    def without_limits(self) -> list[ProviderProfile]:
        """The profiles with amount limits removed (limits are checked per amount)."""
        return [replace(p, limits={}) for p in self.profiles]


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"  {where}: {error['msg']}")
    return "\n".join(lines)


def parse_scenario(data: dict[str, Any], source: str = "scenario") -> Scenario:
    """Validate a scenario dict; every problem is listed with its location."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source} is invalid:\n{_format_errors(exc)}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a TOML scenario file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"scenario file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse_scenario(data, str(path))
