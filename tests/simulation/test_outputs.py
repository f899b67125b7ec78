"""Tables, CSV/JSON exports, PNG charts and the self-contained HTML report."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from gatewayhub.simulation import SAMPLE_HISTORY, SAMPLE_SCENARIO, SimulationResult, simulate
from gatewayhub.simulation.charts import render, write_charts
from gatewayhub.simulation.export import write_csv, write_json
from gatewayhub.simulation.report import render_html
from gatewayhub.simulation.tables import amount, print_result

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    return simulate(SAMPLE_SCENARIO, SAMPLE_HISTORY, seed=1)


@pytest.fixture(scope="module")
def charts(result: SimulationResult) -> dict[str, bytes]:
    return render(result)


def test_amount_formatting_is_exact() -> None:
    assert amount(123456789, "EUR") == "1,234,567.89"
    assert amount(1234, "JPY") == "1,234"
    assert amount(1234, "KWD") == "1.234"


def test_tables(result: SimulationResult) -> None:
    console = Console(width=200, record=True)
    print_result(result, console)
    text = console.export_text()
    for s in result.strategies:
        assert s.name in text
    assert "observed (history)" in text
    best = max(result.strategies, key=lambda s: s.net_revenue)
    assert amount(best.net_revenue, "EUR") in text
    assert "Share of approved volume per provider" in text


def test_json_export_round_trips_the_numbers(result: SimulationResult, tmp_path: Path) -> None:
    data = json.loads(write_json(result, tmp_path / "r.json").read_text())
    assert data["payments"] == 4000
    assert data["reporting_currency"] == "EUR"
    assert [s["name"] for s in data["strategies"]] == [s.name for s in result.strategies]
    first = data["strategies"][1]
    assert first["fees"] == result.strategies[1].fees
    assert isinstance(first["fees"], int)
    assert {p["account"] for p in first["providers"]} == {
        "eu_acquirer", "us_acquirer", "global_psp", "wallet_psp"
    }  # fmt: skip
    assert {c["key"] for c in first["currencies"]} == {"EUR", "USD", "GBP", "JPY", "KWD"}
    assert data["observed"]["rows_with_outcome"] == 4000


def test_csv_export(result: SimulationResult, tmp_path: Path) -> None:
    paths = write_csv(result, tmp_path / "csv")
    assert sorted(p.name for p in paths) == [
        "currencies.csv", "daily.csv", "methods.csv", "providers.csv", "summary.csv"
    ]  # fmt: skip
    with (tmp_path / "csv" / "summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["strategy"] for r in rows] == [s.name for s in result.strategies]
    assert [int(r["net_revenue"]) for r in rows] == [s.net_revenue for s in result.strategies]
    with (tmp_path / "csv" / "currencies.csv").open() as handle:
        jpy = [r for r in csv.DictReader(handle) if r["payment_currency"] == "JPY"]
    assert {r["currency"] for r in jpy} == {"JPY"}  # per-currency rows stay in their currency
    with (tmp_path / "csv" / "daily.csv").open() as handle:
        daily = list(csv.DictReader(handle))
    # 28 days x 4 providers x 8 strategies
    assert len(daily) == 28 * 4 * 8


def test_charts_are_pngs(charts: dict[str, bytes]) -> None:
    assert set(charts) == {
        "cost_per_strategy", "provider_share", "cumulative_savings", "frontier", "overview"
    }  # fmt: skip
    for png in charts.values():
        assert png.startswith(PNG)
        assert len(png) > 10_000


def test_charts_written(result: SimulationResult, tmp_path: Path) -> None:
    written = write_charts(result, tmp_path / "charts")
    assert sorted(p.name for p in written) == [
        "cost_per_strategy.png", "cumulative_savings.png", "frontier.png", "overview.png",
        "provider_share.png",
    ]  # fmt: skip
    assert all(p.read_bytes().startswith(PNG) for p in written)


def test_html_report_is_self_contained(result: SimulationResult, charts: dict[str, bytes]) -> None:
    html = render_html(result, charts)
    images = re.findall(r'<img alt="[^"]+" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 4
    # nothing loaded from elsewhere
    assert not re.search(r'(src|href)="(?!data:)', html)
    for s in result.strategies:
        assert s.name in html
    assert "expected net revenue" in html
    assert html.count("<details>") == len(result.strategies)
