"""Money: exponents, conversions, refusals, and round-trip properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from gatewayhub.currencies import EXPONENTS, UnknownCurrency, exponent
from gatewayhub.money import (
    MAX_PAYMENT_MINOR,
    Money,
    MoneyError,
    check_payment_amount,
    parse_money_literal,
)


@pytest.mark.parametrize(
    ("currency", "decimals"),
    [
        ("JPY", 0),
        ("KRW", 0),
        ("ISK", 0),
        ("VND", 0),
        ("CLP", 0),
        ("XAF", 0),
        ("XOF", 0),
        ("UGX", 0),
        ("EUR", 2),
        ("USD", 2),
        ("CNY", 2),
        ("GBP", 2),
        ("INR", 2),
        ("HUF", 2),
        ("XCG", 2),
        ("ZWG", 2),
        ("KWD", 3),
        ("BHD", 3),
        ("JOD", 3),
        ("OMR", 3),
        ("TND", 3),
        ("IQD", 3),
        ("LYD", 3),
        ("CLF", 4),
        ("UYW", 4),
    ],
)
def test_exponents_follow_iso_4217(currency: str, decimals: int) -> None:
    assert exponent(currency) == decimals


@pytest.mark.parametrize("code", ["HRK", "ANG", "ZWL", "XAU", "XXX", "ZZZ", "eur", "EURO", ""])
def test_withdrawn_unit_less_and_malformed_codes_are_refused(code: str) -> None:
    with pytest.raises(UnknownCurrency):
        Money(100, code)


def test_lower_case_gets_a_hint() -> None:
    with pytest.raises(UnknownCurrency, match="'EUR'"):
        Money(100, "eur")


def test_table_covers_the_active_list() -> None:
    assert 150 <= len(EXPONENTS) <= 190


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("10.50", "EUR", 1050),
        ("10.5", "EUR", 1050),
        ("0.05", "EUR", 5),
        ("1000", "JPY", 1000),
        ("1.234", "KWD", 1234),
        ("0.001", "BHD", 1),
        ("-10.50", "EUR", -1050),
        (" 7.00 ", "USD", 700),
    ],
)
def test_from_decimal_strings(text: str, currency: str, minor: int) -> None:
    assert Money.from_decimal_string(text, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(1050, "EUR"), "10.50"),
        (Money(5, "EUR"), "0.05"),
        (Money(1000, "JPY"), "1000"),
        (Money(1234, "KWD"), "1.234"),
        (Money(-1050, "EUR"), "-10.50"),
        (Money(0, "USD"), "0.00"),
        (Money(1, "CLF"), "0.0001"),
    ],
)
def test_to_decimal_strings(money: Money, text: str) -> None:
    assert money.to_decimal_string() == text


def test_forced_decimals_never_round() -> None:
    assert Money(1000, "JPY").to_decimal_string(2) == "1000.00"
    assert Money(1200, "EUR").to_decimal_string(0) == "12"
    with pytest.raises(MoneyError, match="without rounding"):
        Money(1050, "EUR").to_decimal_string(0)


@pytest.mark.parametrize(
    ("value", "currency", "message"),
    [
        (10.5, "EUR", "never floats"),
        ("10.505", "EUR", "more decimals"),
        ("1.5", "JPY", "more decimals"),
        ("abc", "EUR", "not a decimal"),
        ("NaN", "EUR", "finite"),
        ("Infinity", "EUR", "finite"),
    ],
)
def test_of_refuses_what_cannot_be_money(value: object, currency: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        Money.of(value, currency)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["1e3", "+10", "", "1,50"])
def test_decimal_strings_are_plain(text: str) -> None:
    with pytest.raises(MoneyError):
        Money.from_decimal_string(text, "EUR")


@pytest.mark.parametrize("amount", [10.0, True, "100", Decimal(100), None])
def test_amount_must_be_an_int(amount: object) -> None:
    with pytest.raises(MoneyError, match="integer count of minor units"):
        Money(amount, "EUR")  # type: ignore[arg-type]


def test_payment_amount_limits() -> None:
    assert check_payment_amount(Money(MAX_PAYMENT_MINOR, "JPY")).amount == MAX_PAYMENT_MINOR
    for bad in (0, -1, MAX_PAYMENT_MINOR + 1):
        with pytest.raises(MoneyError):
            check_payment_amount(Money(bad, "JPY"))


def test_arithmetic_only_within_one_currency() -> None:
    assert Money(100, "EUR") + Money(50, "EUR") == Money(150, "EUR")
    assert Money(100, "EUR") - Money(150, "EUR") == Money(-50, "EUR")
    assert Money(1, "EUR") < Money(2, "EUR")
    with pytest.raises(MoneyError, match="currency mismatch"):
        Money(100, "EUR") + Money(100, "USD")
    with pytest.raises(MoneyError):
        _ = Money(100, "EUR") < Money(100, "USD")
    assert Money(100, "EUR") != Money(100, "USD")


def test_money_is_immutable_and_hashable() -> None:
    money = Money(100, "EUR")
    with pytest.raises(AttributeError):
        money.amount = 5  # type: ignore[misc]
    assert {money, Money(100, "EUR")} == {money}


def test_literals() -> None:
    assert parse_money_literal("1000 EUR") == Money(100000, "EUR")
    assert parse_money_literal("0.150 KWD") == Money(150, "KWD")
    with pytest.raises(MoneyError):
        parse_money_literal("1000EUR")


def test_pydantic_fields() -> None:
    class Priced(BaseModel):
        price: Money

    assert Priced.model_validate({"price": {"amount": 1050, "currency": "EUR"}}).price == Money(
        1050, "EUR"
    )
    assert Priced(price=Money(5, "JPY")).model_dump() == {"price": {"amount": 5, "currency": "JPY"}}
    with pytest.raises(ValidationError):
        Priced.model_validate({"price": {"amount": 10.5, "currency": "EUR"}})
    with pytest.raises(ValidationError):
        Priced.model_validate({"price": {"amount": 10, "currency": "EUR", "extra": 1}})


currencies = st.sampled_from(sorted(EXPONENTS))
amounts = st.integers(min_value=-(10**15), max_value=10**15)


@given(amount=amounts, currency=currencies)
def test_decimal_string_round_trip(amount: int, currency: str) -> None:
    money = Money(amount, currency)
    assert Money.from_decimal_string(money.to_decimal_string(), currency) == money


@given(amount=amounts, currency=currencies)
def test_major_units_round_trip(amount: int, currency: str) -> None:
    money = Money(amount, currency)
    assert Money.of(money.to_decimal(), currency) == money
    assert money.to_decimal() * (Decimal(10) ** EXPONENTS[currency]) == amount


@given(a=amounts, b=amounts, c=amounts, currency=currencies)
def test_addition_is_exact(a: int, b: int, c: int, currency: str) -> None:
    x, y, z = Money(a, currency), Money(b, currency), Money(c, currency)
    assert (x + y) + z == x + (y + z)
    assert (x + y - y) == x
