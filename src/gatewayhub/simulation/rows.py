"""One row of a history: the field parsers and the columns rows are collected into.

Each field is parsed on its own, so a row reports every bad field at once (line, field,
reason). Categorical fields (currency, method, brand, countries...) take few distinct values;
their verdicts are remembered per raw value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from gatewayhub.currencies import EXPONENTS
from gatewayhub.models import CardBrand, Funding, PaymentMethodType
from gatewayhub.money import Money, MoneyError, check_payment_amount
from gatewayhub.simulation.transactions import (
    NO_FEE,
    OUTCOME_APPROVED,
    OUTCOME_DECLINED,
    OUTCOME_UNKNOWN,
    Observed,
    Transactions,
    Vocabulary,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_COUNTRY = re.compile(r"[A-Z]{2}")
_OUTCOMES = {
    "approved": OUTCOME_APPROVED,
    "authorized": OUTCOME_APPROVED,
    "captured": OUTCOME_APPROVED,
    "succeeded": OUTCOME_APPROVED,
    "declined": OUTCOME_DECLINED,
    "failed": OUTCOME_DECLINED,
}
_METHODS = {m.value: m for m in PaymentMethodType}
_BRANDS = frozenset(b.value for b in CardBrand)
_CARD_TYPES = frozenset(f.value for f in Funding)


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad field of one row."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, field {self.field}: {self.reason}"


class Columns:
    """Accumulates parsed rows column by column."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.timestamp: list[int] = []
        self.amount: list[int] = []
        self.currency: list[int] = []
        self.method: list[int] = []
        self.brand: list[int] = []
        self.card_type: list[int] = []
        self.issuer: list[int] = []
        self.merchant: list[int] = []
        self.provider: list[int] = []
        self.outcome: list[int] = []
        self.fee: list[int] = []
        self.currencies: Vocabulary[str] = Vocabulary()
        self.methods: Vocabulary[PaymentMethodType] = Vocabulary()
        self.brands: Vocabulary[str | None] = Vocabulary([None])
        self.card_types: Vocabulary[str | None] = Vocabulary([None])
        self.countries: Vocabulary[str | None] = Vocabulary([None])
        self.providers: Vocabulary[str] = Vocabulary()
        self.any_observed = False

    def transactions(self, source: str, notes: list[str]) -> Transactions:
        """The rows kept so far, as time-ordered columns."""
        observed = None
        if self.any_observed:
            observed = Observed(
                provider=np.array(self.provider, dtype=np.int16),
                providers=list(self.providers.values),
                outcome=np.array(self.outcome, dtype=np.int8),
                fee=np.array(self.fee, dtype=np.int64),
            )
        return Transactions(
            ids=self.ids,
            timestamp=np.array(self.timestamp, dtype=np.int64),
            amount=np.array(self.amount, dtype=np.int64),
            currency=np.array(self.currency, dtype=np.int16),
            method=np.array(self.method, dtype=np.int8),
            brand=np.array(self.brand, dtype=np.int8),
            card_type=np.array(self.card_type, dtype=np.int8),
            issuer=np.array(self.issuer, dtype=np.int16),
            merchant=np.array(self.merchant, dtype=np.int16),
            currencies=list(self.currencies.values),
            methods=list(self.methods.values),
            brands=list(self.brands.values),
            card_types=list(self.card_types.values),
            countries=list(self.countries.values),
            observed=observed,
            source=source,
            notes=notes,
        ).in_time_order()


def _timestamp(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 date-time like 2026-03-02T14:05:00Z"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone: add Z (UTC) or an offset like +01:00")
    return (moment - _EPOCH) // _SECOND


def _currency(text: str) -> str:
    if text not in EXPONENTS:
        hint = f" (codes are upper case: {text.upper()!r})" if text.upper() in EXPONENTS else ""
        raise ValueError(f"{text!r} is not an active ISO 4217 currency code{hint}")
    return text


def _country(text: str) -> str:
    if not _COUNTRY.fullmatch(text):
        raise ValueError(f"{text!r} is not an ISO 3166-1 alpha-2 country code like 'DE'")
    return text


def _amount(row: Mapping[str, Any], currency: str) -> int:
    decimal = row.get("amount")
    minor = row.get("amount_minor")
    if isinstance(minor, str):
        minor = minor.strip() or None
    if isinstance(decimal, str):
        decimal = decimal.strip() or None
    if decimal is not None and minor is not None:
        raise ValueError("give amount or amount_minor, not both")
    if decimal is None and minor is None:
        raise ValueError("missing (give amount as a decimal string, or amount_minor)")
    if decimal is not None:
        if not isinstance(decimal, str):
            raise ValueError(
                f'write amounts as decimal strings ("10.50") or use amount_minor, got {decimal!r}'
            )
        money = Money.from_decimal_string(decimal, currency)
    else:
        if isinstance(minor, str):
            if not minor.isdigit():
                raise ValueError(f"amount_minor {minor!r} is not a whole number of minor units")
            minor = int(minor)
        if type(minor) is not int:
            raise ValueError(f"amount_minor must be an integer, got {minor!r}")
        money = Money(minor, currency)
    return check_payment_amount(money).amount


_MISSING = object()
_CACHE_LIMIT = 4096


