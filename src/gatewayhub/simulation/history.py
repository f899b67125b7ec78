"""Reading a transaction history (CSV or JSON Lines) into `Transactions`.

Every row is checked field by field; a bad row yields one `RowError` per bad field (line
number, field, reason). With `on_error="stop"` the first bad row ends the read with a
`HistoryError`; with `"skip"` bad rows are left out and listed in the result.

Columns (CSV header names, JSON keys):

    timestamp         ISO 8601 with a time zone ("2026-03-02T14:05:00Z")       required
    amount            decimal string in major units ("10.50", "1000", "1.234")  required *
    amount_minor      integer minor units (1050)                                 * one of the two
    currency          ISO 4217 code                                              required
    id                payment id (feeds the volume-split hash); default "line-<n>"
    method            card (default), paypal, sepa_debit, ...
    card_brand        visa, mastercard, amex, ...
    card_type         credit, debit, prepaid
    issuer_country    ISO 3166 alpha-2 of the card's issuer
    merchant_country  ISO 3166 alpha-2 of the selling entity
    provider          observed: the account that took the payment
    outcome           observed: approved | declined
    fee               observed: fee charged, decimal string in the payment currency

Other columns are ignored (and named in the result's notes).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np

from gatewayhub.currencies import EXPONENTS
from gatewayhub.errors import GatewayError
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

OnError = Literal["stop", "skip"]
COLUMNS = (
    "id",
    "timestamp",
    "amount",
    "amount_minor",
    "currency",
    "method",
    "card_brand",
    "card_type",
    "issuer_country",
    "merchant_country",
    "provider",
    "outcome",
    "fee",
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
MAX_ERRORS_KEPT = 1000


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad field of one row."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, field {self.field}: {self.reason}"


class HistoryError(GatewayError):
    """The history cannot be read (stopping at a bad row, or nothing usable)."""

    code = "invalid_history"

    def __init__(self, message: str, errors: list[RowError] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


@dataclass
class History:
    """The rows read, and what was wrong with the rest."""

    transactions: Transactions
    rows: int  # data rows seen
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS_KEPT
    bad_rows: int = 0
    notes: list[str] = field(default_factory=list)


class _Columns:
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


class _RowParser:
    """Parses one row into the columns, or lists what is wrong with it."""

    def __init__(self, columns: _Columns) -> None:
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


def parse_rows(
    rows: Iterable[tuple[int, Mapping[str, Any] | RowError]],
    *,
    on_error: OnError = "stop",
    source: str = "history",
    notes: list[str] | None = None,
) -> History:
    """Parse `(line number, row)` pairs (a row may already be a `RowError`, e.g. bad JSON)."""
    columns = _Columns()
    parser = _RowParser(columns)
    kept: list[RowError] = []
    bad = total = 0
    for line, row in rows:
        total += 1
        errors = [row] if isinstance(row, RowError) else parser.parse(row, line)
        if not errors:
            continue
        if on_error == "stop":
            listed = "\n".join(f"  {e}" for e in errors)
            raise HistoryError(
                f"{source}: bad row (use --on-error skip to leave bad rows out):\n{listed}",
                errors,
            )
        bad += 1
        if len(kept) < MAX_ERRORS_KEPT:
            kept.extend(errors[: MAX_ERRORS_KEPT - len(kept)])
    if not columns.ids:
        raise HistoryError(f"{source}: no usable rows ({total} read, {bad} bad)", kept)
    all_notes = list(notes or [])
    if bad:
        all_notes.append(f"{bad} of {total} rows skipped as invalid")
    return History(columns.transactions(source, all_notes), total, kept, bad, all_notes)


def _csv_rows(path: Path, notes: list[str]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [name for name in ("timestamp", "currency") if name not in header] + (
            [] if {"amount", "amount_minor"} & set(header) else ["amount"]
        )
        if missing:
            raise HistoryError(f"{path}: the header lacks column(s) {', '.join(missing)}")
        ignored = [name for name in header if name not in COLUMNS]
        if ignored:
            notes.append(f"ignored columns: {', '.join(ignored)}")
        for row in reader:
            yield reader.line_num, row


def _jsonl_rows(path: Path, notes: list[str]) -> Iterator[tuple[int, Mapping[str, Any] | RowError]]:
    ignored: set[str] = set()
    with path.open(encoding="utf-8-sig") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                yield line, RowError(line, "(row)", f"not valid JSON: {exc.msg}")
                continue
            if not isinstance(row, dict):
                yield line, RowError(line, "(row)", "each line must be a JSON object")
                continue
            ignored.update(key for key in row if key not in COLUMNS)
            yield line, row
    if ignored:
        notes.append(f"ignored fields: {', '.join(sorted(ignored))}")


def read_history(
    path: str | Path, *, on_error: OnError = "stop", format: str | None = None
) -> History:
    """Read a CSV or JSON Lines history (format from the suffix unless given)."""
    path = Path(path)
    if not path.is_file():
        raise HistoryError(f"history file {path} does not exist")
    kind = format or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    if kind not in ("csv", "jsonl"):
        raise HistoryError(f"unknown history format {kind!r}: use csv or jsonl")
    notes: list[str] = []
    rows = _csv_rows(path, notes) if kind == "csv" else _jsonl_rows(path, notes)
    return parse_rows(rows, on_error=on_error, source=str(path), notes=notes)


def write_history(txns: Transactions, path: str | Path) -> None:
    """Write `txns` as a CSV history that `read_history` reads back unchanged."""
    path = Path(path)
    observed = txns.observed
    columns = [
        "id",
        "timestamp",
        "amount",
        "currency",
        "method",
        "card_brand",
        "card_type",
        "issuer_country",
        "merchant_country",
    ]
    if observed is not None:
        columns += ["provider", "outcome", "fee"]
    outcome_text = {OUTCOME_APPROVED: "approved", OUTCOME_DECLINED: "declined"}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for i in range(len(txns)):
            currency = txns.currencies[txns.currency[i]]
            moment = datetime.fromtimestamp(int(txns.timestamp[i]), UTC)
            row = [
                txns.ids[i],
                moment.isoformat().replace("+00:00", "Z"),
                Money(int(txns.amount[i]), currency).to_decimal_string(),
                currency,
                txns.methods[txns.method[i]].value,
                txns.brands[txns.brand[i]] or "",
                txns.card_types[txns.card_type[i]] or "",
                txns.countries[txns.issuer[i]] or "",
                txns.countries[txns.merchant[i]] or "",
            ]
            if observed is not None:
                provider = int(observed.provider[i])
                fee = int(observed.fee[i])
                row += [
                    observed.providers[provider] if provider >= 0 else "",
                    outcome_text.get(int(observed.outcome[i]), ""),
                    Money(fee, currency).to_decimal_string() if fee != NO_FEE else "",
                ]
            writer.writerow(row)
