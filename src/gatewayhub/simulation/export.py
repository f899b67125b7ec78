"""Exports: the result as JSON, and as CSV tables (one file per table)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from gatewayhub.simulation.result import SimulationResult


def write_json(result: SimulationResult, path: str | Path) -> Path:
    """The whole result (`to_dict()`) as one JSON document."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def write_csv(result: SimulationResult, directory: str | Path) -> list[Path]:
    """summary.csv, providers.csv, currencies.csv, methods.csv and daily.csv in `directory`.
    Money columns are integer minor units; `currency` says of what."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cur = result.reporting_currency
    tables: dict[str, tuple[list[str], list[list[object]]]] = {
        "summary": (
            [
                "strategy", "baseline", "description", "currency", "payments", "approved",
                "approval_rate", "declined", "no_route", "unavailable", "attempts",
                "failed_over", "approved_volume", "fees", "fee_rate", "fx_cost",
                "refunded_volume", "refund_costs", "net_revenue", "fee_savings", "net_gain",
                "latency_mean_ms", "latency_p95_ms",
            ],
            [
                [
                    s.name, s.baseline, s.description, cur, s.payments, s.approved,
                    round(s.approval_rate, 6), s.declined, s.no_route, s.unavailable,
                    s.attempts, s.failed_over, s.approved_volume, s.fees,
                    round(s.fee_rate, 6), s.fx_cost, s.refunded_volume, s.refund_costs,
                    s.net_revenue, s.fee_savings, s.net_gain,
                    round(s.latency_mean_ms, 1), round(s.latency_p95_ms, 1),
                ]
                for s in result.strategies
            ],
        ),
        "providers": (
            ["strategy", "provider", "currency", "routed", "approved", "approved_volume",
             "fees", "volume_share"],
            [
                [s.name, p.account, cur, p.routed, p.approved, p.approved_volume, p.fees,
                 round(p.volume_share, 6)]
                for s in result.strategies
                for p in s.providers
            ],
        ),
        "currencies": (
            ["strategy", "payment_currency", "currency", "payments", "approved",
             "approved_volume", "fees", "fx_cost", "net_revenue"],
            [
                [s.name, b.key, b.currency, b.payments, b.approved, b.approved_volume, b.fees,
                 b.fx_cost, b.net_revenue]
                for s in result.strategies
                for b in s.currencies
            ],
        ),
        "methods": (
            ["strategy", "method", "currency", "payments", "approved", "approved_volume",
             "fees", "fx_cost", "net_revenue"],
            [
                [s.name, b.key, b.currency, b.payments, b.approved, b.approved_volume, b.fees,
                 b.fx_cost, b.net_revenue]
                for s in result.strategies
                for b in s.methods
            ],
        ),
        "daily": (
            ["strategy", "day", "currency", "provider", "approved_volume", "net_revenue"],
            [
                [s.name, day, cur, account, volumes[d], s.daily.net_revenue[d]]
                for s in result.strategies
                for account, volumes in s.daily.provider_volume.items()
                for d, day in enumerate(s.daily.days)
            ],
        ),
    }  # fmt: skip
    written = []
    for name, (header, rows) in tables.items():
        path = directory / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        written.append(path)
    return written
