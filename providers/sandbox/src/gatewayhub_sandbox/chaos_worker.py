"""One gateway process of a chaos run: `python -m gatewayhub_sandbox.chaos_worker SPEC_FILE`.

It drives payments through the SDK (`Hub`, with its background reconciler and inbox worker)
against sandbox servers, and receives their webhooks on its own HTTP port, as a gateway
would. The run's supervisor kills it with SIGKILL at random moments and starts it again on
the same database; every call carries an idempotency key derived from the payment's index,
so a restarted worker repeats what it was doing and the gateway answers, resumes or refuses.

It prints `done <index> <outcome>` once a payment's script has run to its end (the outcome
is the payment's last status, or the gateway error that ended the script).
The script of payment `i` is a pure function of (seed, i) (`chaos_script`), the same one the
HTTP arm (`chaos_http`) plays over `gatewayhub serve`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatewayhub.config import HubConfig, parse_config
from gatewayhub.errors import GatewayError, NoEligibleProvider, RequestInProgress
from gatewayhub.hub import Hub
from gatewayhub.provider import WebhookVerificationError
from gatewayhub.views import PaymentView
from gatewayhub_sandbox.chaos_script import PaymentScript, Seen, run_script

log = logging.getLogger("gatewayhub.chaos")
_IN_PROGRESS_WAITS = 80
T = TypeVar("T")


def gateway_config(spec: dict[str, Any]) -> dict[str, Any]:
    """The configuration of a chaos run's gateway (SDK worker, `gatewayhub serve`, settling):
    every sandbox account, short deadlines, quick reconciling, the run's merchant."""
    return {
        "gateway": {
            "database_url": spec["database_url"],
            "merchant": spec["merchant"],
            # Both just past an attempt's send window (deadline 4 + timeout 1 + grace 1 s):
            # no lookup or resumed request races an attempt still being sent.
            "idempotency_lease_seconds": 6,
            "reconcile_after_seconds": 6,
            "in_flight_grace_seconds": 1,
            "reconcile_backoff_max_seconds": 4,
            "reconcile_alert_after_seconds": spec.get("alert_after", 60),
        },
        "routing": {"strategies": ["volume_split", "priority"]},
        # Breakers open on outages and fault bursts, and close again within the run.
        "health": {"consecutive_failures": 8, "open_seconds": 2},
        "retry": {
            "tries_per_attempt": 3,
            "backoff_initial": 0.05,
            "backoff_max": 0.4,
            "max_retry_after": 2,
            "deadline": 4,
        },
        "providers": {
            name: {
                "type": "sandbox",
                "weight": 1,
                "settings": {
                    "base_url": url,
                    "currencies": ["EUR"],
                    "timeouts": {"total": 1.0, "connect": 0.5, "read": 1.0},
                },
            }
            for name, url in spec["accounts"].items()
        },
    }


def hub_config(spec: dict[str, Any]) -> HubConfig:
    """`gateway_config` for an in-process `Hub`."""
    return parse_config(gateway_config(spec))


def webhook_app(hub: Hub) -> Starlette:
    """The provider-webhook endpoint of this gateway process, at the path `gatewayhub serve`
    has it, so the sandboxes' webhook URL is the same whichever arm runs."""

    async def receive(request: Request) -> Response:
        try:
            ack = await hub.handle_webhook(
                request.path_params["account"], request.headers, await request.body()
            )
        except WebhookVerificationError as exc:
            return Response(str(exc), status_code=400)
        except GatewayError as exc:
            return Response(str(exc), status_code=404)
        return Response(ack.body, status_code=ack.status_code, media_type=ack.media_type)

    return Starlette(routes=[Route("/v1/webhooks/sandbox/{account}", receive, methods=["POST"])])


async def _patiently(call: Callable[[], Awaitable[T]]) -> T:
    """A call whose key a killed predecessor may still hold (wait out its lease), or made
    while every provider's breaker is open (wait for one to close), as a merchant retries."""
    for _ in range(_IN_PROGRESS_WAITS):
        try:
            return await call()
        except (RequestInProgress, NoEligibleProvider):
            await asyncio.sleep(0.25)
    return await call()


def _seen(view: PaymentView) -> Seen:
    return Seen(view.id, view.status, view.captured)


class HubMerchant:
    """A script's calls through the SDK (`Merchant`)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def authorize(self, script: PaymentScript) -> Seen:
        """Authorize through `Hub.authorize`."""
        return _seen(
            await _patiently(
                lambda: self.hub.authorize(
                    amount=script.amount,
                    currency="EUR",
                    payment_method=script.token,
                    capture="manual" if script.manual else "automatic",
                    idempotency_key=script.key,
                    reference=script.key,
                )
            )
        )

    async def capture(self, payment_id: str, amount: int | None, final: bool, key: str) -> Seen:
        """Capture through `Hub.capture`."""
        return _seen(
            await _patiently(
                lambda: self.hub.capture(payment_id, amount, final=final, idempotency_key=key)
            )
        )

    async def void(self, payment_id: str, key: str) -> Seen:
        """Void through `Hub.void`."""
        return _seen(await _patiently(lambda: self.hub.void(payment_id, idempotency_key=key)))

    async def refund(self, payment_id: str, amount: int | None, key: str) -> None:
        """Refund through `Hub.refund`."""
        await _patiently(lambda: self.hub.refund(payment_id, amount, idempotency_key=key))

    async def get(self, payment_id: str) -> Seen:
        """Read through `Hub.get`."""
        return _seen(await self.hub.get(payment_id))


async def drive(hub: Hub, seed: int, index: int) -> str:
    """Run payment `index`'s script; returns its outcome (a status, or `error:<code>`)."""
    try:
        return await run_script(HubMerchant(hub), PaymentScript.draw(seed, index))
    except GatewayError as exc:
        return f"error:{exc.code}"
    except Exception as exc:
        # What a merchant's call meets when the database cannot keep up (a pool timeout):
        # the call fails, whatever it left open is the reconciler's, and the run goes on.
        log.exception("payment %s: the call failed", index)
        return f"error:{type(exc).__name__}"


async def main(spec: dict[str, Any]) -> None:
    """Serve webhooks, then drive every index of the spec's `todo` list."""
    async with Hub(hub_config(spec)) as hub:
        server = uvicorn.Server(
            uvicorn.Config(
                webhook_app(hub),
                host="127.0.0.1",
                port=spec["webhook_port"],
                log_level="critical",
                access_log=False,
                lifespan="off",
            )
        )
        serving = asyncio.create_task(server.serve())
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in spec["todo"]:
            queue.put_nowait(index)

        async def work() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                outcome = await drive(hub, spec["seed"], index)
                print(f"done {index} {outcome}", flush=True)

        await asyncio.gather(*(work() for _ in range(spec["concurrency"])))
        server.should_exit = True
        await serving


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    asyncio.run(main(json.loads(Path(sys.argv[1]).read_text())))
