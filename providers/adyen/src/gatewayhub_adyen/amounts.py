"""Adyen's amounts: `{"currency": "EUR", "value": 1000}`, value an integer in minor units
by Adyen's own decimals table (docs.adyen.com/development-resources/currency-codes).

That table follows ISO 4217 except for a few currencies, listed here; conversions go
through `Money`, and an amount Adyen cannot carry exactly (CVE or IDR cents) is refused with
`AmountNotAccepted` before anything is sent, never rounded.
"""

from __future__ import annotations

from decimal import Decimal
from types import MappingProxyType

from gatewayhub.currencies import exponent
from gatewayhub.money import Money, MoneyError

# Where Adyen's decimals differ from ISO 4217 (ISO: CLP 0, CVE 2, IDR 2, ISK 0).
DEVIATIONS = MappingProxyType({"CLP": 2, "CVE": 0, "IDR": 0, "ISK": 2})


class AmountNotAccepted(MoneyError):
    """An amount Adyen cannot carry in its currency without rounding."""


def wire_decimals(currency: str) -> int:
    """How many decimals Adyen's `value` carries for `currency`."""
    return DEVIATIONS.get(currency, exponent(currency))


def to_wire(money: Money) -> int:
    """Adyen's `value` for `money` (raises `AmountNotAccepted`)."""
    places = wire_decimals(money.currency)
    try:
        text = money.to_decimal_string(places)
    except MoneyError:
        raise AmountNotAccepted(
            f"Adyen carries {money.currency} with {places} decimals; {money} cannot be sent"
        ) from None
    return int(text.replace(".", ""))


def from_wire(value: int, currency: str) -> Money:
    """Money from Adyen's `value` and currency; refuses fractions ISO does not have."""
    return Money.of(Decimal(value).scaleb(-wire_decimals(currency)), currency)
