"""A gateway process that only delivers merchant webhooks, for the crash tests.

`--crash-after N` makes the process die (os._exit) when it is about to record the N-th
outcome: the receiver has answered, nothing of the answer is stored. `--until-done` exits
once no delivery is pending and the outbox is empty; otherwise the process runs until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from gatewayhub.hub import Hub
from gatewayhub.outbound.store import OutboundStore
from gatewayhub.storage.schema import outbox, webhook_deliveries

sys.path.insert(0, str(Path(__file__).parents[1] / "outbound"))
from conftest import webhooks_config


def crash_after(count: int) -> None:
    original = OutboundStore.record
    seen = 0

    async def record(self: OutboundStore, *args: Any, **kwargs: Any) -> bool:
        nonlocal seen
        seen += 1
        if seen >= count:
            os._exit(3)
        return await original(self, *args, **kwargs)

    OutboundStore.record = record  # type: ignore[method-assign]


def pending(conn: sa.Connection) -> int:
    waiting = conn.execute(
        sa.select(sa.func.count()).where(webhook_deliveries.c.status == "pending")
    ).scalar_one()
    unsent = conn.execute(
        sa.select(sa.func.count()).where(outbox.c.status == "pending")
    ).scalar_one()
    return int(waiting) + int(unsent)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--crash-after", type=int)
    parser.add_argument("--until-done", action="store_true")
    args = parser.parse_args()
    if args.crash_after:
        crash_after(args.crash_after)
    config = webhooks_config(
        args.database_url, timeout_seconds=1, lease_seconds=2, poll_seconds=0.05, concurrency=4
    )
    async with Hub(config, background=not args.until_done) as hub:
        if not args.until_done:
            await asyncio.Event().wait()
        while await hub.store.db.run(pending):
            if not await hub.deliver_webhooks():
                await asyncio.sleep(0.1)


if __name__ == "__main__":
    asyncio.run(main())
