"""PayPal's amounts: decimal strings ("10.50"), in the currencies PayPal supports.

PayPal's currency table (developer.paypal.com/api/rest/reference/currency-codes) marks HUF,
JPY and TWD as "does not support decimals. Decimal amounts cause an error": JPY has no minor
unit in ISO either, but HUF and TWD do, so 10.50 HUF cannot be sent. No three-decimal
currency is supported. Conversion goes through `Money.to_decimal_string` and
`Money.from_decimal_string`, never through our own arithmetic.
"""

from __future__ import annotations

from gatewayhub.money import Money, MoneyError

NO_DECIMALS = frozenset({"HUF", "JPY", "TWD"})
# PayPal's payment currencies for accounts outside the currency's own country; BRL, CNY,
# INR and MYR are "in-country only" and can be added per account.
SUPPORTED = frozenset(
    {
        "AUD", "CAD", "CHF", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF", "ILS", "JPY", "MXN",
        "NOK", "NZD", "PHP", "PLN", "SEK", "SGD", "THB", "TWD", "USD",
    }
)  # fmt: skip
IN_COUNTRY_ONLY = frozenset({"BRL", "CNY", "INR", "MYR"})


class AmountNotRepresentable(ValueError):
    """PayPal cannot take this amount as it is (currency, or decimals it refuses)."""


def to_wire(money: Money) -> str:
    """The decimal string PayPal expects for `money`; raises `AmountNotRepresentable`."""
    if money.currency not in SUPPORTED | IN_COUNTRY_ONLY:
        raise AmountNotRepresentable(f"PayPal does not take payments in {money.currency}")
    try:
        if money.currency in NO_DECIMALS:
            return money.to_decimal_string(0)
        return money.to_decimal_string()
    except MoneyError:
        raise AmountNotRepresentable(
            f"PayPal takes {money.currency} without decimals; {money} cannot be sent"
        ) from None


def from_wire(value: str, currency: str) -> Money:
    """Money from a PayPal `{value, currency_code}`; raises `MoneyError` if unreadable."""
    return Money.from_decimal_string(value, currency)
