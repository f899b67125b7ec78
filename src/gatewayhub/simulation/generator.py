"""Synthetic transaction histories from a seedable profile.

The profile says what a shop's traffic looks like: the currency mix and each currency's
ticket sizes (log-normal around a median), the share of cross-border cards and where they
come from, the payment-method and card mix, and the daily rhythm (hour of day, day of
week). The same profile and seed always give the same history.

Ticket sizes are drawn in floating point and rounded to whole minor units once, here; from
then on every amount is an integer.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gatewayhub.errors import ConfigError
from gatewayhub.models import CardBrand, Country, CurrencyCode, Funding, PaymentMethodType
from gatewayhub.money import MAX_PAYMENT_MINOR, Money
from gatewayhub.simulation.availability import epoch_seconds
from gatewayhub.simulation.transactions import F64, Transactions, Vocabulary

MAX_GENERATED = 50_000_000

# A typical European web shop: quiet nights, a lunch bump, an evening peak; busier weekends.
_HOURLY = [
    0.6, 0.4, 0.3, 0.25, 0.25, 0.35, 0.6, 1.0, 1.4, 1.6, 1.7, 1.8,
    2.0, 1.9, 1.7, 1.6, 1.7, 1.9, 2.3, 2.7, 2.9, 2.6, 1.9, 1.1,
]  # fmt: skip
_WEEKDAYS = [1.0, 0.95, 0.95, 1.0, 1.1, 1.25, 1.2]  # Monday first


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CurrencyMix(_Strict):
    """One currency of the mix: its share, ticket sizes, and foreign issuing countries."""

    share: float = Field(gt=0)
    median: str = Field(description='median ticket in major units, e.g. "42.50"')
    spread: float = Field(default=0.8, ge=0, le=3, description="sigma of log(ticket)")
    foreign_countries: dict[Country, float] = Field(
        default_factory=dict, description="issuing countries of cross-border cards, weighted"
    )


def _default_currencies() -> dict[str, CurrencyMix]:
    return {
        "EUR": CurrencyMix(
            share=0.55,
            median="42.00",
            foreign_countries={"FR": 3, "NL": 2, "IT": 2, "ES": 2, "AT": 1, "BE": 1},
        ),
        "USD": CurrencyMix(share=0.18, median="55.00", foreign_countries={"US": 4, "CA": 1}),
        "GBP": CurrencyMix(share=0.14, median="38.00", foreign_countries={"GB": 1}),
        "JPY": CurrencyMix(share=0.08, median="6200", spread=0.7, foreign_countries={"JP": 1}),
        "KWD": CurrencyMix(share=0.05, median="14.500", spread=0.6, foreign_countries={"KW": 1}),
    }


class GeneratorProfile(_Strict):
    """What the synthetic traffic looks like."""

    start: date = date(2026, 3, 2)
    days: int = Field(default=28, ge=1, le=3660)
    merchant_country: Country = "DE"
    cross_border_share: float = Field(default=0.3, ge=0, le=1)
    currencies: dict[CurrencyCode, CurrencyMix] = Field(
        default_factory=_default_currencies, min_length=1
    )
    methods: dict[PaymentMethodType, float] = Field(
        default_factory=lambda: {
            PaymentMethodType.CARD: 0.82,
            PaymentMethodType.PAYPAL: 0.12,
            PaymentMethodType.SEPA_DEBIT: 0.06,
        },
        min_length=1,
    )
    card_brands: dict[CardBrand, float] = Field(
        default_factory=lambda: {
            CardBrand.VISA: 0.55,
            CardBrand.MASTERCARD: 0.36,
            CardBrand.AMEX: 0.09,
        },
        min_length=1,
    )
    card_types: dict[Funding, float] = Field(
        default_factory=lambda: {Funding.CREDIT: 0.58, Funding.DEBIT: 0.38, Funding.PREPAID: 0.04},
        min_length=1,
    )
    hourly: list[float] = Field(default_factory=lambda: list(_HOURLY), min_length=24, max_length=24)
    weekdays: list[float] = Field(
        default_factory=lambda: list(_WEEKDAYS), min_length=7, max_length=7
    )

    @field_validator("currencies")
    @classmethod
    def _medians(cls, currencies: dict[str, CurrencyMix]) -> dict[str, CurrencyMix]:
        for code, mix in currencies.items():
            if Money.of(mix.median, code).amount <= 0:
                raise ValueError(f"currencies.{code}.median must be positive")
        return currencies

    @field_validator("methods", "card_brands", "card_types", "hourly", "weekdays")
    @classmethod
    def _weights(cls, weights: Any) -> Any:
        values = list(weights.values()) if isinstance(weights, dict) else list(weights)
        if any(v < 0 for v in values) or sum(values) <= 0:
            raise ValueError("weights must be non-negative and not all zero")
        return weights


def _p(weights: list[float]) -> F64:
    array = np.array(weights, dtype=np.float64)
    normalized: F64 = array / array.sum()
    return normalized


def generate(count: int, profile: GeneratorProfile | None = None, seed: int = 0) -> Transactions:
    """`count` synthetic payments in time order, ids "g<seed>-<n>"."""
    if not 1 <= count <= MAX_GENERATED:
        raise ConfigError(f"--generate takes 1 to {MAX_GENERATED} payments, got {count}")
    profile = profile or GeneratorProfile()
    rng = np.random.default_rng(seed)
    codes = list(profile.currencies)
    mixes = [profile.currencies[c] for c in codes]
    currency = rng.choice(len(codes), size=count, p=_p([m.share for m in mixes]))

    amount = np.zeros(count, dtype=np.int64)
    noise = rng.standard_normal(count)
    for i, mix in enumerate(mixes):
        rows = currency == i
        median = Money.of(mix.median, codes[i]).amount
        drawn = np.rint(median * np.exp(mix.spread * noise[rows]))
        amount[rows] = np.clip(drawn, 1, MAX_PAYMENT_MINOR).astype(np.int64)

    methods = list(profile.methods)
    method = rng.choice(len(methods), size=count, p=_p(list(profile.methods.values())))
    is_card = np.array([m is PaymentMethodType.CARD for m in methods])[method]
    brands: list[str | None] = [None, *(b.value for b in profile.card_brands)]
    brand = 1 + rng.choice(len(brands) - 1, size=count, p=_p(list(profile.card_brands.values())))
    card_types: list[str | None] = [None, *(f.value for f in profile.card_types)]
    card_type = 1 + rng.choice(
        len(card_types) - 1, size=count, p=_p(list(profile.card_types.values()))
    )
    brand = np.where(is_card, brand, 0)
    card_type = np.where(is_card, card_type, 0)

    countries: Vocabulary[str | None] = Vocabulary([None, profile.merchant_country])
    issuer = np.full(count, 1, dtype=np.int64)
    foreign = rng.random(count) < profile.cross_border_share
    for i, mix in enumerate(mixes):
        options = {c: w for c, w in mix.foreign_countries.items() if c != profile.merchant_country}
        if not options:
            continue
        rows = np.flatnonzero(foreign & (currency == i))
        pick = rng.choice(len(options), size=len(rows), p=_p(list(options.values())))
        issuer[rows] = np.array([countries.code(c) for c in options])[pick]

    day_weights = [
        profile.weekdays[(profile.start.toordinal() + d) % 7] for d in range(profile.days)
    ]
    day = rng.choice(profile.days, size=count, p=_p(day_weights))
    hour = rng.choice(24, size=count, p=_p(profile.hourly))
    second = rng.integers(0, 3600, size=count)
    start = epoch_seconds(datetime.combine(profile.start, time(), tzinfo=UTC))
    timestamp = start + day * 86_400 + hour * 3600 + second

    order = np.argsort(timestamp, kind="stable")
    return Transactions(
        ids=[f"g{seed}-{i}" for i in range(count)],
        timestamp=timestamp[order].astype(np.int64),
        amount=amount[order],
        currency=currency[order].astype(np.int16),
        method=method[order].astype(np.int8),
        brand=brand[order].astype(np.int8),
        card_type=card_type[order].astype(np.int8),
        issuer=issuer[order].astype(np.int16),
        merchant=np.ones(count, dtype=np.int16),
        currencies=codes,
        methods=methods,
        brands=brands,
        card_types=card_types,
        countries=list(countries.values),
        observed=None,
        source=f"generated: {count} payments, seed {seed}",
    )


def load_profile(path: str | Path) -> GeneratorProfile:
    """Read a generator profile from TOML."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return GeneratorProfile.model_validate(data)
    except FileNotFoundError:
        raise ConfigError(f"profile file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path} is invalid:\n{problems}") from None
