"""`gatewayhub-sandbox`: run one sandbox provider as an HTTP server."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from gatewayhub.fees import FeeSchedule
from gatewayhub_sandbox.faults import FaultPlan
from gatewayhub_sandbox.provider import LOCAL_API_KEY, LOCAL_WEBHOOK_SECRET
from gatewayhub_sandbox.server import Emulator, EmulatorConfig

cli = typer.Typer(add_completion=False)


@cli.command()
def serve(
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1")] = 8701,
    name: Annotated[str, typer.Option(help="instance name")] = "sandbox",
    currencies: Annotated[str, typer.Option(help="comma-separated ISO codes")] = "EUR,USD,GBP",
    fee_percent: Annotated[str, typer.Option(help='percentage fee, e.g. "1.4"')] = "2.0",
    webhook_url: Annotated[str | None, typer.Option(help="where to POST signed webhooks")] = None,
    latency_ms: Annotated[float, typer.Option(help="added latency per API call")] = 0.0,
    failure_rate: Annotated[float, typer.Option(help="share of calls answered 503")] = 0.0,
    faults: Annotated[
        Path | None, typer.Option(help="a fault plan (JSON file, see the README)")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level")] = "warning",
) -> None:
    """Serve a sandbox provider (key sk_sandbox_local, the local webhook secret)."""
    plan = FaultPlan.model_validate_json(faults.read_text()) if faults else FaultPlan()
    emulator = Emulator(
        EmulatorConfig(
            name=name,
            api_key=LOCAL_API_KEY,
            webhook_secret=LOCAL_WEBHOOK_SECRET,
            currencies=frozenset(c.strip() for c in currencies.split(",")),
            fees=FeeSchedule(percent=Decimal(fee_percent)),
            webhook_url=webhook_url,
            latency_ms=latency_ms,
            failure_rate=failure_rate,
            public_url=f"http://127.0.0.1:{port}",
            seed=plan.seed,
            faults=plan,
        )
    )
    uvicorn.run(emulator.app, host="127.0.0.1", port=port, log_level=log_level, access_log=False)


def main() -> None:
    """Console entry point."""
    cli()


if __name__ == "__main__":
    main()