class _Field:
    """Parses one field. Categorical values (currencies, countries, methods...) repeat a
    lot: their verdict is remembered per distinct raw value, so a million rows cost a
    million dictionary look-ups, not a million parses."""

    __slots__ = ("cache", "name", "parse", "required")

    def __init__(self, name: str, parse: Any, *, required: bool = False, cache: bool = True):
        self.name = name
        self.parse = parse
        self.required = required
        self.cache: dict[object, tuple[Any, str | None]] | None = {} if cache else None

    def read(self, row: Mapping[str, Any]) -> tuple[Any, str | None]:
        """(value or None, error or None)."""
        raw = row.get(self.name)
        cache = self.cache
        if cache is not None and isinstance(raw, str | None):
            hit = cache.get(raw, _MISSING)
            if hit is not _MISSING:
                return hit  # type: ignore[return-value]
        verdict = self._verdict(raw)
        if cache is not None and isinstance(raw, str | None) and len(cache) < _CACHE_LIMIT:
            cache[raw] = verdict
        return verdict

    def _verdict(self, raw: object) -> tuple[Any, str | None]:
        if raw is not None and not isinstance(raw, str):
            return None, f"expected a string, got {type(raw).__name__} {raw!r}"
        text = raw.strip() if raw is not None else ""
        if not text:
            return None, "missing" if self.required else None
        try:
            return self.parse(text), None
        except (ValueError, MoneyError) as exc:
            return None, str(exc)


class RowParser:
    """Parses one row into the columns, or lists what is wrong with it."""

    def __init__(self, columns: Columns) -> None:
        self.c = columns
        self.timestamp = _Field("timestamp", _timestamp, required=True, cache=False)
        self.currency = _Field("currency", _currency, required=True)
        self.categorical = [
            _Field("method", _method),
            _Field("card_brand", _brand),
            _Field("card_type", _card_type),
            _Field("issuer_country", _country),
            _Field("merchant_country", _country),
            _Field("provider", str),
            _Field("outcome", _outcome),
        ]
        self.id = _Field("id", _payment_id, cache=False)

    def parse(self, row: Mapping[str, Any], line: int) -> list[RowError]:
        """Add `row` to the columns, or return what is wrong with it (nothing is added)."""
        errors: list[RowError] = []
        values = []
        for reader in (self.timestamp, self.currency, *self.categorical, self.id):
            value, error = reader.read(row)
            if error is not None:
                errors.append(RowError(line, reader.name, error))
            values.append(value)
        timestamp, currency, method, brand, card_type, issuer, merchant, provider, outcome, pid = (
            values
        )
        amount = fee = None
        if currency is not None:
            try:
                amount = _amount(row, currency)
            except (ValueError, TypeError, MoneyError) as exc:
                only_minor = row.get("amount") in (None, "") and row.get("amount_minor") not in (
                    None,
                    "",
                )
                name = "amount_minor" if only_minor else "amount"
                errors.insert(2, RowError(line, name, str(exc)))
            fee, error = _Field("fee", lambda t: _fee(t, currency), cache=False).read(row)
            if error is not None:
                errors.append(RowError(line, "fee", error))
        if errors:
            errors.sort(key=lambda e: _ORDER.get(e.field, len(_ORDER)))
            return errors
        c = self.c
        c.ids.append(pid or f"line-{line}")
        c.timestamp.append(timestamp)
        c.amount.append(amount)  # type: ignore[arg-type]
        c.currency.append(c.currencies.code(currency))
        c.method.append(c.methods.code(method or PaymentMethodType.CARD))
        c.brand.append(c.brands.code(brand))
        c.card_type.append(c.card_types.code(card_type))
        c.issuer.append(c.countries.code(issuer))
        c.merchant.append(c.countries.code(merchant))
        c.provider.append(-1 if provider is None else c.providers.code(provider))
        c.outcome.append(OUTCOME_UNKNOWN if outcome is None else outcome)
        c.fee.append(NO_FEE if fee is None else fee)
        if provider is not None or outcome is not None or fee is not None:
            c.any_observed = True
        return []


# Errors of one row are listed in the order of the documented columns.
_ORDER = {
    name: i
    for i, name in enumerate(
        ("timestamp", "amount", "amount_minor", "currency", "method", "card_brand", "card_type",
         "issuer_country", "merchant_country", "provider", "outcome", "fee", "id")
    )
}  # fmt: skip


def _method(text: str) -> PaymentMethodType:
    found = _METHODS.get(text)
    if found is None:
        raise ValueError(f"{text!r} is not a payment method; one of {', '.join(sorted(_METHODS))}")
    return found


def _brand(text: str) -> str:
    if text not in _BRANDS:
        raise ValueError(f"{text!r} is not a card brand; one of {', '.join(sorted(_BRANDS))}")
    return text


def _card_type(text: str) -> str:
    if text not in _CARD_TYPES:
        raise ValueError(f"{text!r} is not a card type; one of {', '.join(sorted(_CARD_TYPES))}")
    return text


def _outcome(text: str) -> int:
    found = _OUTCOMES.get(text.lower())
    if found is None:
        raise ValueError(f"{text!r} is not an outcome; use approved or declined")
    return found


def _fee(text: str, currency: str) -> int:
    amount = Money.from_decimal_string(text, currency).amount
    if amount < 0:
        raise ValueError(f"a fee cannot be negative, got {text!r}")
    return amount


def _payment_id(text: str) -> str:
    if len(text) > 255:
        raise ValueError("longer than 255 characters")
    return text
