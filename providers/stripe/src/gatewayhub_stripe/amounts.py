"""Stripe's amount rules: integers in the currency's minor unit, as Stripe counts it.

Stripe mostly follows ISO 4217 but not everywhere (docs.stripe.com/currencies):

- zero-decimal: BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF
  (MGA is two-decimal in ISO: ariary cents cannot be sent to Stripe);
- three-decimal: BHD JOD KWD OMR TND, in 1/1000 units whose last digit must be 0;
- every other currency is written with two decimals, including ISK, which ISO makes
  zero-decimal (Stripe keeps two decimals "for backwards compatibility" and requires
  multiples of 100, which a whole-krona amount always is).

Conversions go through `Money` only: an amount Stripe cannot carry exactly is refused with
`AmountNotAccepted` before anything is sent, never rounded.
"""

from __future__ import annotations

from decimal import Decimal

from gatewayhub.money import Money, MoneyError


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


ZERO_DECIMAL = _codes("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF")
THREE_DECIMAL = _codes("BHD JOD KWD OMR TND")


class AmountNotAccepted(MoneyError):
    """An amount Stripe cannot carry in its currency without rounding."""


def wire_decimals(currency: str) -> int:
    """How many decimals Stripe's integer amount carries for `currency`."""
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def to_wire(money: Money) -> int:
    """The integer Stripe expects for `money` (raises `AmountNotAccepted`)."""
    places = wire_decimals(money.currency)
    try:
        text = money.to_decimal_string(places)
    except MoneyError:
        raise AmountNotAccepted(
            f"Stripe carries {money.currency} with {places} decimals; {money} cannot be sent"
        ) from None
    value = int(text.replace(".", ""))
    if money.currency in THREE_DECIMAL and value % 10:
        raise AmountNotAccepted(
            f"Stripe requires {money.currency} amounts whose last digit is 0; {money} is not"
        )
    return value


def from_wire(value: int, currency: str) -> Money:
    """Money from Stripe's integer and (lower-case) currency; refuses fractions ISO lacks."""
    code = currency.upper()
    return Money.of(Decimal(value).scaleb(-wire_decimals(code)), code)


def wire_currency(money: Money) -> str:
    """Stripe's currency spelling: lower case."""
    return money.currency.lower()
