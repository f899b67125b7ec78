"""The comparison as rich terminal tables."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from gatewayhub.money import Money
from gatewayhub.simulation.result import SimulationResult, StrategyResult


def amount(value: int, currency: str) -> str:
    """Minor units as "1,234.50" (exact, thousands separated)."""
    return f"{Money(value, currency).to_decimal():,}"


def signed(value: int, currency: str) -> str:
    """Like `amount`, with an explicit sign."""
    text = amount(abs(value), currency)
    return f"+{text}" if value > 0 else (f"-{text}" if value < 0 else text)


def percent(rate: float, places: int = 1) -> str:
    """A rate as a percentage."""
    return f"{rate * 100:.{places}f}%"


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))


def summary_table(result: SimulationResult) -> Table:
    """One row per strategy: approvals, volume, fees, net revenue, gain over the baseline."""
    cur = result.reporting_currency
    table = _table(
        f"{result.scenario}: {result.payments:,} payments, {result.period_start[:10]}"
        f" to {result.period_end[:10]}, money in {cur}"
    )
    table.add_column("strategy", min_width=14, overflow="fold")
    for name in ("approval", "approved volume", "fees", "fee rate", "net revenue", "net gain"):
        table.add_column(name, justify="right", no_wrap=True)
    best = max(result.strategies, key=lambda s: s.net_revenue)
    for s in result.strategies:
        table.add_row(
            f"[bold]{s.name}[/bold]" if s is best else s.name,
            percent(s.approval_rate),
            amount(s.approved_volume, cur),
            amount(s.fees, cur),
            percent(s.fee_rate, 2),
            amount(s.net_revenue, cur),
            "baseline" if s.baseline else signed(s.net_gain, cur),
        )
    if result.observed is not None and result.observed.approval_rate is not None:
        o = result.observed
        table.add_row(
            "[dim]observed (history)[/dim]",
            percent(o.approval_rate or 0.0),
            "",
            amount(o.fees, cur) if o.rows_with_fee else "",
            "",
            "",
            "",
        )
    return table


def details_table(result: SimulationResult) -> Table:
    """Fee savings, FX cost, failovers and latency per strategy."""
    cur = result.reporting_currency
    table = _table(f"Costs and operations (money in {cur})")
    table.add_column("strategy", min_width=14, overflow="fold")
    for name in ("fee savings", "of fees: FX", "refunds", "failed over", "no provider"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("ms mean/p95", justify="right", no_wrap=True)
    for s in result.strategies:
        table.add_row(
            s.name,
            "baseline" if s.baseline else signed(s.fee_savings, cur),
            amount(s.fx_cost, cur),
            amount(s.refund_costs, cur),
            f"{s.failed_over:,}",
            f"{s.no_route:,}",
            f"{s.latency_mean_ms:,.0f}/{s.latency_p95_ms:,.0f}",
        )
    return table


def share_table(result: SimulationResult) -> Table:
    """Share of approved volume per provider, per strategy."""
    table = _table("Share of approved volume per provider")
    table.add_column("strategy", min_width=14, overflow="fold")
    accounts = [p.account for p in result.strategies[0].providers]
    for account in accounts:
        table.add_column(account, justify="right", no_wrap=True)
    table.add_column("no provider", justify="right", no_wrap=True)
    for s in result.strategies:
        table.add_row(
            s.name,
            *[percent(p.volume_share) if p.approved else "-" for p in s.providers],
            f"{s.no_route:,}" if s.no_route else "-",
        )
    return table


def _breakdown_table(
    title: str, result: SimulationResult, rows: dict[str, list[tuple[str, str]]]
) -> Table:
    table = _table(title)
    table.add_column("strategy", min_width=14, overflow="fold")
    keys = list(dict.fromkeys(k for s in result.strategies for k, _ in rows[s.name]))
    for key in keys:
        table.add_column(key, justify="right", no_wrap=True)
    for s in result.strategies:
        cells = dict(rows[s.name])
        table.add_row(s.name, *[cells.get(k, "-") for k in keys])
    return table


def _cell(s: StrategyResult, key: str, by_currency: bool) -> tuple[str, str]:
    rows = s.currencies if by_currency else s.methods
    b = next(r for r in rows if r.key == key)
    rate = b.fees / b.approved_volume if b.approved_volume else 0.0
    return key, f"{percent(rate, 2)} · {percent(b.approval_rate)}"


def currency_table(result: SimulationResult) -> Table:
    """Fee rate and approval rate per payment currency."""
    rows = {
        s.name: [_cell(s, b.key, by_currency=True) for b in s.currencies] for s in result.strategies
    }
    return _breakdown_table("By currency: fee rate · approval", result, rows)


def method_table(result: SimulationResult) -> Table:
    """Fee rate and approval rate per payment method."""
    rows = {
        s.name: [_cell(s, b.key, by_currency=False) for b in s.methods] for s in result.strategies
    }
    return _breakdown_table("By method: fee rate · approval", result, rows)


def print_result(result: SimulationResult, console: Console) -> None:
    """Every table, then the notes."""
    for table in (
        summary_table(result),
        details_table(result),
        share_table(result),
        currency_table(result),
        method_table(result),
    ):
        console.print(table)
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
