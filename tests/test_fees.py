"""Fee estimates, computed by hand from the schedules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatewayhub.fees import CompiledFees, FeeOverride, FeeSchedule
from gatewayhub.models import PaymentMethodType

CARD = PaymentMethodType.CARD


def fees(
    schedule: FeeSchedule,
    country: str | None = "US",
    settle: frozenset[str] = frozenset({"USD"}),
    fx: dict[tuple[str, str], Decimal] | None = None,
) -> CompiledFees:
    return CompiledFees(schedule, country, settle, fx or {})


STRIPE_US = FeeSchedule(
    percent=Decimal("2.9"),
    fixed={"USD": "0.30 USD"},
    cross_border_percent=Decimal("1.5"),
    fx_percent=Decimal("1"),
)


@pytest.mark.parametrize(
    ("amount", "country", "expected"),
    [
        (1000, "US", 29 + 30),  # 2.9% of $10.00 = 29 cents, + 30
        (50, "US", 1 + 30),  # 1.45 cents rounds half-up to 1
        (150, "US", 4 + 30),  # 4.35 -> 4
        (10000, "FR", 290 + 30 + 150),  # + 1.5% cross-border
        (10000, None, 290 + 30),  # unknown issuer: no cross-border surcharge
    ],
)
def test_percentage_fixed_cross_border(amount: int, country: str | None, expected: int) -> None:
    assert fees(STRIPE_US).estimate(amount, "USD", CARD, country) == expected


def test_half_up_rounding() -> None:
    schedule = FeeSchedule(percent=Decimal("1.5"))
    assert fees(schedule).estimate(100, "USD", CARD, "US") == 2  # 1.5 -> 2
    assert fees(schedule).estimate(99, "USD", CARD, "US") == 1  # 1.485 -> 1


def test_zero_and_three_decimal_currencies() -> None:
    jpy = FeeSchedule(percent=Decimal("3.6"), fixed={"JPY": "40 JPY"})
    assert fees(jpy, "JP", frozenset({"JPY"})).estimate(10000, "JPY", CARD, "JP") == 360 + 40
    kwd = FeeSchedule(percent=Decimal("2"), fixed={"KWD": "0.100 KWD"})
    # 2% of 12.345 KWD = 0.2469 KWD -> 247 fils (half-up), + 100 fils
    assert fees(kwd, "KW", frozenset({"KWD"})).estimate(12345, "KWD", CARD, "KW") == 247 + 100


def test_fx_markup_when_not_a_settlement_currency() -> None:
    # EUR payment on a USD-settling account: 2.9% + 1% FX; no EUR fixed fee configured
    assert fees(STRIPE_US).estimate(10000, "EUR", CARD, "US") == 290 + 100


def test_fixed_default_converted_with_fx() -> None:
    schedule = FeeSchedule(percent=Decimal("0"), fixed_default="0.30 USD")
    compiled = fees(schedule, fx={("USD", "EUR"): Decimal("0.92")})
    assert compiled.estimate(1000, "EUR", CARD, None) == 28  # 0.276 EUR -> 28 cents
    unknown = fees(schedule).quote(1000, "GBP", CARD, None)
    assert unknown.fixed_known is False
    assert "fixed fee unknown" in unknown.describe("GBP")


def test_method_and_currency_overrides() -> None:
    schedule = FeeSchedule(
        percent=Decimal("2.9"),
        fixed={"USD": "0.30 USD"},
        methods={PaymentMethodType.PAYPAL: FeeOverride(percent=Decimal("3.49"), fixed="0.49 USD")},
        currencies={"GBP": FeeOverride(percent=Decimal("1.2"))},
    )
    compiled = fees(schedule, settle=frozenset({"USD", "GBP"}))
    assert compiled.estimate(10000, "USD", PaymentMethodType.PAYPAL, "US") == 349 + 49
    assert compiled.estimate(10000, "GBP", CARD, "US") == 120


def test_schedule_validation() -> None:
    with pytest.raises(ValueError, match="in USD"):
        FeeSchedule(fixed={"EUR": "0.30 USD"})
    with pytest.raises(ValueError):
        FeeSchedule(percent=Decimal("2.12345"))
    assert STRIPE_US.merged({"percent": "1.5"}).percent == Decimal("1.5")


@given(a=st.integers(0, 10**12), b=st.integers(0, 10**12))
def test_fees_grow_with_the_amount(a: int, b: int) -> None:
    low, high = sorted((a, b))
    compiled = fees(STRIPE_US)
    assert compiled.estimate(low, "USD", CARD, "FR") <= compiled.estimate(high, "USD", CARD, "FR")
    assert compiled.estimate(low, "USD", CARD, "US") >= 30
