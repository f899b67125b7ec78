"""Fees, FX cost and net revenue as the simulator bills them, against hand arithmetic:
2-, 0- and 3-decimal currencies, cross-border, FX markup, a fixed fee converted with an FX
rate, monthly volume tiers and refund policies."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gatewayhub.errors import ConfigError
from gatewayhub.simulation.engine import run

from .conftest import MakeHistory, MakeScenario

CERTAIN = {"base": 1.0}  # every attempt approved: fees are the only variable
FX = {"EUR/USD": "1.10", "EUR/JPY": "160", "EUR/KWD": "0.330", "EUR/GBP": "0.85"}


def _acquirer(**fees: Any) -> dict[str, Any]:
    return {
        "country": "DE",
        "settlement_currencies": ["EUR"],
        "currencies": ["EUR", "USD", "JPY", "KWD", "GBP"],
        "approval": CERTAIN,
        "fees": fees,
    }


ACQ = _acquirer(
    percent="1.5",
    fixed={"EUR": "0.25 EUR", "JPY": "30 JPY", "KWD": "0.080 KWD"},
    fixed_default="0.20 EUR",
    cross_border_percent="1.0",
    fx_percent="2.0",
)


def test_fees_per_payment_and_per_currency(
    make_scenario: MakeScenario, make_history: MakeHistory
) -> None:
    scenario = make_scenario({"acq": ACQ}, fx=FX)
    txns = make_history(
        [
            {"amount": "100.00", "currency": "EUR", "issuer_country": "DE"},
            {"amount": "100.00", "currency": "EUR", "issuer_country": "FR"},
            {"amount": "12345", "currency": "JPY", "issuer_country": "JP"},
            {"amount": "25.125", "currency": "KWD", "issuer_country": "DE"},
            {"amount": "50.00", "currency": "USD", "issuer_country": "US"},
        ]
    )
    result = run(scenario.plan(), txns, keep_outcomes=True)
    assert result.outcomes is not None
    out = result.outcomes["priority"]
    # EUR 100.00 domestic: 1.5% = 1.50 + 0.25 fixed
    # EUR 100.00, French card: + 1% cross-border = 1.00
    # JPY 12345, Japanese card: 1.5% = 185.175 -> 185, + 30 fixed, + 1% cross-border
    #   123.45 -> 123, + 2% FX (JPY is not settled) 246.9 -> 247 = 585 yen
    # KWD 25.125 = 25125 fils: 1.5% = 376.875 -> 377, + 80 fixed, + 2% FX 502.5 -> 503
    # USD 50.00: 1.5% = 75, fixed 0.20 EUR * 1.10 = 0.22 USD, + 1% cross-border 50,
    #   + 2% FX 100 = 247 cents
    assert out.fee.tolist() == [175, 275, 585, 960, 247]
    assert out.fx.tolist() == [0, 0, 247, 503, 100]

    by_currency = {b.key: b for b in result.strategy("priority").currencies}
    assert {k: b.fees for k, b in by_currency.items()} == {
        "EUR": 450,
        "JPY": 585,
        "KWD": 960,
        "USD": 247,
    }
    assert by_currency["KWD"].fx_cost == 503
    # In EUR: 4.50 + 585/160 = 3.65625 -> 3.66 + 0.960/0.330 = 2.9090.. -> 2.91
    #         + 2.47/1.10 = 2.2454.. -> 2.25  = 13.32
    total = result.strategy("priority")
    assert total.fees == 1332
    # FX part: 247 yen = 1.54375 -> 1.54; 0.503 KWD = 1.5242.. -> 1.52; 1.00 USD = 0.9090.. -> 0.91
    assert total.fx_cost == 154 + 152 + 91
    # Net: EUR 195.50; JPY 11760 = 73.50; KWD 24.165 = 73.2272.. -> 73.23;
    #      USD 47.53 = 43.209.. -> 43.21
    assert total.net_revenue == 19550 + 7350 + 7323 + 4321
    assert total.approved_volume == 20000 + 7716 + 7614 + 4545


def test_volume_tier_applies_once_the_month_passes_the_threshold(
    make_scenario: MakeScenario, make_history: MakeHistory
) -> None:
    scenario = make_scenario(
        {"acq": _acquirer(percent="2.0", volume_tiers=[{"above": "120 EUR", "percent": "1.0"}])},
        fx=FX,
    )
    txns = make_history(
        [
            {"amount": "60.00", "currency": "EUR", "timestamp": "2026-03-02T10:00:00Z"},
            {"amount": "60.00", "currency": "EUR", "timestamp": "2026-03-05T10:00:00Z"},
            # month-to-date volume before this one: exactly 120 EUR -> tier 1
            {"amount": "60.00", "currency": "EUR", "timestamp": "2026-03-09T10:00:00Z"},
            {"amount": "60.00", "currency": "EUR", "timestamp": "2026-03-31T23:59:59Z"},
            # a new month starts from zero
            {"amount": "60.00", "currency": "EUR", "timestamp": "2026-04-01T00:00:00Z"},
        ]
    )
    result = run(scenario.plan(), txns, keep_outcomes=True)
    assert result.outcomes is not None
    # 2% of 60.00 = 1.20; 1% = 0.60
    assert result.outcomes["priority"].fee.tolist() == [120, 120, 60, 60, 120]
    assert result.strategy("priority").fees == 480


def test_volume_tiers_count_other_currencies_through_fx(
    make_scenario: MakeScenario, make_history: MakeHistory
) -> None:
    scenario = make_scenario(
        {"acq": _acquirer(percent="2.0", volume_tiers=[{"above": "100 EUR", "percent": "1.0"}])},
        fx=FX,
    )
    txns = make_history(
        [
            {"amount": "60.00", "currency": "EUR", "timestamp": "2026-03-02T10:00:00Z"},
            # 51.00 GBP / 0.85 = 60 EUR, so 120 EUR before the third payment
            {"amount": "51.00", "currency": "GBP", "timestamp": "2026-03-03T10:00:00Z"},
            {"amount": "60.00", "currency": "EUR", "timestamp": "2026-03-04T10:00:00Z"},
        ]
    )
    result = run(scenario.plan(), txns, keep_outcomes=True)
    assert result.outcomes is not None
    # 2% of 60.00 = 1.20; 2% of 51.00 GBP = 1.02 GBP; then the tier: 1% of 60.00
    assert result.outcomes["priority"].fee.tolist() == [120, 102, 60]


def test_refund_policies(make_scenario: MakeScenario, make_history: MakeHistory) -> None:
    keeps = _acquirer(percent="1.5", fixed={"EUR": "0.25 EUR"}, refund_fee="0.10 EUR")
    returns = {**keeps, "fees": {**keeps["fees"], "refund_returns_fee": True}}
    scenario = make_scenario(
        {"keeps": keeps, "returns": returns},
        [
            {"name": "to keeps", "strategies": ["priority"], "rules": [
                {"name": "all", "use": ["keeps"]}]},
            {"name": "to returns", "strategies": ["priority"], "rules": [
                {"name": "all", "use": ["returns"]}]},
        ],
        refund_rate=1.0,
    )  # fmt: skip
    txns = make_history([{"amount": "100.00", "currency": "EUR"}])
    result = run(scenario.plan(), txns, keep_outcomes=True)
    assert result.outcomes is not None
    # fee 1.75; refunded in full: 100.00 back to the customer, + 0.10 refund fee
    # keeps the fee:   100.00 - 1.75 - (100.00 + 0.10)        = -1.85
    # returns 1.50 (the percentage part; the fixed 0.25 is kept): -1.85 + 1.50 = -0.35
    assert result.outcomes["to keeps"].net.tolist() == [-185]
    assert result.outcomes["to returns"].net.tolist() == [-35]
    assert result.strategy("to keeps").refund_costs == 10010
    assert result.strategy("to returns").refund_costs == 9860  # 100.00 - 1.50 + 0.10


def test_declined_payments_cost_nothing(
    make_scenario: MakeScenario, make_history: MakeHistory
) -> None:
    scenario = make_scenario({"acq": {**ACQ, "approval": {"base": 0.0}}}, fx=FX)
    txns = make_history([{"amount": "100.00", "currency": "EUR"}] * 3)
    result = run(scenario.plan(), txns, keep_outcomes=True)
    assert result.outcomes is not None
    out = result.outcomes["priority"]
    assert np.all(out.fee == 0)
    s = result.strategy("priority")
    assert (s.approved, s.declined, s.fees, s.net_revenue) == (0, 3, 0, 0)


def test_currency_nobody_takes_needs_no_fx_rate(
    make_scenario: MakeScenario, make_history: MakeHistory
) -> None:
    scenario = make_scenario({"acq": ACQ}, fx=FX)
    txns = make_history(
        [
            {"amount": "10.00", "currency": "EUR"},
            {"amount": "10.00", "currency": "CHF"},  # no provider, no EUR/CHF rate
        ]
    )
    s = run(scenario.plan(), txns).strategy("priority")
    assert (s.approved, s.no_route) == (1, 1)
    # 1.5% of 10.00 = 0.15 + 0.25
    assert s.fees == 40


def test_missing_reporting_rate_is_named(
    make_scenario: MakeScenario, make_history: MakeHistory
) -> None:
    scenario = make_scenario({"acq": ACQ}, fx={"EUR/USD": "1.10"})
    txns = make_history([{"amount": "1000", "currency": "JPY"}])
    with pytest.raises(ConfigError, match=r'needs FX rates for JPY: add "EUR/JPY"'):
        run(scenario.plan(), txns)


def test_unconvertible_fixed_fee_counts_as_zero_and_is_noted(
    make_scenario: MakeScenario, make_history: MakeHistory
) -> None:
    # fixed_default is in EUR and there is no EUR/CHF rate: as in the live estimate, the
    # fixed part is left out, and the run says so.
    scenario = make_scenario(
        {"acq": {**_acquirer(percent="1.0", fixed_default="0.20 EUR"), "currencies": ["CHF"]}},
        reporting_currency="CHF",
    )
    result = run(scenario.plan(), make_history([{"amount": "100.00", "currency": "CHF"}]))
    assert result.strategy("priority").fees == 100  # 1% of 100.00, no fixed part
    assert result.notes == [
        "acq: fixed fee unknown for card in CHF (no FX rate to convert it); counted as 0"
    ]
