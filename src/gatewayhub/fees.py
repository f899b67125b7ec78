"""Fee schedules and fee estimates, in integer minor units.

One fee model serves the live router (least cost, expected value), the ledger (estimated fee
booked at capture) and the simulator. Rates are configured as decimal percentages ("2.9") and
compiled once into integer parts-per-million, so an estimate is two integer multiplications
and no Decimal on the hot path. Rounding is half-up to the minor unit, per component.

`CompiledFees.quote` prices one payment; `CompiledFees.estimate_group` prices many payments
that share a currency, method and issuing country with the same arithmetic, on anything that
multiplies like an integer (numpy int64 arrays in the simulator).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gatewayhub.currencies import EXPONENTS
from gatewayhub.models import PaymentMethodType
from gatewayhub.money import Money, parse_money_literal

_PPM = 1_000_000
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=4)]


class FeeOverride(BaseModel):
    """Replaces the base percentage and/or fixed fee for one method or currency."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    percent: Percent | None = None
    fixed: str | None = Field(default=None, description='e.g. "0.25 EUR"')


class VolumeTier(BaseModel):
    """A lower percentage for the part of a calendar month's volume above `above`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    above: str = Field(description='month-to-date volume, e.g. "100000 EUR"')
    percent: Percent

    @field_validator("above")
    @classmethod
    def _above_literal(cls, literal: str) -> str:
        parse_money_literal(literal)
        return literal


class FeeSchedule(BaseModel):
    """A provider's price list.

    `fixed` holds the fixed fee per currency ("USD" -> "0.30 USD"); a currency without an entry
    uses `fixed_default` converted with the configured FX rates, or no fixed fee when no rate is
    known (and the route explanation says so). `cross_border_percent` applies when the card's
    issuing country differs from the account's country; `fx_percent` when the payment currency
    is not one the account settles in.

    `volume_tiers` replace the base `percent` for payments made once the account's volume in
    the calendar month has reached a tier's `above` (method and currency overrides still win).
    The live router estimates with the base rates (it does not track monthly volume); the
    simulator bills each month by tier. On a refund the fixed fee is kept; the percentage,
    cross-border and FX parts are given back when `refund_returns_fee` is set, and
    `refund_fee` (converted like `fixed_default`) is charged per refund.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    percent: Percent = Decimal(0)
    fixed: dict[str, str] = Field(default_factory=dict)
    fixed_default: str | None = None
    cross_border_percent: Percent = Decimal(0)
    fx_percent: Percent = Decimal(0)
    methods: dict[PaymentMethodType, FeeOverride] = Field(default_factory=dict)
    currencies: dict[str, FeeOverride] = Field(default_factory=dict)
    refund_returns_fee: bool = False
    refund_fee: str | None = None
    volume_tiers: tuple[VolumeTier, ...] = ()
    as_of: date | None = None
    source: str = ""

    @field_validator("fixed")
    @classmethod
    def _fixed_literals(cls, fixed: dict[str, str]) -> dict[str, str]:
        for currency, literal in fixed.items():
            money = parse_money_literal(literal)
            if money.currency != currency:
                raise ValueError(f"fixed[{currency}] is in {money.currency}")
        return fixed

    @field_validator("fixed_default", "refund_fee")
    @classmethod
    def _default_literal(cls, literal: str | None) -> str | None:
        if literal is not None:
            parse_money_literal(literal)
        return literal

    @field_validator("volume_tiers")
    @classmethod
    def _tiers(cls, tiers: tuple[VolumeTier, ...]) -> tuple[VolumeTier, ...]:
        thresholds = [parse_money_literal(t.above) for t in tiers]
        if len({m.currency for m in thresholds}) > 1:
            raise ValueError("all volume tiers must be in one currency")
        if any(a >= b for a, b in pairwise(thresholds)):
            raise ValueError("volume tiers must be in increasing order of volume")
        return tiers

    def merged(self, override: Mapping[str, Any]) -> FeeSchedule:
        """This schedule with fields replaced from a config table (partial overrides)."""
        return FeeSchedule.model_validate({**self.model_dump(), **override})


