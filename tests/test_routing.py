"""Routing decisions on hand-computed cases."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gatewayhub.fees import CompiledFees, FeeSchedule
from gatewayhub.health import LocalHealth
from gatewayhub.models import PaymentMethodType
from gatewayhub.money import Money
from gatewayhub.provider import Capabilities
from gatewayhub.routing import (
    Exclusion,
    ProviderProfile,
    Router,
    RouteRequest,
    RoutingPolicy,
    Rule,
    RuleCondition,
    Strategy,
)
from gatewayhub.testing import FixedClock

EUR = frozenset({"EUR", "USD", "GBP"})


def profile(
    name: str,
    percent: str,
    fixed_eur: str = "0.25 EUR",
    *,
    currencies: frozenset[str] = EUR,
    priority: int = 100,
    weight: int = 0,
    **caps: object,
) -> ProviderProfile:
    schedule = FeeSchedule(percent=Decimal(percent), fixed={"EUR": fixed_eur})
    return ProviderProfile(
        account=name,
        capabilities=Capabilities(currencies=currencies, **caps),  # type: ignore[arg-type]
        fees=CompiledFees(schedule, "DE", frozenset({"EUR"})),
        priority=priority,
        weight=weight,
    )


class Health:
    """A hand-set health view."""

    def __init__(
        self, down: set[str] | None = None, rates: dict[str, tuple[float, int]] | None = None
    ) -> None:
        self.down = down or set()
        self.rates = rates or {}

    def unavailable(self, account: str) -> str | None:
        return "open" if account in self.down else None

    def approval(self, account: str, segment: str) -> tuple[float, int]:
        return self.rates.get(account, (0.85, 0))


def request(amount: int = 10000, currency: str = "EUR", **fields: object) -> RouteRequest:
    return RouteRequest("pay_01TEST", amount, currency, **fields)  # type: ignore[arg-type]


def test_priority() -> None:
    router = Router(
        [profile("b", "1.0", priority=2), profile("a", "3.0", priority=1)], RoutingPolicy()
    )
    assert router.route(request(), Health()).accounts == ["a", "b"]


def test_least_cost_with_fees_computed_by_hand() -> None:
    # 100.00 EUR: a = 1.4% + 0.25 = 1.65; b = 1.2% + 0.40 = 1.60; c = 2.9% + 0.25 = 3.15
    router = Router(
        [profile("a", "1.4"), profile("b", "1.2", "0.40 EUR"), profile("c", "2.9")],
        RoutingPolicy(strategies=(Strategy.LEAST_COST,)),
    )
    decision = router.route(request(), Health())
    assert decision.accounts == ["b", "a", "c"]
    assert [c.fee for c in decision.candidates] == [160, 165, 315]
    # At 10.00 EUR the fixed fee dominates: a = 0.39, b = 0.52
    assert router.route(request(1000), Health()).accounts[:2] == ["a", "b"]


def test_exclusions_say_why() -> None:
    router = Router(
        [
            profile("jpy_only", "1", currencies=frozenset({"JPY"})),
            profile("no_manual", "1", manual_capture=False),
            profile("us_cards", "1", countries=frozenset({"US"})),
            profile("down", "1"),
            profile("ok", "1"),
        ],
        RoutingPolicy(),
    )
    decision = router.route(
        request(manual_capture=True, issuer_country="FR"), Health(down={"down"})
    )
    reasons = {account: code for account, code, _ in decision.excluded}
    assert decision.accounts == ["ok"]
    assert reasons == {
        "jpy_only": Exclusion.CURRENCY,
        "no_manual": Exclusion.MANUAL_CAPTURE,
        "us_cards": Exclusion.COUNTRY,
        "down": Exclusion.UNHEALTHY,
    }
    text = decision.exclusion_text()
    assert text["jpy_only"] == "does not accept EUR"
    assert text["us_cards"] == "does not serve cards issued in FR"
    assert text["down"] == "circuit breaker is open"


def test_methods_tokens_pins_and_limits() -> None:
    router = Router(
        [
            profile("a", "1"),
            profile("b", "1", methods=frozenset({PaymentMethodType.PAYPAL})),
            ProviderProfile(
                "c",
                Capabilities(currencies=EUR),
                CompiledFees(FeeSchedule(), None, frozenset()),
                limits={"EUR": (100, 5000)},
            ),
        ],
        RoutingPolicy(),
    )
    assert router.route(request(method=PaymentMethodType.PAYPAL), Health()).accounts == ["b"]
    assert router.route(
        request(token_accounts=frozenset({"c"}), amount=1000), Health()
    ).accounts == ["c"]
    assert router.route(request(pinned="a"), Health()).accounts == ["a"]
    assert "c" not in router.route(request(amount=9000), Health()).accounts


def test_rules_pin_and_fall_back() -> None:
    profiles = [
        profile("adyen", "2.0"),
        profile("stripe", "1.0"),
        profile("razorpay", "0.5", currencies=frozenset({"INR"})),
    ]
    rules = (
        Rule("INR to razorpay", RuleCondition(currencies=["INR"]), ("razorpay",)),
        Rule(
            "big EUR to adyen",
            RuleCondition(amount_gt=Money.of("1000", "EUR")),
            ("adyen",),
            fallback=True,
        ),
    )
    router = Router(profiles, RoutingPolicy(strategies=(Strategy.LEAST_COST,), rules=rules))
    assert router.route(request(5000, "INR"), Health()).accounts == ["razorpay"]
    big = router.route(request(200000), Health())
    assert big.accounts == ["adyen", "stripe"]
    assert big.rule == "big EUR to adyen"
    assert router.route(request(100000), Health()).accounts == [
        "stripe",
        "adyen",
    ]  # exactly 1000: not >
    # Thresholds in another currency match only through a configured FX rate.
    assert router.route(request(200000, "USD"), Health()).rule is None
    fx = Router(profiles, RoutingPolicy(rules=rules, fx_rates={("EUR", "USD"): Decimal("1.10")}))
    assert fx.route(request(110001, "USD"), Health()).rule == "big EUR to adyen"
    assert fx.route(request(110000, "USD"), Health()).rule is None


def test_rule_without_fallback_excludes_the_rest() -> None:
    rules = (Rule("only a", RuleCondition(currencies=["EUR"]), ("a",)),)
    router = Router([profile("a", "2"), profile("b", "1")], RoutingPolicy(rules=rules))
    decision = router.route(request(), Health())
    assert decision.accounts == ["a"]
    assert decision.excluded == [("b", Exclusion.RULE, "only a")]


def test_rules_must_name_known_accounts() -> None:
    with pytest.raises(ValueError, match="unknown accounts"):
        Router([profile("a", "1")], RoutingPolicy(rules=(Rule("r", RuleCondition(), ("zzz",)),)))


def test_volume_split_is_deterministic_and_proportional() -> None:
    router = Router(
        [profile("a", "1", weight=70), profile("b", "1", weight=30)],
        RoutingPolicy(strategies=(Strategy.VOLUME_SPLIT,)),
    )
    first = [
        router.route(RouteRequest(f"pay_{n}", 1000, "EUR"), Health()).accounts[0]
        for n in range(10000)
    ]
    again = [
        router.route(RouteRequest(f"pay_{n}", 1000, "EUR"), Health()).accounts[0]
        for n in range(10000)
    ]
    assert first == again, "a retry of a payment stays in its arm"
    share = first.count("a") / len(first)
    assert 0.67 < share < 0.73


def test_success_rate_and_exploration() -> None:
    router = Router(
        [profile("a", "1"), profile("b", "1")],
        RoutingPolicy(strategies=(Strategy.SUCCESS_RATE, Strategy.LEAST_COST), exploration=0.1),
    )
    health = Health(rates={"a": (0.80, 500), "b": (0.93, 500)})
    firsts = [
        router.route(RouteRequest(f"pay_{n}", 1000, "EUR"), health).candidates[0]
        for n in range(5000)
    ]
    explored = [c for c in firsts if c.explored]
    assert 0.08 < len(explored) / len(firsts) < 0.12
    assert all(c.account == "b" for c in firsts if not c.explored)


def test_success_rates_within_a_bucket_tie_and_fall_to_cost() -> None:
    router = Router(
        [profile("a", "1.0"), profile("b", "2.0")],
        RoutingPolicy(strategies=(Strategy.SUCCESS_RATE, Strategy.LEAST_COST)),
    )
    near = Health(rates={"a": (0.901, 100), "b": (0.905, 100)})  # same 2-point bucket
    assert router.route(request(), near).accounts == ["a", "b"]


def test_expected_value() -> None:
    # 100.00 EUR. a: 90% x (10000 - 165) = 8851.5; b: 95% x (10000 - 315) = 9200.75 -> b first
    router = Router(
        [profile("a", "1.4"), profile("b", "2.9")],
        RoutingPolicy(strategies=(Strategy.EXPECTED_VALUE,)),
    )
    decision = router.route(request(), Health(rates={"a": (0.90, 100), "b": (0.95, 100)}))
    assert decision.accounts == ["b", "a"]
    assert decision.candidates[0].expected_value == pytest.approx(9200.75)


def test_explanations_name_fees_and_approval() -> None:
    router = Router(
        [profile("a", "1.4"), profile("x", "1", currencies=frozenset({"JPY"}))],
        RoutingPolicy(strategies=(Strategy.LEAST_COST,)),
    )
    decision = router.route(request(), Health())
    fees = {"a": router.by_account["a"].fees}
    lines = decision.explain(fees)
    assert lines[0].startswith(
        "#1 a: estimated fee 1.65 EUR (1.40 EUR percentage + 0.25 EUR fixed)"
    )
    assert lines[1] == "excluded x: does not accept EUR"
    stored = decision.to_dict()
    assert stored["candidates"][0]["fee"] == 165
    assert stored["excluded"] == [
        {"account": "x", "reason": "currency_not_supported", "detail": ""}
    ]


def test_live_health_feeds_routing() -> None:
    clock = FixedClock()
    health = LocalHealth(clock)
    router = Router([profile("a", "1", priority=1), profile("b", "1", priority=2)], RoutingPolicy())
    for _ in range(5):
        health.record_call("a", ok=False)
    assert router.route(request(), health).accounts == ["b"]
    clock.advance(31)
    assert router.route(request(), health).accounts == ["a", "b"], "half-open: a probe may go"
