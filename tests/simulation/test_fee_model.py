"""The shared fee model: hand-computed quotes, volume tiers, refund fees, and the group
(array) estimate agreeing with the one-payment quote."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gatewayhub.fees import CompiledFees, FeeSchedule
from gatewayhub.models import PaymentMethodType as M
from gatewayhub.money import MAX_PAYMENT_MINOR

US_SCHEDULE = FeeSchedule(
    percent=Decimal("2.9"),
    fixed={"USD": "0.30 USD"},
    cross_border_percent=Decimal("1.5"),
    fx_percent=Decimal("1"),
)
US = CompiledFees(US_SCHEDULE, "US", frozenset({"USD"}))


@pytest.mark.parametrize(
    ("amount", "currency", "issuer", "total", "parts"),
    [
        # 2.9% of 10.00 = 0.29, + 0.30 fixed
        (1000, "USD", "US", 59, (29, 30, 0, 0)),
        # + 1.5% cross-border = 0.15
        (1000, "USD", "DE", 74, (29, 30, 15, 0)),
        # EUR: no fixed fee for EUR and no default; 1% FX markup (0.10) since it settles USD
        (1000, "EUR", "US", 39, (29, 0, 0, 10)),
        # 2.9% of 0.17 = 0.4930 -> 0; of 0.18 = 0.5220 -> 1 (half-up per component)
        (17, "USD", "US", 30, (0, 30, 0, 0)),
        (18, "USD", "US", 31, (1, 30, 0, 0)),
    ],
)
def test_quote_by_hand(
    amount: int, currency: str, issuer: str, total: int, parts: tuple[int, int, int, int]
) -> None:
    quote = US.quote(amount, currency, M.CARD, issuer)
    assert quote.total == total
    assert (quote.percentage, quote.fixed, quote.cross_border, quote.fx) == parts


def test_half_up_at_exactly_one_half() -> None:
    fees = CompiledFees(FeeSchedule(percent=Decimal("2.5")), None, frozenset())
    # 2.5% of 20 minor units is exactly 0.5 -> 1
    assert fees.estimate(20, "EUR", M.CARD, None) == 1
    assert fees.estimate(19, "EUR", M.CARD, None) == 0  # 0.475 -> 0


def test_zero_decimal_currency_jpy() -> None:
    fees = CompiledFees(
        FeeSchedule(percent=Decimal("3.6"), fixed={"JPY": "40 JPY"}), "JP", frozenset({"JPY"})
    )
    # 3.6% of 1234 yen = 44.424 -> 44, + 40 yen
    assert fees.estimate(1234, "JPY", M.CARD, "JP") == 84
    # 3.6% of 1250 yen = 45 exactly
    assert fees.estimate(1250, "JPY", M.CARD, "JP") == 85


def test_three_decimal_currency_kwd() -> None:
    fees = CompiledFees(
        FeeSchedule(percent=Decimal("2.5"), fixed={"KWD": "0.100 KWD"}), "KW", frozenset({"KWD"})
    )
    # 2.5% of 12.345 KWD = 0.308625 KWD = 308.625 fils -> 309, + 100 fils
    assert fees.estimate(12345, "KWD", M.CARD, "KW") == 409


def test_fixed_default_converted_with_fx() -> None:
    fx = {("EUR", "JPY"): Decimal("160"), ("EUR", "KWD"): Decimal("0.33")}
    fees = CompiledFees(FeeSchedule(fixed_default="0.25 EUR"), "DE", frozenset({"EUR"}), fx)
    # 0.25 EUR * 160 = 40 JPY
    assert fees.quote(1000, "JPY", M.CARD, None).fixed == 40
    # 0.25 EUR * 0.33 = 0.0825 KWD = 82.5 fils -> 82 (Decimal's half-even, as in the core)
    assert fees.quote(1000, "KWD", M.CARD, None).fixed == 82
    # no GBP rate: the fixed part is unknown and left out
    quote = fees.quote(1000, "GBP", M.CARD, None)
    assert (quote.fixed, quote.fixed_known) == (0, False)


def test_method_and_currency_overrides() -> None:
    schedule = FeeSchedule.model_validate(
        {
            "percent": "2.0",
            "fixed": {"EUR": "0.25 EUR"},
            "methods": {"paypal": {"percent": "3.4", "fixed": "0.35 EUR"}},
            "currencies": {"GBP": {"percent": "1.8", "fixed": "0.20 GBP"}},
        }
    )
    fees = CompiledFees(schedule, "DE", frozenset({"EUR", "GBP"}))
    # paypal: 3.4% of 100.00 = 3.40 + 0.35
    assert fees.estimate(10000, "EUR", M.PAYPAL, None) == 375
    # card in GBP: 1.8% of 100.00 = 1.80 + 0.20
    assert fees.estimate(10000, "GBP", M.CARD, None) == 200
    # paypal in GBP: the currency override is applied after the method's and wins
    assert fees.estimate(10000, "GBP", M.PAYPAL, None) == 200


def test_volume_tiers_replace_the_base_percent_only() -> None:
    schedule = FeeSchedule.model_validate(
        {
            "percent": "2.0",
            "fixed": {"EUR": "0.25 EUR"},
            "methods": {"sepa_debit": {"percent": "0.8"}},
            "volume_tiers": [
                {"above": "10000 EUR", "percent": "1.5"},
                {"above": "50000 EUR", "percent": "1.2"},
            ],
        }
    )
    fees = CompiledFees(schedule, "DE", frozenset({"EUR"}))
    assert [str(m) for m in fees.tier_thresholds()] == ["10000.00 EUR", "50000.00 EUR"]
    assert fees.rates("EUR", M.CARD, 0).ppm == 20_000
    assert fees.rates("EUR", M.CARD, 1).ppm == 15_000
    assert fees.rates("EUR", M.CARD, 2).ppm == 12_000
    assert fees.rates("EUR", M.CARD, 2).fixed == 25
    assert fees.rates("EUR", M.SEPA_DEBIT, 2).ppm == 8_000  # the method override wins
    # 1.2% of 100.00 = 1.20 + 0.25
    assert int(fees.estimate_group(10000, "EUR", M.CARD, None, tier=2).total) == 145
    # the live estimate stays on the base price
    assert fees.estimate(10000, "EUR", M.CARD, None) == 225


@pytest.mark.parametrize(
    "tiers",
    [
        [{"above": "50000 EUR", "percent": "1.2"}, {"above": "10000 EUR", "percent": "1.5"}],
        [{"above": "10000 EUR", "percent": "1.5"}, {"above": "50000 USD", "percent": "1.2"}],
    ],
)
def test_volume_tiers_must_be_increasing_and_in_one_currency(tiers: list[object]) -> None:
    with pytest.raises(ValidationError):
        FeeSchedule.model_validate({"volume_tiers": tiers})


def test_refund_fee_converted() -> None:
    fx = {("EUR", "JPY"): Decimal("160")}
    fees = CompiledFees(FeeSchedule(refund_fee="0.15 EUR"), "DE", frozenset({"EUR"}), fx)
    assert fees.refund_fee("EUR") == 15
    assert fees.refund_fee("JPY") == 24  # 0.15 * 160
    assert fees.refund_fee("USD") is None  # no rate
    assert CompiledFees(FeeSchedule(), None, frozenset()).refund_fee("EUR") == 0


amounts = st.integers(min_value=1, max_value=MAX_PAYMENT_MINOR)
percents = st.decimals(min_value=0, max_value=100, places=4)


@settings(max_examples=200, deadline=None)
@given(
    amounts=st.lists(amounts, min_size=1, max_size=20),
    percent=percents,
    cross=percents,
    fx_markup=percents,
    issuer=st.sampled_from(["US", "DE", None]),
    currency=st.sampled_from(["USD", "EUR", "JPY", "KWD"]),
)
def test_group_estimate_equals_quote(
    amounts: list[int],
    percent: Decimal,
    cross: Decimal,
    fx_markup: Decimal,
    issuer: str | None,
    currency: str,
) -> None:
    schedule = FeeSchedule(
        percent=percent,
        fixed={"USD": "0.30 USD", "JPY": "40 JPY"},
        cross_border_percent=cross,
        fx_percent=fx_markup,
    )
    fees = CompiledFees(schedule, "US", frozenset({"USD"}))
    group = fees.estimate_group(np.array(amounts, dtype=np.int64), currency, M.CARD, issuer)
    for i, amount in enumerate(amounts):
        quote = fees.quote(amount, currency, M.CARD, issuer)
        assert int(group.total[i]) == quote.total
        assert int(group.fx[i]) == quote.fx
        assert int(group.cross_border[i]) == quote.cross_border
