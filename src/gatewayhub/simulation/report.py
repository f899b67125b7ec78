"""One self-contained HTML report: tables and the charts embedded as base64 PNG."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from gatewayhub.simulation.charts import render
from gatewayhub.simulation.result import SimulationResult, StrategyResult
from gatewayhub.simulation.tables import amount, percent, signed

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px;
       color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; }
.meta { color: #666; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-variant-numeric: tabular-nums; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid #e3e3e3; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f5f6f8; font-weight: 600; }
tr.best td { font-weight: 600; background: #eef7ee; }
tr.baseline td { color: #555; }
img { max-width: 100%; border: 1px solid #eee; margin: .5rem 0; }
.note { color: #8a6100; }
details { margin: .4rem 0; }
"""


def _table(header: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        css = f' class="{classes[i]}"' if classes and classes[i] else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _summary(result: SimulationResult) -> str:
    cur = result.reporting_currency
    best = max(result.strategies, key=lambda s: s.net_revenue)
    rows, classes = [], []
    for s in result.strategies:
        rows.append(
            [
                s.name,
                s.description,
                percent(s.approval_rate),
                amount(s.approved_volume, cur),
                amount(s.fees, cur),
                percent(s.fee_rate, 2),
                amount(s.fx_cost, cur),
                amount(s.net_revenue, cur),
                "baseline" if s.baseline else signed(s.fee_savings, cur),
                "baseline" if s.baseline else signed(s.net_gain, cur),
                f"{s.failed_over:,}",
                f"{s.latency_mean_ms:,.0f} / {s.latency_p95_ms:,.0f} ms",
            ]
        )
        classes.append("best" if s is best else ("baseline" if s.baseline else ""))
    header = [
        "strategy", "policy", "approval", "approved volume", "fees", "fee rate", "of which FX",
        "expected net revenue", "fee savings", "net gain", "failed over", "latency mean / p95",
    ]  # fmt: skip
    return _table(header, rows, classes)


def _shares(result: SimulationResult) -> str:
    cur = result.reporting_currency
    accounts = [p.account for p in result.strategies[0].providers]
    rows = [
        [
            s.name,
            *[
                f"{percent(p.volume_share)} ({amount(p.fees, cur)} fees)" if p.approved else "-"
                for p in s.providers
            ],
            f"{s.no_route:,}",
        ]
        for s in result.strategies
    ]
    return _table(["strategy", *accounts, "no eligible provider"], rows)


def _breakdowns(s: StrategyResult) -> str:
    currency_rows = [
        [
            b.key,
            f"{b.payments:,}",
            percent(b.approval_rate),
            amount(b.approved_volume, b.currency),
            amount(b.fees, b.currency),
            amount(b.fx_cost, b.currency),
            amount(b.net_revenue, b.currency),
        ]
        for b in s.currencies
    ]
    method_rows = [
        [
            b.key,
            f"{b.payments:,}",
            percent(b.approval_rate),
            amount(b.approved_volume, b.currency),
            amount(b.fees, b.currency),
            amount(b.fx_cost, b.currency),
            amount(b.net_revenue, b.currency),
        ]
        for b in s.methods
    ]
    header = ["", "payments", "approval", "approved volume", "fees", "FX", "net revenue"]
    return (
        f"<details><summary><b>{escape(s.name)}</b>: by currency (in that currency) and by "
        f"method (in the reporting currency)</summary>"
        f"{_table(['currency', *header[1:]], currency_rows)}"
        f"{_table(['method', *header[1:]], method_rows)}</details>"
    )


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def render_html(result: SimulationResult, charts: dict[str, bytes] | None = None) -> str:
    """The report as one HTML document (`charts`: from `charts.render`, when already drawn)."""
    charts = charts if charts is not None else render(result)
    observed = ""
    if result.observed is not None and result.observed.approval_rate is not None:
        o = result.observed
        observed = (
            f"<p>The history itself: {percent(o.approval_rate or 0.0)} approved over "
            f"{o.rows_with_outcome:,} rows with an outcome; "
            f"{amount(o.fees, result.reporting_currency)} {result.reporting_currency} fees "
            f"on {o.rows_with_fee:,} rows with a fee.</p>"
        )
    notes = "".join(f'<p class="note">note: {escape(n)}</p>' for n in result.notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>gatewayhub simulation: {escape(result.scenario)}</title>
<style>{_STYLE}</style></head><body>
<h1>{escape(result.scenario)}</h1>
<p class="meta">{result.payments:,} payments from {escape(result.period_start)} to
{escape(result.period_end)} &middot; source: {escape(result.source)} &middot; seed {result.seed}
&middot; money in {escape(result.reporting_currency)}</p>
{notes}
<h2>Strategies</h2>
{_summary(result)}
<p class="meta">Expected net revenue = approved volume &minus; fees &minus; refunds (net of
fees given back, plus refund fees), over one seeded draw of the scenario's approval model;
every strategy sees the same draws, so differences come from routing. Fee savings and net
gain are against the single-provider baseline.</p>
{observed}
{_img(charts["cost_per_strategy"], "cost per strategy")}
{_img(charts["frontier"], "approval against cost")}
<h2>Savings over time</h2>
{_img(charts["cumulative_savings"], "cumulative savings")}
<h2>Providers</h2>
{_shares(result)}
{_img(charts["provider_share"], "provider share over time")}
<h2>Breakdowns</h2>
{"".join(_breakdowns(s) for s in result.strategies)}
<p class="meta">Made by gatewayhub simulate: the live router, fee model and retry rules
replayed over the history.</p>
</body></html>
"""


def write_html(result: SimulationResult, path: str | Path) -> Path:
    """Write the report to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(result), encoding="utf-8")
    return path
