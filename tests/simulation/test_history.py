"""Reading histories: every bad row named by line, field and reason; stop or skip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gatewayhub.models import PaymentMethodType
from gatewayhub.simulation.history import HistoryError, read_history, write_history
from gatewayhub.simulation.rows import RowError
from gatewayhub.simulation.transactions import OUTCOME_APPROVED, OUTCOME_DECLINED

HEADER = "id,timestamp,amount,currency,method,card_brand,card_type,issuer_country,merchant_country"


def _csv(tmp_path: Path, *lines: str, header: str = HEADER) -> Path:
    path = tmp_path / "history.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_good_rows_in_minor_units_and_time_order(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "b,2026-03-02T10:00:00+01:00,10.50,EUR,card,visa,debit,DE,DE",
        "a,2026-03-02T08:59:59Z,1000,JPY,card,jcb,credit,JP,DE",
        "c,2026-03-02T09:30:00Z,1.234,KWD,paypal,,,,DE",
    )
    history = read_history(path)
    t = history.transactions
    assert (history.rows, history.bad_rows, history.errors) == (3, 0, [])
    # sorted by time: 08:59:59Z, 09:00:00Z (10:00+01:00), 09:30:00Z
    assert t.ids == ["a", "b", "c"]
    assert t.timestamp.tolist() == [1772441999, 1772442000, 1772443800]
    assert t.amount.tolist() == [1000, 1050, 1234]
    assert [t.currencies[c] for c in t.currency] == ["JPY", "EUR", "KWD"]
    assert [t.methods[m] for m in t.method] == [
        PaymentMethodType.CARD,
        PaymentMethodType.CARD,
        PaymentMethodType.PAYPAL,
    ]
    assert [t.brands[b] for b in t.brand] == ["jcb", "visa", None]
    assert [t.countries[c] for c in t.issuer] == ["JP", "DE", None]
    assert t.amount.dtype == np.int64


BAD_ROWS = [
    # (row, field, reason fragment)
    ("x,2026-03-02T10:00:00Z,10.505,EUR,card,,,DE,DE", "amount", "more decimals than EUR"),
    ("x,2026-03-02T10:00:00Z,10.5,JPY,card,,,DE,DE", "amount", "more decimals than JPY"),
    ("x,2026-03-02T10:00:00Z,1.2345,KWD,card,,,DE,DE", "amount", "more decimals than KWD"),
    ("x,2026-03-02T10:00:00Z,-5.00,EUR,card,,,DE,DE", "amount", "must be positive"),
    ("x,2026-03-02T10:00:00Z,0,EUR,card,,,DE,DE", "amount", "must be positive"),
    ("x,2026-03-02T10:00:00Z,1e3,EUR,card,,,DE,DE", "amount", "not a plain decimal"),
    ("x,2026-03-02T10:00:00Z,,EUR,card,,,DE,DE", "amount", "missing"),
    ("x,2026-03-02T10:00:00Z,10.00,eur,card,,,DE,DE", "currency", "upper case: 'EUR'"),
    ("x,2026-03-02T10:00:00Z,10.00,XYZ,card,,,DE,DE", "currency", "not an active ISO 4217"),
    ("x,2026-03-02 10:00:00,10.00,EUR,card,,,DE,DE", "timestamp", "no time zone"),
    ("x,yesterday,10.00,EUR,card,,,DE,DE", "timestamp", "not an ISO 8601"),
    ("x,,10.00,EUR,card,,,DE,DE", "timestamp", "missing"),
    ("x,2026-03-02T10:00:00Z,10.00,EUR,cheque,,,DE,DE", "method", "not a payment method"),
    ("x,2026-03-02T10:00:00Z,10.00,EUR,card,visa-gold,,DE,DE", "card_brand", "not a card brand"),
    ("x,2026-03-02T10:00:00Z,10.00,EUR,card,visa,gold,DE,DE", "card_type", "not a card type"),
    ("x,2026-03-02T10:00:00Z,10.00,EUR,card,,,Germany,DE", "issuer_country", "alpha-2"),
    ("x,2026-03-02T10:00:00Z,10.00,EUR,card,,,DE,de", "merchant_country", "alpha-2"),
]


@pytest.mark.parametrize(("row", "field", "reason"), BAD_ROWS)
def test_each_bad_field_is_named(tmp_path: Path, row: str, field: str, reason: str) -> None:
    path = _csv(tmp_path, "ok,2026-03-02T09:00:00Z,1.00,EUR,card,,,DE,DE", row)
    with pytest.raises(HistoryError) as caught:
        read_history(path)
    [error] = caught.value.errors
    assert (error.line, error.field) == (3, field)
    assert reason in error.reason
    assert f"line 3, field {field}:" in str(caught.value)


def test_every_bad_field_of_a_row_is_listed(tmp_path: Path) -> None:
    path = _csv(tmp_path, "x,soon,ten,EUR,cheque,,,DE,DE")
    with pytest.raises(HistoryError) as caught:
        read_history(path)
    assert [(e.line, e.field) for e in caught.value.errors] == [
        (2, "timestamp"),
        (2, "amount"),
        (2, "method"),
    ]


def test_skip_keeps_the_good_rows_and_reports_the_bad(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "a,2026-03-02T09:00:00Z,1.00,EUR,card,,,DE,DE",
        "b,2026-03-02T09:00:00Z,1.001,EUR,card,,,DE,DE",
        "c,2026-03-02T09:00:00Z,2.00,EUR,card,,,DE,DE",
        "d,2026-03-02T09:00:00Z,2.00,EUR,card,,,DE,Deutschland",
    )
    history = read_history(path, on_error="skip")
    assert history.transactions.ids == ["a", "c"]
    assert (history.rows, history.bad_rows) == (4, 2)
    assert [(e.line, e.field) for e in history.errors] == [(3, "amount"), (5, "merchant_country")]
    assert history.notes == ["2 of 4 rows skipped as invalid"]


def test_nothing_usable_is_an_error_even_when_skipping(tmp_path: Path) -> None:
    path = _csv(tmp_path, "a,2026-03-02T09:00:00Z,abc,EUR,card,,,DE,DE")
    with pytest.raises(HistoryError, match="no usable rows"):
        read_history(path, on_error="skip")


def test_missing_required_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "a,10.00,EUR", header="id,amount,currency")
    with pytest.raises(HistoryError, match=r"lacks column.*timestamp"):
        read_history(path)


def test_unknown_columns_are_ignored_and_named(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "a,2026-03-02T09:00:00Z,1.00,EUR,42",
        header="id,timestamp,amount,currency,basket_size",
    )
    assert read_history(path).notes == ["ignored columns: basket_size"]


def test_line_numbers_count_physical_lines_with_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(
        'id,timestamp,amount,currency\n"multi\nline",2026-03-02T09:00:00Z,1.00,EUR\n'
        "b,2026-03-02T09:00:00Z,x,EUR\n",
        encoding="utf-8",
    )
    with pytest.raises(HistoryError) as caught:
        read_history(path)
    assert caught.value.errors == [
        RowError(4, "amount", "'x' is not a decimal number"),
    ]


def test_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text(
        "\n".join(
            [
                '{"timestamp": "2026-03-02T09:00:00Z", "amount": "10.50", "currency": "EUR"}',
                '{"timestamp": "2026-03-02T09:00:01Z", "amount_minor": 1234, "currency": "KWD"}',
                "",
                '{"timestamp": "2026-03-02T09:00:02Z", "amount": 10.5, "currency": "EUR"}',
                "not json",
                "[1, 2]",
                '{"timestamp": "2026-03-02T09:00:03Z", "amount_minor": 12.5, "currency": "EUR"}',
                '{"timestamp": "2026-03-02T09:00:04Z", "amount": "1", "amount_minor": 100,'
                ' "currency": "EUR", "extra": true}',
            ]
        ),
        encoding="utf-8",
    )
    history = read_history(path, on_error="skip")
    assert history.transactions.amount.tolist() == [1050, 1234]
    assert history.transactions.ids == ["line-1", "line-2"]
    assert [(e.line, e.field) for e in history.errors] == [
        (4, "amount"),
        (5, "(row)"),
        (6, "(row)"),
        (7, "amount_minor"),
        (8, "amount"),
    ]
    reasons = [e.reason for e in history.errors]
    assert "decimal strings" in reasons[0]
    assert "not valid JSON" in reasons[1]
    assert "JSON object" in reasons[2]
    assert "must be an integer" in reasons[3]
    assert "not both" in reasons[4]
    assert history.notes[0] == "ignored fields: extra"


def test_observed_columns(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "a,2026-03-02T09:00:00Z,10.00,EUR,global_psp,approved,0.55",
        "b,2026-03-02T09:00:01Z,10.00,EUR,global_psp,declined,",
        "c,2026-03-02T09:00:02Z,10.00,EUR,,,",
        header="id,timestamp,amount,currency,provider,outcome,fee",
    )
    observed = read_history(path).transactions.observed
    assert observed is not None
    assert observed.providers == ["global_psp"]
    assert observed.provider.tolist() == [0, 0, -1]
    assert observed.outcome.tolist() == [OUTCOME_APPROVED, OUTCOME_DECLINED, -1]
    assert observed.fee.tolist() == [55, -1, -1]


def test_written_history_reads_back_unchanged(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "b,2026-03-02T10:00:00Z,10.50,EUR,card,visa,debit,DE,DE",
        "a,2026-03-02T08:59:59Z,1000,JPY,card,jcb,credit,JP,DE",
        "c,2026-03-02T09:30:00Z,1.234,KWD,paypal,,,,",
    )
    first = read_history(path).transactions
    copy = tmp_path / "copy.csv"
    write_history(first, copy)
    again = read_history(copy).transactions
    assert again.ids == first.ids
    assert again.amount.tolist() == first.amount.tolist()
    assert again.timestamp.tolist() == first.timestamp.tolist()
    assert copy.read_text(encoding="utf-8").splitlines()[1] == (
        "a,2026-03-02T08:59:59Z,1000,JPY,card,jcb,credit,JP,DE"
    )
