"""Checkout.com's amount scale, which is not ISO 4217's everywhere.

Amounts are integers (at most nine digits) in a unit Checkout.com picks per currency
("Format the amount value", checkout.com/docs/payments/accept-payments/format-the-amount-value):
the full value for a short list of currencies, thousandths with a last digit of 0 for seven
three-decimal currencies, hundredths for everything else. So CLP (no minor unit in ISO) is
sent in hundredths, and 1.234 KWD cannot be sent at all. Conversion goes through
`Money.to_decimal_string` and `Money.of`; the digits are only regrouped, never computed.
"""

from __future__ import annotations

from decimal import Decimal

from gatewayhub.money import Money, MoneyError

_FULL_VALUE = "BIF DJF GNF ISK JPY KMF KRW PYG RWF UGX VUV VND XAF XOF XPF"
_THOUSANDTHS = "BHD IQD JOD KWD LYD OMR TND"
FULL_VALUE = frozenset(_FULL_VALUE.split())
THOUSANDTHS = frozenset(_THOUSANDTHS.split())
MAX_DIGITS = 9


class AmountNotRepresentable(ValueError):
    """The amount has no exact Checkout.com form (too precise, or more than nine digits)."""


def decimals(currency: str) -> int:
    """How many decimals Checkout.com's integer amount carries for `currency`."""
    if currency in FULL_VALUE:
        return 0
    if currency in THOUSANDTHS:
        return 3
    return 2


def to_wire(money: Money) -> int:
    """The integer Checkout.com expects for `money`; raises `AmountNotRepresentable`."""
    places = decimals(money.currency)
    try:
        if places == 3:
            # "The last digit must always be a 0": only hundredths can be expressed.
            money.to_decimal_string(2)
        text = money.to_decimal_string(places)
    except MoneyError:
        raise AmountNotRepresentable(
            f"Checkout.com takes {money.currency} amounts with at most "
            f"{2 if places == 3 else places} decimals; {money} cannot be sent without rounding"
        ) from None
    digits = text.replace(".", "").lstrip("0") or "0"
    if len(digits) > MAX_DIGITS:
        raise AmountNotRepresentable(f"{money} needs more than {MAX_DIGITS} digits at Checkout.com")
    return int(digits)


def from_wire(value: int, currency: str) -> Money:
    """Money from a Checkout.com amount; raises `MoneyError` if it is finer than ISO allows."""
    if type(value) is not int:
        raise MoneyError(f"Checkout.com amounts are integers, got {value!r}")
    return Money.of(Decimal(value).scaleb(-decimals(currency)), currency)