def _ppm(percent: Decimal) -> int:
    # Percent with at most four decimals -> parts per million, exactly.
    return int(percent * 10_000)


@dataclass(frozen=True, slots=True)
class FeeQuote:
    """An estimate and its parts, all in the payment currency's minor units."""

    total: int
    percentage: int
    fixed: int
    cross_border: int
    fx: int
    fixed_known: bool = True

    def describe(self, currency: str) -> str:
        """A one-line breakdown for route explanations."""
        parts = [f"{Money(self.percentage, currency)} percentage"]
        parts.append(
            f"{Money(self.fixed, currency)} fixed" if self.fixed_known else "fixed fee unknown"
        )
        if self.cross_border:
            parts.append(f"{Money(self.cross_border, currency)} cross-border")
        if self.fx:
            parts.append(f"{Money(self.fx, currency)} FX")
        return f"{Money(self.total, currency)} ({' + '.join(parts)})"


@dataclass(frozen=True, slots=True)
class FeeRates:
    """The compiled percentage (parts per million) and fixed fee (minor units of the payment
    currency) for one currency and method; `fixed_known` is False when the fixed fee could
    not be converted for lack of an FX rate."""

    ppm: int
    fixed: int
    fixed_known: bool


@dataclass(frozen=True, slots=True)
class GroupFees:
    """Fees of many payments sharing currency, method and issuing country: each field is
    the same shape as the amounts given (the parts of `FeeQuote`, one per payment)."""

    total: Any
    percentage: Any
    fixed: int
    cross_border: Any
    fx: Any


