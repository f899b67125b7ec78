"""The `gatewayhub` command."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer
from rich.console import Console

from gatewayhub.config import default_config, load_config
from gatewayhub.errors import GatewayError
from gatewayhub.hub import Hub
from gatewayhub.settings import EnvSettings

app = typer.Typer(
    add_completion=False, help="gatewayhub: one interface over many payment providers."
)
route = typer.Typer(help="Routing decisions.")
app.add_typer(route, name="route")
console = Console()


def _hub(config: str | None, *, database_url: str | None = None, background: bool = True) -> Hub:
    env = EnvSettings()
    path = config or env.config
    loaded = load_config(path) if path else default_config()
    return Hub(loaded, database_url=database_url or env.database_url, background=background)


@app.command()
def demo(
    payments: Annotated[int, typer.Option(help="how many payments to push")] = 36,
    seed: Annotated[int, typer.Option(help="seed of the order mix")] = 7,
) -> None:
    """Start three sandbox providers and push payments through them, one failing mid-run."""
    from gatewayhub.demo import run_demo  # noqa: PLC0415 - pulls in the sandbox package

    asyncio.run(run_demo(payments, seed, console))


@route.command("explain")
def explain(
    amount: Annotated[str, typer.Option(help='amount in major units, e.g. "10.50"')],
    currency: Annotated[str, typer.Option(help="ISO 4217 code")],
    method: Annotated[str, typer.Option(help="payment method type")] = "card",
    country: Annotated[str | None, typer.Option(help="issuing country of the card")] = None,
    brand: Annotated[str | None, typer.Option(help="card brand")] = None,
    config: Annotated[
        str | None, typer.Option(help="TOML configuration (default: built-in sandboxes)")
    ] = None,
) -> None:
    """Where would this payment go, and why? Nothing is stored or sent."""
    from gatewayhub.money import Money  # noqa: PLC0415

    async def run() -> None:
        hub = _hub(config, database_url="sqlite:///:memory:", background=False)
        async with hub:
            money = Money.of(amount, currency)
            method_fields: dict[str, str] = {"token": "tok_preview", "type": method}
            if country:
                method_fields["issuer_country"] = country
            if brand:
                method_fields["brand"] = brand
            decision = hub.explain_route(
                amount=money.amount, currency=currency, payment_method=method_fields
            )
            fees = {name: account.profile.fees for name, account in hub.accounts.items()}
            console.print(
                f"[bold]{money}[/bold] by {method}" + (f", card from {country}" if country else "")
            )
            for line in decision.explain(fees):
                console.print(line, soft_wrap=True)

    asyncio.run(run())


def main() -> None:
    """Console entry point: turns gatewayhub's errors into a message and exit status 2."""
    logging.basicConfig(level=EnvSettings().log_level)
    try:
        app()
    except GatewayError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise SystemExit(2) from None
