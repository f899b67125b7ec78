"""Money: an integer count of a currency's minor unit, never a float.

Every amount inside gatewayhub is a `Money`. Conversion to and from the decimal strings that
some providers put on the wire ("10.50", "1.234") goes through `Decimal` here and only here,
so an adapter never does its own arithmetic on amounts.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Self

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from gatewayhub.currencies import EXPONENTS, UnknownCurrency, exponent

# The largest amount any payment may carry, in minor units. Twelve digits covers the largest
# single card payment in any currency (JPY 999 billion, USD 9.99 billion) and stays far inside
# the 53-bit integers some JSON parsers use, so an amount survives every hop unchanged.
MAX_PAYMENT_MINOR = 999_999_999_999
# Ledger sums may grow past a single payment; BIGINT is the storage limit.
_MAX_ANY_MINOR = 2**63 - 1


class MoneyError(ValueError):
    """An amount or currency that cannot be money."""


class Money:
    """An amount in minor units of an ISO 4217 currency. Immutable and hashable."""

    __slots__ = ("amount", "currency")

    amount: int
    currency: str

    def __init__(self, amount: int, currency: str) -> None:
        # bool is an int subclass; True is never an amount.
        if type(amount) is not int:
            raise MoneyError(
                f"amount must be an integer count of minor units, got {type(amount).__name__}"
                f" {amount!r}"
            )
        if currency not in EXPONENTS:
            raise UnknownCurrency(currency)
        if not -_MAX_ANY_MINOR <= amount <= _MAX_ANY_MINOR:
            raise MoneyError(f"amount {amount} is outside the 64-bit range money is stored in")
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "currency", currency)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Money is immutable")

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def of(cls, value: Decimal | str | int, currency: str) -> Self:
        """Money from a major-unit value: `Money.of("10.50", "EUR")` is 1050 cents.

        Raises `MoneyError` when the value has more decimals than the currency allows (an
        amount we would otherwise have to round silently) or is not a finite number.
        """
        if isinstance(value, float | bool):
            raise MoneyError(f"amounts are never floats: use a decimal string, got {value!r}")
        exp = exponent(currency)
        try:
            decimal = value if isinstance(value, Decimal) else Decimal(str(value).strip())
        except InvalidOperation:
            raise MoneyError(f"{value!r} is not a decimal number") from None
        if not decimal.is_finite():
            raise MoneyError(f"{value!r} is not a finite amount")
        scaled = decimal.scaleb(exp)
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{value!r} has more decimals than {currency} allows ({exp})")
        return cls(int(scaled), currency)

    @classmethod
    def from_decimal_string(cls, text: str, currency: str) -> Self:
        """Parse a provider's decimal string ("10.5", "1.234", "1000") into money."""
        if not isinstance(text, str):
            raise MoneyError(f"expected a decimal string, got {type(text).__name__}")
        stripped = text.strip()
        if not stripped or stripped.startswith("+") or "e" in stripped.lower():
            raise MoneyError(f"{text!r} is not a plain decimal amount")
        return cls.of(stripped, currency)

    @classmethod
    def zero(cls, currency: str) -> Self:
        """Zero in `currency`."""
        return cls(0, currency)

    # -- views --------------------------------------------------------------------------------

    @property
    def exponent(self) -> int:
        """Decimals of this currency's minor unit."""
        return EXPONENTS[self.currency]

    def to_decimal(self) -> Decimal:
        """The amount in major units, exact: 1050 EUR cents -> Decimal('10.50')."""
        return Decimal(self.amount).scaleb(-self.exponent)

    def to_decimal_string(self, decimals: int | None = None) -> str:
        """Major units as a plain string with the currency's decimals: "10.50", "1000", "1.234".

        `decimals` forces another number of places (some providers want "1000.00" for JPY);
        it refuses to drop digits that are not zero.
        """
        places = self.exponent if decimals is None else decimals
        value = self.to_decimal()
        quantum = Decimal(1).scaleb(-places)
        quantized = value.quantize(quantum, rounding=ROUND_HALF_UP)
        if quantized != value:
            raise MoneyError(f"{self} cannot be written with {places} decimals without rounding")
        return f"{quantized:f}"

    # -- arithmetic (same currency only) ------------------------------------------------------

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"currency mismatch: {self.currency} and {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.amount == other.amount and self.currency == other.currency

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    def __bool__(self) -> bool:
        return self.amount != 0

    def __repr__(self) -> str:
        return f"Money({self.amount}, {self.currency!r})"

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency}"

    def __reduce__(self) -> tuple[type[Money], tuple[int, str]]:
        return (Money, (self.amount, self.currency))

    # -- pydantic integration -----------------------------------------------------------------

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Validate `{"amount": 1050, "currency": "EUR"}` (or a Money) into Money."""

        def build(value: Any) -> Money:
            if isinstance(value, Money):
                return value
            if not isinstance(value, dict) or set(value) != {"amount", "currency"}:
                raise ValueError('money is an object {"amount": <minor units>, "currency": <ISO>}')
            return Money(value["amount"], value["currency"])

        return core_schema.no_info_plain_validator_function(
            build,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda m: {"amount": m.amount, "currency": m.currency}
            ),
        )


def parse_money_literal(text: str) -> Money:
    """Parse "1000 EUR" / "0.5 KWD" (used by config files and the CLI)."""
    parts = text.split()
    if len(parts) != 2:
        raise MoneyError(f'{text!r} is not "<amount> <CURRENCY>", e.g. "1000 EUR"')
    return Money.of(parts[0], parts[1])


def check_payment_amount(money: Money) -> Money:
    """Refuse amounts no payment may carry: zero, negative, or above `MAX_PAYMENT_MINOR`."""
    if money.amount <= 0:
        raise MoneyError(f"a payment amount must be positive, got {money.amount} ({money})")
    if money.amount > MAX_PAYMENT_MINOR:
        raise MoneyError(
            f"amount {money.amount} exceeds the maximum of {MAX_PAYMENT_MINOR} minor units"
        )
    return money
