"""The `gatewayhub` command."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gatewayhub.config import default_config, load_config
from gatewayhub.errors import GatewayError
from gatewayhub.hub import Hub
from gatewayhub.outbound.local_key import with_sealing_key
from gatewayhub.settings import EnvSettings

app = typer.Typer(
    add_completion=False, help="gatewayhub: one interface over many payment providers."
)
route = typer.Typer(help="Routing decisions.")
app.add_typer(route, name="route")
merchants = typer.Typer(help="Merchants of the HTTP service and their API keys.")
app.add_typer(merchants, name="merchants")
webhooks = typer.Typer(help="Webhooks to merchants.")
app.add_typer(webhooks, name="webhooks")
console = Console()


def _hub(
    config: str | None,
    *,
    database_url: str | None = None,
    background: bool = True,
    sealing_key: bool = False,
) -> Hub:
    """The hub of a command; `sealing_key`: the service needs the webhook sealing key now."""
    env = EnvSettings()
    path = config or env.config
    loaded = load_config(path) if path else default_config()
    url = database_url or env.database_url
    if sealing_key:
        loaded = with_sealing_key(
            loaded, url or loaded.gateway.database_url, config_file=path is not None
        )
    return Hub(loaded, database_url=url, background=background)


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


@app.command()
def simulate(
    scenario: Annotated[
        Path | None, typer.Argument(help="scenario TOML (default: the shipped sample)")
    ] = None,
    input: Annotated[
        Path | None, typer.Option("--input", "-i", help="history, CSV or JSON Lines")
    ] = None,
    format: Annotated[
        str | None, typer.Option(help="csv or jsonl (default: from the file name)")
    ] = None,
    on_error: Annotated[str, typer.Option(help="bad rows: stop, or skip them")] = "stop",
    generate: Annotated[
        int | None, typer.Option(help="simulate N generated payments instead of a history")
    ] = None,
    profile: Annotated[Path | None, typer.Option(help="generator profile TOML")] = None,
    sample: Annotated[bool, typer.Option(help="use the shipped sample history")] = False,
    seed: Annotated[int, typer.Option(help="seed of the draws and the generator")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="write report.html, result.json, csv/ and charts/ here")
    ] = None,
    html: Annotated[Path | None, typer.Option(help="write the HTML report here")] = None,
    json: Annotated[Path | None, typer.Option(help="write the result as JSON here")] = None,
    csv: Annotated[Path | None, typer.Option(help="write CSV tables into this folder")] = None,
    charts: Annotated[Path | None, typer.Option(help="write PNG charts into this folder")] = None,
    save_history: Annotated[
        Path | None, typer.Option(help="write the history used (e.g. generated) as CSV")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="no tables, no progress bar")] = False,
) -> None:
    """What would each routing strategy have cost, approved and earned? Nothing is sent."""
    if on_error not in ("stop", "skip"):
        raise typer.BadParameter("--on-error is stop or skip")
    try:
        from gatewayhub.simulation.command import Options, execute  # noqa: PLC0415
    except ImportError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise SystemExit(2) from None
    execute(
        Options(
            scenario=scenario,
            input=input,
            format=format,
            on_error="stop" if on_error == "stop" else "skip",
            generate=generate,
            profile=profile,
            sample=sample,
            seed=seed,
            out=out,
            html=html,
            json=json,
            csv=csv,
            charts=charts,
            save_history=save_history,
            quiet=quiet,
        ),
        console,
    )


ConfigOption = Annotated[
    str | None, typer.Option(help="TOML configuration (default: built-in sandboxes)")
]
DatabaseOption = Annotated[
    str | None, typer.Option(help="database URL (default: from the configuration)")
]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="server processes sharing the socket (each its own hub)")
    ] = 1,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Run the HTTP API (and the provider-webhook receiver) until interrupted."""
    from gatewayhub.api.serve import serve as run_server  # noqa: PLC0415 - pulls in uvicorn
    from gatewayhub.api.serve import serve_workers  # noqa: PLC0415

    hub = _hub(config, database_url=database_url, sealing_key=True)
    service = hub.config.service
    host, port = host or service.host, service.port if port is None else port
    if workers == 1:
        run_server(hub, host, port)
    else:
        serve_workers(hub, config, host, port, workers)


@app.command()
def migrate(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
    """Bring the database schema up to date (once per deployment, before starting instances;
    instances also migrate on start, which is then a no-op)."""
    from gatewayhub.storage import migrate_database  # noqa: PLC0415

    hub = _hub(config, database_url=database_url, background=False)
    gateway = hub.config.gateway.model_copy(update={"database_url": hub.database_url})
    asyncio.run(migrate_database(hub.database_url, **gateway.database_options()))
    print("database schema up to date")


@merchants.command("create")
def merchants_create(
    name: Annotated[str, typer.Argument(help="the merchant's name")],
    scopes: Annotated[
        str | None,
        typer.Option(
            help="comma-separated: payments:read,payments:write,refunds:write,webhooks:write,"
            "admin (default: all but admin)"
        ),
    ] = None,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Create a merchant and print its API key (shown once: only a hash is kept)."""
    from gatewayhub.api.merchants import create_merchant  # noqa: PLC0415
    from gatewayhub.storage import open_database  # noqa: PLC0415

    hub = _hub(config, database_url=database_url)
    wanted = [s for s in (scopes or "").replace(",", " ").split() if s]

    async def run() -> None:
        db = open_database(hub.database_url)
        try:
            await db.migrate()
            issued = await create_merchant(db, name, wanted, hub.clock.now())
        finally:
            await db.close()
        print(f"merchant {issued.merchant_id}")
        print(f"key {issued.key}")
        print(f"scopes {' '.join(issued.scopes)}")
        print("The key is shown once; store it now.")

    asyncio.run(run())


@webhooks.command("reseal")
def webhooks_reseal(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
    """Seal every stored endpoint secret with the current [webhooks] encryption_key, after a
    key rotation; then the old keys can leave previous_encryption_keys."""
    hub = _hub(config, database_url=database_url, background=False, sealing_key=True)

    async def run() -> None:
        async with hub:
            done = await hub.reseal_webhook_secrets()
        print(f"re-sealed {done.resealed} secret(s) with key {done.key_id}")
        print(f"{done.already_current} secret(s) were sealed with it already")
        print("Every stored secret opens with encryption_key alone now.")

    asyncio.run(run())


def main() -> None:
    """Console entry point: turns gatewayhub's errors into a message and exit status 2."""
    logging.basicConfig(level=EnvSettings().log_level)
    try:
        app()
    except GatewayError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise SystemExit(2) from None
