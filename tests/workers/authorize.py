"""A gateway process for the multi-process tests.

Authorizes with one idempotency key from `--concurrency` tasks and prints the outcomes as
JSON. With `--crash-after-call` the process dies (os._exit) right after the provider has
answered the first authorization - the money moved, nothing of the answer was recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

from gatewayhub.config import parse_config
from gatewayhub.errors import GatewayError
from gatewayhub.hub import Hub
from gatewayhub_sandbox.provider import SandboxProvider


def config(database_url: str, sandbox_url: str, lease: float) -> Any:
    return parse_config(
        {
            # A send window of 3 s (deadline 1 + timeout 1 + grace 1): leases from 3 s.
            "gateway": {
                "database_url": database_url,
                "idempotency_lease_seconds": lease,
                "in_flight_grace_seconds": 1,
            },
            "retry": {"deadline": 1},
            "providers": {
                "sandbox": {
                    "type": "sandbox",
                    "settings": {
                        "base_url": sandbox_url,
                        "currencies": ["EUR"],
                        "timeouts": {"total": 1},
                    },
                }
            },
        }
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sandbox-url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--lease", type=float, default=60)
    parser.add_argument("--crash-after-call", action="store_true")
    args = parser.parse_args()
    if args.crash_after_call:
        original = SandboxProvider.authorize

        async def crash(self: SandboxProvider, call: Any) -> Any:
            await original(self, call)
            os._exit(3)

        SandboxProvider.authorize = crash  # type: ignore[method-assign]

    async with Hub(
        config(args.database_url, args.sandbox_url, args.lease), background=False
    ) as hub:

        async def one() -> dict[str, str]:
            try:
                payment = await hub.authorize(
                    amount=1234, currency="EUR", payment_method="tok_visa", idempotency_key=args.key
                )
            except GatewayError as exc:
                return {"error": exc.code}
            return {"payment": payment.id, "status": payment.status.value}

        results = await asyncio.gather(*(one() for _ in range(args.concurrency)))
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main())
