"""The command line: the demo tells its story; route explain answers "why"."""

from __future__ import annotations

import io

from rich.console import Console
from typer.testing import CliRunner

from gatewayhub.cli import app
from gatewayhub.demo import run_demo


async def test_demo_runs_with_an_outage_and_balanced_books() -> None:
    out = io.StringIO()
    figures = await run_demo(count=16, seed=3, console=Console(file=out, width=200))
    text = out.getvalue()
    assert figures["payments"] + len(figures["errors"]) == 16
    assert figures["errors"] == []
    assert figures["statuses"]["captured"] + figures["statuses"]["partially_refunded"] >= 8
    assert "sandbox_eu goes down" in text
    assert "Ledger totals" in text
    assert "cheapest:" in text
    balances: dict[str, int] = {}
    for _account, money in figures["ledger"]:
        balances[money.currency] = balances.get(money.currency, 0) + money.amount
    assert set(balances.values()) == {0}, "the ledger balances in every currency"


def test_route_explain() -> None:
    result = CliRunner().invoke(
        app, ["route", "explain", "--amount", "100", "--currency", "EUR", "--country", "FR"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "100.00 EUR by card, card from FR"
    assert lines[1].startswith(
        "#1 sandbox_eu: estimated fee 3.15 EUR (1.40 EUR percentage + 0.25 EUR fixed + 1.50 EUR cross-border)"
    )
    assert any(line.startswith("#2 ") for line in lines)


def test_route_explain_bad_currency() -> None:
    result = CliRunner().invoke(app, ["route", "explain", "--amount", "100", "--currency", "EURO"])
    assert result.exit_code != 0