@dataclass(slots=True)
class CompiledFees:
    """A schedule compiled for fast estimates; per-(currency, method) rates are cached."""

    schedule: FeeSchedule
    country: str | None
    settlement_currencies: frozenset[str]
    fx_rates: Mapping[tuple[str, str], Decimal] = field(default_factory=dict)
    _cross_ppm: int = 0
    _fx_ppm: int = 0
    _cache: dict[tuple[str, PaymentMethodType], FeeRates] = field(default_factory=dict)
    _tier_cache: dict[tuple[str, PaymentMethodType, int], FeeRates] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._cross_ppm = _ppm(self.schedule.cross_border_percent)
        self._fx_ppm = _ppm(self.schedule.fx_percent)

    def _rates(self, currency: str, method: PaymentMethodType) -> FeeRates:
        key = (currency, method)
        rates = self._cache.get(key)
        if rates is None:
            rates = self._compile(currency, method, self.schedule.percent)
            self._cache[key] = rates
        return rates

    def rates(self, currency: str, method: PaymentMethodType, tier: int = 0) -> FeeRates:
        """The compiled rates for `currency` and `method`; `tier` 0 is the base price, tier
        i > 0 the i-th of `schedule.volume_tiers`."""
        if tier == 0:
            return self._rates(currency, method)
        key = (currency, method, tier)
        rates = self._tier_cache.get(key)
        if rates is None:
            percent = self.schedule.volume_tiers[tier - 1].percent
            rates = self._tier_cache[key] = self._compile(currency, method, percent)
        return rates

    @property
    def cross_border_ppm(self) -> int:
        """The cross-border surcharge in parts per million."""
        return self._cross_ppm

    @property
    def fx_ppm(self) -> int:
        """The FX markup in parts per million."""
        return self._fx_ppm

    def charges_cross_border(self, issuer_country: str | None) -> bool:
        """Does a card issued in `issuer_country` pay the cross-border surcharge here?"""
        return bool(
            self._cross_ppm and issuer_country and self.country and issuer_country != self.country
        )

    def charges_fx(self, currency: str) -> bool:
        """Does a payment in `currency` pay the FX markup here?"""
        return bool(
            self._fx_ppm
            and self.settlement_currencies
            and currency not in self.settlement_currencies
        )

    def tier_thresholds(self) -> list[Money]:
        """The month-to-date volumes where tiers 1, 2, ... start."""
        return [parse_money_literal(t.above) for t in self.schedule.volume_tiers]

    def refund_fee(self, currency: str) -> int | None:
        """The fixed fee charged per refund in `currency` (0 when the schedule has none;
        None when it cannot be converted for lack of an FX rate)."""
        literal = self.schedule.refund_fee
        if literal is None:
            return 0
        return self._convert(parse_money_literal(literal), currency)

    def _compile(self, currency: str, method: PaymentMethodType, percent: Decimal) -> FeeRates:
        schedule = self.schedule
        fixed_literal: str | None = schedule.fixed.get(currency)
        for override in (schedule.methods.get(method), schedule.currencies.get(currency)):
            if override is None:
                continue
            if override.percent is not None:
                percent = override.percent
            if override.fixed is not None:
                fixed_literal = override.fixed
        if fixed_literal is not None:
            fixed = parse_money_literal(fixed_literal)
            return FeeRates(_ppm(percent), self._convert(fixed, currency) or 0, True)
        if schedule.fixed_default is None:
            return FeeRates(_ppm(percent), 0, True)
        converted = self._convert(parse_money_literal(schedule.fixed_default), currency)
        return FeeRates(_ppm(percent), converted or 0, converted is not None)

    def _convert(self, money: Money, currency: str) -> int | None:
        if money.currency == currency:
            return money.amount
        rate = self.fx_rates.get((money.currency, currency))
        if rate is None:
            return None
        major = money.to_decimal() * rate
        return int(major.scaleb(EXPONENTS[currency]).to_integral_value())

    def quote(
        self,
        amount: int,
        currency: str,
        method: PaymentMethodType,
        issuer_country: str | None,
    ) -> FeeQuote:
        """The estimated fee of a payment of `amount` minor units of `currency`."""
        rates = self._rates(currency, method)
        half = _PPM // 2
        percentage = (amount * rates.ppm + half) // _PPM
        cross = 0
        if self._cross_ppm and issuer_country and self.country and issuer_country != self.country:
            cross = (amount * self._cross_ppm + half) // _PPM
        fx = 0
        if (
            self._fx_ppm
            and self.settlement_currencies
            and currency not in self.settlement_currencies
        ):
            fx = (amount * self._fx_ppm + half) // _PPM
        return FeeQuote(
            total=percentage + rates.fixed + cross + fx,
            percentage=percentage,
            fixed=rates.fixed,
            cross_border=cross,
            fx=fx,
            fixed_known=rates.fixed_known,
        )

    def estimate(
        self, amount: int, currency: str, method: PaymentMethodType, issuer_country: str | None
    ) -> int:
        """Just the total of `quote`, without building the breakdown (the router's hot path)."""
        rates = self._rates(currency, method)
        half = _PPM // 2
        total = (amount * rates.ppm + half) // _PPM + rates.fixed
        if self._cross_ppm and issuer_country and self.country and issuer_country != self.country:
            total += (amount * self._cross_ppm + half) // _PPM
        if (
            self._fx_ppm
            and self.settlement_currencies
            and currency not in self.settlement_currencies
        ):
            total += (amount * self._fx_ppm + half) // _PPM
        return total

    def estimate_group(
        self,
        amounts: Any,
        currency: str,
        method: PaymentMethodType,
        issuer_country: str | None,
        tier: int = 0,
    ) -> GroupFees:
        """`quote` for many amounts of one currency, method and issuing country at once.

        `amounts` is anything with integer `*`, `+` and `//` (an int, a numpy int64 array);
        the rounding is `quote`'s, part by part. Products stay below 2**63 for every amount a
        payment may carry (MAX_PAYMENT_MINOR times one million).
        """
        rates = self.rates(currency, method, tier)
        half = _PPM // 2
        percentage = (amounts * rates.ppm + half) // _PPM
        zero = amounts * 0
        cross = zero
        if self.charges_cross_border(issuer_country):
            cross = (amounts * self._cross_ppm + half) // _PPM
        fx = zero
        if self.charges_fx(currency):
            fx = (amounts * self._fx_ppm + half) // _PPM
        return GroupFees(
            total=percentage + rates.fixed + cross + fx,
            percentage=percentage,
            fixed=rates.fixed,
            cross_border=cross,
            fx=fx,
        )
