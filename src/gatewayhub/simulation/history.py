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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from gatewayhub.errors import GatewayError
from gatewayhub.money import Money
from gatewayhub.simulation.rows import Columns, RowError, RowParser
from gatewayhub.simulation.transactions import (
    NO_FEE,
    OUTCOME_APPROVED,
    OUTCOME_DECLINED,
    Transactions,
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
MAX_ERRORS_KEPT = 1000


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


def parse_rows(
    rows: Iterable[tuple[int, Mapping[str, Any] | RowError]],
    *,
    on_error: OnError = "stop",
    source: str = "history",
    notes: list[str] | None = None,
) -> History:
    """Parse `(line number, row)` pairs (a row may already be a `RowError`, e.g. bad JSON)."""
    columns = Columns()
    parser = RowParser(columns)
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
