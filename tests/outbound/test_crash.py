"""Dispatcher processes killed mid-way: after a restart every event is delivered, none is
lost, and the only duplicates are repeats of one webhook-id with the same body, which a
receiver deduplicating on webhook-id absorbs."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from gatewayhub.storage.schema import webhook_deliveries
from gatewayhub.webhooks import standard

from .conftest import EUR_10, MakeHub, Receiver

WORKER = Path(__file__).parents[1] / "workers" / "deliver.py"
EVENTS = 24


def start(database_url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), "--database-url", database_url, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_killed_dispatchers_lose_nothing(
    make_hub: MakeHub, receiver: Receiver, database_url: str
) -> None:
    hub = await make_hub()
    registered = await hub.endpoints.register("default", receiver.url())
    payments = {(await hub.authorize(**EUR_10)).id for _ in range(EVENTS)}

    # 1. Dies right after the receiver answered its third delivery, before recording it.
    crashed = start(database_url, "--crash-after", "3")
    _, err = crashed.communicate(timeout=60)
    assert crashed.returncode == 3, err
    after_crash = len(receiver.received)
    assert after_crash >= 3

    # 2. Killed (SIGKILL) while requests are in flight at a slow receiver.
    receiver.delay = 0.2
    killed = start(database_url)
    deadline = time.monotonic() + 60
    while len(receiver.received) < after_crash + 4:
        assert time.monotonic() < deadline, "the second worker delivered nothing"
        await asyncio.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=10)
    receiver.delay = 0.0

    # 3. A restarted worker takes over once the dead workers' leases run out.
    restarted = start(database_url, "--until-done")
    _, err = restarted.communicate(timeout=120)
    assert restarted.returncode == 0, err

    by_id: dict[str, set[bytes]] = defaultdict(set)
    for request in receiver.received:
        by_id[request.headers["webhook-id"]].add(request.body)
        # Every request is a validly signed one (signed at the real time of sending).
        stamp = int(request.headers["webhook-timestamp"])
        standard.verify(
            [registered.secret],
            request.headers,
            request.body,
            datetime.fromtimestamp(stamp, UTC),
        )
    assert all(len(bodies) == 1 for bodies in by_id.values()), "a repeat is the same message"
    delivered = {json.loads(next(iter(b)))["data"]["id"] for b in by_id.values()}
    assert delivered == payments, "after deduplication: each payment's event exactly once"
    assert len(by_id) == EVENTS
    assert len(receiver.received) > EVENTS, "the crashes did cause repeats (at-least-once)"

    statuses = await hub.store.db.run(
        lambda conn: [r[0] for r in conn.execute(sa.select(webhook_deliveries.c.status))]
    )
    assert statuses == ["delivered"] * EVENTS
