"""Strategy choices on hand-computed cases: the simulator's candidate order per payment.

Three EUR card acquirers, a payment of 100.00 EUR from a German card:

    account   priority  weight  fee                       approval
    alpha     1         1       2.9% + 0.30 = 3.20        0.80
    bravo     2         1       1.0% + 0.50 = 1.50        0.90
    charlie   3         2       1.8% + 0.10 = 1.90        0.91
"""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from gatewayhub.simulation.scenario import Scenario

from .conftest import MakeHistory, MakeScenario, Ranked


def _provider(priority: int, weight: int, percent: str, fixed: str, rate: float) -> dict[str, Any]:
    return {
        "country": "DE",
        "settlement_currencies": ["EUR"],
        "currencies": ["EUR"],
        "priority": priority,
        "weight": weight,
        "fees": {"percent": percent, "fixed": {"EUR": fixed}},
        "approval": {"base": rate},
    }


PROVIDERS = {
    "alpha": _provider(1, 1, "2.9", "0.30 EUR", 0.80),
    "bravo": _provider(2, 1, "1.0", "0.50 EUR", 0.90),
    "charlie": _provider(3, 2, "1.8", "0.10 EUR", 0.91),
}


def _scenario(make: MakeScenario, *strategies: dict[str, Any], **top: Any) -> Scenario:
    return make(PROVIDERS, list(strategies), **top)


def _one(name: str, *strategies: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "strategies": list(strategies), **extra}


def test_single_strategies_at_100_eur(
    make_scenario: MakeScenario, make_history: MakeHistory, ranked: Ranked
) -> None:
    scenario = _scenario(
        make_scenario,
        _one("priority", "priority"),
        _one("least cost", "least_cost"),
        _one("success rate", "success_rate"),
        _one("expected value", "expected_value"),
    )
    txns = make_history([{"amount": "100.00", "currency": "EUR", "issuer_country": "DE"}])
    order = ranked(scenario.plan(), txns)
    assert order["priority"] == [["alpha", "bravo", "charlie"]]
    # fees 3.20 / 1.50 / 1.90
    assert order["least cost"] == [["bravo", "charlie", "alpha"]]
    # approval / 0.02 bucket: 0.80 -> 40, 0.90 -> 45, 0.91 -> 45.5 -> 45: bravo and charlie
    # tie, priority breaks it
    assert order["success rate"] == [["bravo", "charlie", "alpha"]]
    # 0.80 * 96.80 = 77.44; 0.90 * 98.50 = 88.65; 0.91 * 98.10 = 89.271
    assert order["expected value"] == [["charlie", "bravo", "alpha"]]
    # the baseline (first provider by priority) takes everything, alone
    assert order["only alpha"] == [["alpha"]]


def test_success_rate_bucketing_then_least_cost(
    make_scenario: MakeScenario, make_history: MakeHistory, ranked: Ranked
) -> None:
    scenario = _scenario(
        make_scenario,
        _one("coarse", "success_rate", "least_cost"),
        _one("fine", "success_rate", "least_cost", success_rate_bucket=0.005),
    )
    txns = make_history([{"amount": "100.00", "currency": "EUR", "issuer_country": "DE"}])
    order = ranked(scenario.plan(), txns)
    # 2% buckets: bravo and charlie tie at 45; the cheaper bravo (1.50 < 1.90) wins
    assert order["coarse"] == [["bravo", "charlie", "alpha"]]
    # 0.5% buckets: 0.90 -> 180, 0.91 -> 182: charlie's approval wins
    assert order["fine"] == [["charlie", "bravo", "alpha"]]


def test_compositions_break_ties_in_order(
    make_scenario: MakeScenario, make_history: MakeHistory, ranked: Ranked
) -> None:
    scenario = _scenario(
        make_scenario,
        _one("cost, priority", "least_cost", "priority"),
        _one("cost, value", "least_cost", "expected_value"),
    )
    # At 50.00 EUR bravo and charlie both cost 1.00 (0.50 + 0.50; 0.90 + 0.10)
    txns = make_history([{"amount": "50.00", "currency": "EUR", "issuer_country": "DE"}])
    order = ranked(scenario.plan(), txns)
    # alpha: 1.45 + 0.30 = 1.75
    assert order["cost, priority"] == [["bravo", "charlie", "alpha"]]
    # tie on cost; expected value 0.90 * 49.00 = 44.10 < 0.91 * 49.00 = 44.59
    assert order["cost, value"] == [["charlie", "bravo", "alpha"]]


