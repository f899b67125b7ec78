"""Several dispatchers on one database: every event delivered, none twice."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from gatewayhub.hub import Hub

from .conftest import EUR_10, MakeHub, Receiver, drain, webhooks_config


async def test_two_hubs_dispatching_together_deliver_each_event_once(
    make_hub: MakeHub, receiver: Receiver
) -> None:
    first = await make_hub(concurrency=3)
    second = await make_hub(concurrency=3, seed=8)
    await first.endpoints.register("default", receiver.url("/a"))
    await first.endpoints.register("default", receiver.url("/b"), ["payment.captured"])
    payments = [await first.authorize(**EUR_10) for _ in range(12)]
    for payment in payments[:4]:
        await first.refund(payment.id, amount=100)

    async def keep_dispatching(hub: object, rounds: int = 30) -> None:
        for _ in range(rounds):
            await hub.deliver_webhooks()  # type: ignore[attr-defined]
            await asyncio.sleep(0)

    await asyncio.gather(keep_dispatching(first), keep_dispatching(second), keep_dispatching(first))
    await drain(first)

    at_a = Counter(r.headers["webhook-id"] for r in receiver.at("/a"))
    at_b = Counter(r.headers["webhook-id"] for r in receiver.at("/b"))
    # /a: 12 captures + 4 x (partially_refunded, refund.succeeded); /b: the 12 captures.
    assert len(at_a) == 20
    assert len(at_b) == 12
    assert set(at_a.values()) == {1}, "no event reached /a twice"
    assert set(at_b.values()) == {1}, "no event reached /b twice"
    captured = {
        json.loads(r.body)["data"]["id"]
        for r in receiver.at("/b")
        if json.loads(r.body)["type"] == "payment.captured"
    }
    assert captured == {p.id for p in payments}


async def test_the_background_worker_delivers_on_its_own(
    make_hub: MakeHub, receiver: Receiver, database_url: str
) -> None:
    setup = await make_hub()
    await setup.endpoints.register("default", receiver.url())
    async with Hub(webhooks_config(database_url, poll_seconds=0.05)) as hub:
        await hub.authorize(**EUR_10)
        for _ in range(200):
            if receiver.received:
                break
            await asyncio.sleep(0.05)
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["payment.captured"]
