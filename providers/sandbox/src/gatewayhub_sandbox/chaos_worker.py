"""One gateway process of a chaos run: `python -m gatewayhub_sandbox.chaos_worker SPEC_FILE`.

It drives payments through the SDK (`Hub`, with its background reconciler and inbox worker)
against sandbox servers, and receives their webhooks on its own HTTP port, as a gateway
would. The run's supervisor kills it with SIGKILL at random moments and starts it again on
the same database; every call carries an idempotency key derived from the payment's index,
so a restarted worker repeats what it was doing and the gateway answers, resumes or refuses.

It prints `done <index> <outcome>` once a payment's script has run to its end (the outcome
is the payment's last status, or the gateway error that ended the script).
The script of payment `i` is a pure function of (seed, i): amount, capture mode, captures,
void, refunds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
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
from gatewayhub.models import PaymentStatus
from gatewayhub.provider import WebhookVerificationError

log = logging.getLogger("gatewayhub.chaos")
_IN_PROGRESS_WAITS = 80
T = TypeVar("T")


def hub_config(spec: dict[str, Any]) -> HubConfig:
    """The gateway of a chaos run: every sandbox account, short deadlines, quick reconciling."""
    return parse_config(
        {
            "gateway": {
                "database_url": spec["database_url"],
                "idempotency_lease_seconds": 2,
                "reconcile_after_seconds": 3,
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
                "deadline": 8,
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
    )


def webhook_app(hub: Hub) -> Starlette:
    """The provider-webhook endpoint of this gateway process."""

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

    return Starlette(routes=[Route("/webhooks/{account}", receive, methods=["POST"])])


async def _patiently(call: Callable[[], Awaitable[T]]) -> T:
    """A call whose key a killed predecessor may still hold (wait out its lease), or made
    while every provider's breaker is open (wait for one to close), as a merchant retries."""
    for _ in range(_IN_PROGRESS_WAITS):
        try:
            return await call()
        except (RequestInProgress, NoEligibleProvider):
            await asyncio.sleep(0.25)
    return await call()


async def drive(hub: Hub, seed: int, index: int) -> str:
    """Run payment `index`'s script; returns its outcome (a status, or `error:<code>`)."""
    rng = random.Random(f"{seed}:{index}")  # noqa: S311 - a test script, not security
    key = f"chaos-{seed}-{index}"
    amount = rng.randint(100, 50_000)
    manual = rng.random() < 0.6
    token = "tok_decline_insufficient_funds" if rng.random() < 0.03 else "tok_visa"
    # The whole script is drawn first, so a restarted worker sends each key the same request
    # again whatever it observes on the way.
    after_authorization, split_capture = rng.random(), rng.random() < 0.5
    part = rng.randint(1, amount - 1)
    refunding, first = rng.random() < 0.6, rng.randint(1, amount)
    partial, again = rng.random() < 0.5, rng.random() < 0.3
    try:
        payment = await _patiently(
            lambda: hub.authorize(
                amount=amount,
                currency="EUR",
                payment_method=token,
                capture="manual" if manual else "automatic",
                idempotency_key=key,
                reference=key,
            )
        )
        if manual and payment.status is PaymentStatus.AUTHORIZED:
            if after_authorization < 0.15:
                payment = await _patiently(
                    lambda: hub.void(payment.id, idempotency_key=f"{key}-void")
                )
                return payment.status.value
            if after_authorization < 0.3:
                return payment.status.value  # left authorized
            if split_capture:
                payment = await _patiently(
                    lambda: hub.capture(
                        payment.id, part, final=False, idempotency_key=f"{key}-cap1"
                    )
                )
            payment = await _patiently(
                lambda: hub.capture(payment.id, idempotency_key=f"{key}-cap2")
            )
        if refunding and payment.status is PaymentStatus.CAPTURED and payment.captured == amount:
            partial_amount = first if partial else None
            await _patiently(
                lambda: hub.refund(payment.id, partial_amount, idempotency_key=f"{key}-ref1")
            )
            if partial and first < amount and again:
                await _patiently(lambda: hub.refund(payment.id, idempotency_key=f"{key}-ref2"))
            payment = await hub.get(payment.id)
    except GatewayError as exc:
        return f"error:{exc.code}"
    except Exception as exc:
        # What a merchant's call meets when the database cannot keep up (a pool timeout):
        # the call fails, whatever it left open is the reconciler's, and the run goes on.
        log.exception("payment %s: the call failed", index)
        return f"error:{type(exc).__name__}"
    return payment.status.value


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