def test_volume_split_by_payment_id_hash(
    make_scenario: MakeScenario, make_history: MakeHistory, ranked: Ranked
) -> None:
    scenario = _scenario(make_scenario, _one("split", "volume_split", "least_cost"))
    ids = ["p0", "p1", "p4", "p5"]
    # crc32(id) % total weight 4: 0 -> alpha, 1 -> bravo, 2 and 3 -> charlie
    assert [zlib.crc32(i.encode()) % 4 for i in ids] == [1, 3, 0, 2]
    txns = make_history(
        [{"id": i, "amount": "100.00", "currency": "EUR", "issuer_country": "DE"} for i in ids]
    )
    order = ranked(scenario.plan(), txns)
    # the arm first, then the others by cost (bravo 1.50, charlie 1.90, alpha 3.20)
    assert order["split"] == [
        ["bravo", "charlie", "alpha"],
        ["charlie", "bravo", "alpha"],
        ["alpha", "bravo", "charlie"],
        ["charlie", "bravo", "alpha"],
    ]


@pytest.mark.parametrize(
    ("amount", "fallback", "expected"),
    [
        # 500 USD at EUR/USD 1.25 is 400.00 EUR; the rule wants strictly more
        ("400.00", True, ["bravo", "charlie", "alpha"]),
        ("400.01", True, ["alpha", "bravo", "charlie"]),
        ("400.01", False, ["alpha"]),
    ],
)
def test_rules_with_a_threshold_in_another_currency(
    make_scenario: MakeScenario,
    make_history: MakeHistory,
    ranked: Ranked,
    amount: str,
    fallback: bool,
    expected: list[str],
) -> None:
    rule = {"name": "big", "when": {"amount_gt": "500 USD"}, "use": ["alpha"], "fallback": fallback}
    scenario = _scenario(
        make_scenario, _one("rules", "least_cost", rules=[rule]), fx={"EUR/USD": "1.25"}
    )
    txns = make_history([{"amount": amount, "currency": "EUR", "issuer_country": "DE"}])
    assert ranked(scenario.plan(), txns)["rules"] == [expected]


def test_first_matching_rule_wins_and_rule_accounts_keep_their_order(
    make_scenario: MakeScenario, make_history: MakeHistory, ranked: Ranked
) -> None:
    rules = [
        {"name": "amex", "when": {"brands": ["amex"]}, "use": ["charlie", "alpha"]},
        {"name": "french", "when": {"countries": ["FR"]}, "use": ["alpha"], "fallback": True},
    ]
    scenario = _scenario(make_scenario, _one("rules", "least_cost", rules=rules))
    txns = make_history(
        [
            {"amount": "100.00", "currency": "EUR", "issuer_country": "FR", "card_brand": "amex"},
            {"amount": "100.00", "currency": "EUR", "issuer_country": "FR", "card_brand": "visa"},
            {"amount": "100.00", "currency": "EUR", "issuer_country": "DE", "card_brand": "visa"},
        ]
    )
    assert ranked(scenario.plan(), txns)["rules"] == [
        ["charlie", "alpha"],  # amex: the rule's own order, no fallback
        ["alpha", "bravo", "charlie"],  # French: alpha, then the rest by cost
        ["bravo", "charlie", "alpha"],  # no rule: by cost
    ]


def test_eligibility_currency_method_country_and_limits(
    make_scenario: MakeScenario, make_history: MakeHistory, ranked: Ranked
) -> None:
    providers = {
        "alpha": {**PROVIDERS["alpha"], "limits": {"EUR": ["1.00 EUR", "200.00 EUR"]}},
        "bravo": {**PROVIDERS["bravo"], "countries": ["DE", "AT"]},
        "charlie": {**PROVIDERS["charlie"], "currencies": ["EUR", "USD"],
                    "methods": ["card", "paypal"]},
    }  # fmt: skip
    scenario = make_scenario(providers, [_one("priority", "priority")])
    txns = make_history(
        [
            {"amount": "200.00", "currency": "EUR", "issuer_country": "DE"},
            {"amount": "200.01", "currency": "EUR", "issuer_country": "DE"},
            {"amount": "10.00", "currency": "EUR", "issuer_country": "FR"},
            {"amount": "10.00", "currency": "USD", "issuer_country": "US"},
            {"amount": "10.00", "currency": "EUR", "method": "paypal"},
            {"amount": "10.00", "currency": "GBP", "issuer_country": "GB"},
        ]
    )
    assert ranked(scenario.plan(), txns)["priority"] == [
        ["alpha", "bravo", "charlie"],  # 200.00 is inside alpha's limits (inclusive)
        ["bravo", "charlie"],  # above alpha's maximum
        ["alpha", "charlie"],  # bravo serves German and Austrian cards only
        ["charlie"],  # only charlie takes USD
        ["charlie"],  # only charlie takes PayPal
        [],  # nobody takes GBP
    ]
