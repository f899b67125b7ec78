"""`gatewayhub demo`: three local sandbox providers, a few dozen payments, and the story of
where each one went and why - including an outage in the middle of the run."""

from __future__ import annotations

import contextlib
import random
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from gatewayhub.config import default_config, parse_config
from gatewayhub.errors import GatewayError
from gatewayhub.hub import Hub
from gatewayhub.money import Money
from gatewayhub.outbound.local_key import with_sealing_key
from gatewayhub.views import PaymentView


@dataclass(frozen=True)
class _Order:
    amount: int
    currency: str
    token: str
    country: str
    capture: str = "automatic"
    refund: int = 0


def _orders(count: int, rng: random.Random) -> list[_Order]:
    currencies = [
        ("EUR", "DE", 1000, 25000),
        ("USD", "US", 500, 30000),
        ("GBP", "GB", 800, 20000),
        ("JPY", "JP", 500, 30000),
        ("KWD", "KW", 1000, 90000),
        ("INR", "IN", 50000, 900000),
    ]
    special = [
        "tok_decline_insufficient_funds",
        "tok_decline_stolen_card",
        "tok_decline_do_not_honor",
        "tok_5xx_before_charge",
        "tok_5xx_after_charge",
        "tok_429",
    ]
    orders = []
    for index in range(count):
        currency, country, low, high = rng.choice(currencies)
        token = special[index // 4 % len(special)] if index % 4 == 3 else "tok_visa"
        if rng.random() < 0.3:
            country = rng.choice(["FR", "US", "BR"])
        capture = "manual" if index % 5 == 1 else "automatic"
        amount = rng.randint(low, high)
        refund = amount // 2 if index % 6 == 2 else 0
        orders.append(_Order(amount, currency, token, country, capture, refund))
    return orders


@contextlib.asynccontextmanager
async def _sandboxes(hub_ref: list[Hub]) -> AsyncIterator[tuple[dict[str, str], dict[str, Any]]]:
    """Start one emulator HTTP server per account of the built-in configuration."""
    try:
        from gatewayhub_sandbox.launch import serving  # noqa: PLC0415 - optional package
        from gatewayhub_sandbox.provider import LOCAL_API_KEY, LOCAL_WEBHOOK_SECRET  # noqa: PLC0415
        from gatewayhub_sandbox.server import Emulator, EmulatorConfig  # noqa: PLC0415
    except ImportError as exc:
        raise GatewayError(
            "the demo needs the sandbox provider: pip install -e providers/sandbox"
        ) from exc
    from gatewayhub.fees import FeeSchedule  # noqa: PLC0415

    base = default_config()
    urls: dict[str, str] = {}
    emulators: dict[str, Any] = {}
    async with contextlib.AsyncExitStack() as stack:
        for name, account in base.providers.items():

            async def deliver(headers: Mapping[str, str], body: bytes, name: str = name) -> None:
                await hub_ref[0].handle_webhook(name, headers, body)

            emulator = Emulator(
                EmulatorConfig(
                    name=name,
                    api_key=LOCAL_API_KEY,
                    webhook_secret=LOCAL_WEBHOOK_SECRET,
                    currencies=frozenset(account.settings["currencies"]),
                    fees=FeeSchedule.model_validate(account.fees),
                    country=account.country,
                    latency_ms=5,
                ),
                deliver=deliver,
            )
            urls[name] = await stack.enter_async_context(serving(emulator))
            emulators[name] = emulator
        yield urls, emulators


def _path(view: PaymentView) -> str:
    """The authorization attempts, e.g. "sandbox_eu not_sent → sandbox_us succeeded"."""
    return " → ".join(
        f"{a.provider} {a.status.value}" for a in view.attempts if a.operation.value == "authorize"
    )


def _why(view: PaymentView) -> str:
    """Why the first candidate came first, from the stored route decision."""
    route = view.route or {}
    candidates = route.get("candidates", [])
    if route.get("rule"):
        return f"rule {route['rule']}"
    if not candidates:
        return ""
    first = candidates[0]
    why = f"cheapest: {Money(first['fee'], view.currency)}"
    if len(candidates) > 1:
        runner = candidates[1]
        why += f" (next {runner['account']} {Money(runner['fee'], view.currency)})"
    skipped = [e["account"] for e in route.get("excluded", []) if e["reason"] == "circuit_open"]
    if skipped:
        why += f"; skipped {', '.join(skipped)} (circuit open)"
    return why


async def run_demo(
    count: int = 36, seed: int = 7, console: Console | None = None
) -> dict[str, Any]:
    """Run the demo; returns the figures it printed (the tests read them)."""
    console = console or Console()
    if not console.is_terminal:
        console.width = max(console.width, 170)  # piped output: do not fold the tables
    rng = random.Random(seed)  # noqa: S311 - a demo's order mix
    hub_ref: list[Hub] = []
    workdir = Path(tempfile.mkdtemp(prefix="gatewayhub-demo-"))
    async with _sandboxes(hub_ref) as (urls, emulators):
        data = default_config().model_dump(mode="json")
        data["gateway"]["database_url"] = f"sqlite:///{workdir / 'demo.db'}"
        data["retry"] = {"backoff_initial": 0.02, "backoff_max": 0.1, "max_retry_after": 2}
        data["health"] = {"consecutive_failures": 2, "open_seconds": 3600}
        for name, url in urls.items():
            data["providers"][name]["settings"]["base_url"] = url
        config = parse_config(data, "the demo configuration")
        hub = Hub(with_sealing_key(config, config.gateway.database_url, config_file=False))
        hub_ref.append(hub)
        async with hub:
            console.print(
                f"[bold]gatewayhub demo[/bold]: {len(urls)} sandbox providers on loopback, "
                f"database {workdir / 'demo.db'}"
            )
            for name, url in urls.items():
                caps = hub.accounts[name].profile
                console.print(
                    f"  {name}: {url}  currencies {', '.join(sorted(caps.capabilities.currencies))}"
                )
            views: list[PaymentView] = []
            errors: list[tuple[_Order, str]] = []
            outage_at = count // 2
            for index, order in enumerate(_orders(count, rng)):
                if index == outage_at:
                    emulators["sandbox_eu"].config = emulators["sandbox_eu"].config.model_copy(
                        update={"available": False}
                    )
                    console.print(
                        "[yellow]sandbox_eu goes down: every call now answers 503[/yellow]"
                    )
                try:
                    view = await hub.authorize(
                        amount=order.amount,
                        currency=order.currency,
                        payment_method={"token": order.token, "issuer_country": order.country},
                        capture=order.capture,
                        idempotency_key=f"demo-{seed}-{index}",
                        reference=f"order-{index + 1}",
                    )
                    if order.capture == "manual" and view.status.value == "authorized":
                        view = await hub.capture(view.id, order.amount * 3 // 4)
                    if order.refund and view.status.value == "captured":
                        await hub.refund(view.id, min(order.refund, view.captured))
                        view = await hub.get(view.id)
                    views.append(view)
                except GatewayError as exc:
                    errors.append((order, f"{type(exc).__name__}: {exc}"))
            await hub.process_webhooks()
            ledger = await hub.ledger()
            _print(console, views, errors, ledger)
            return {
                "payments": len(views),
                "statuses": Counter(v.status.value for v in views),
                "failovers": sum(1 for v in views if len({a.provider for a in v.attempts}) > 1),
                "providers": Counter(v.provider for v in views if v.provider),
                "ledger": ledger,
                "errors": errors,
            }


def _print(
    console: Console,
    views: list[PaymentView],
    errors: list[tuple[_Order, str]],
    ledger: list[tuple[str, Money]],
) -> None:
    table = Table(title="Payments: where each went and why", show_lines=False)
    for column in ("#", "amount", "status", "authorization attempts", "why first", "decline"):
        table.add_column(column)
    for index, view in enumerate(views, start=1):
        money = Money(view.amount, view.currency)
        table.add_row(
            str(index),
            str(money),
            view.status.value,
            _path(view),
            _why(view),
            view.decline.code if view.decline else "",
        )
    console.print(table)

    failovers = [v for v in views if len({a.provider for a in v.attempts}) > 1]
    if failovers:
        ft = Table(title="Failovers (the money had certainly not moved at the first provider)")
        for column in ("payment", "from", "why", "to"):
            ft.add_column(column)
        for v in failovers:
            first = v.attempts[0]
            why = f"{first.status.value} ({first.decline_code or '-'})"
            ft.add_row(v.id, first.provider, why, v.provider or "(none: failed)")
        console.print(ft)

    declined = [v for v in views if v.decline]
    if declined:
        dt = Table(title="Declines (hard ones are never retried or cascaded)")
        for column in ("payment", "code", "provider", "attempts"):
            dt.add_column(column)
        for v in declined:
            dt.add_row(
                v.id,
                v.decline.code if v.decline else "",
                v.attempts[-1].provider,
                str(len(v.attempts)),
            )
        console.print(dt)

    lt = Table(title="Ledger totals per account and currency (debit +, credit -)")
    lt.add_column("account")
    lt.add_column("balance", justify="right")
    for account, money in ledger:
        if money.amount:
            lt.add_row(account, str(money))
    console.print(lt)
    for order, error in errors:
        console.print(f"[red]{order.amount} {order.currency}: {error}[/red]")
