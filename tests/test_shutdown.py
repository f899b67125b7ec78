"""Graceful shutdown, and the database connection settings reaching the database."""

from __future__ import annotations

import asyncio
import logging

import pytest
import sqlalchemy as sa

from gatewayhub.config import parse_config
from gatewayhub.errors import ShuttingDown
from gatewayhub.hub import Hub
from gatewayhub.models import AttemptStatus, AuthorizeCall, PaymentResult, PaymentStatus
from gatewayhub.testing import FakeProvider

from .conftest import MakeHub, fake

EUR_10 = {"amount": 1000, "currency": "EUR", "payment_method": "tok_visa"}


def hold_authorizations(provider: FakeProvider) -> tuple[asyncio.Event, asyncio.Event]:
    """Make the provider's authorize wait for `release`; `entered` is set once one waits."""
    entered, release = asyncio.Event(), asyncio.Event()
    answer = provider.authorize

    async def slow(call: AuthorizeCall) -> PaymentResult:
        entered.set()
        await release.wait()
        return await answer(call)

    provider.authorize = slow  # type: ignore[method-assign]
    return entered, release


async def test_close_finishes_running_payments_and_refuses_new_ones(make_hub: MakeHub) -> None:
    hub = await make_hub({"a": {}})
    entered, release = hold_authorizations(fake(hub, "a"))
    running = asyncio.create_task(hub.authorize(**EUR_10))
    await entered.wait()

    closing = asyncio.create_task(hub.close())
    await asyncio.sleep(0)
    with pytest.raises(ShuttingDown, match="shutting down"):
        await hub.authorize(**EUR_10)
    with pytest.raises(ShuttingDown):
        await hub.handle_webhook("a", {}, b"")
    assert not closing.done(), "close waits for the running payment"

    release.set()
    payment = await running
    await closing
    assert payment.status is PaymentStatus.CAPTURED
    again = await make_hub({"a": {}})
    assert (await again.get(payment.id)).status is PaymentStatus.CAPTURED, "it was saved"


async def test_close_gives_up_waiting_after_the_grace_period(
    make_hub: MakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await make_hub({"a": {}}, gateway={"shutdown_grace_seconds": 0.05})
    entered, _ = hold_authorizations(fake(hub, "a"))
    running = asyncio.create_task(hub.authorize(**EUR_10))
    await entered.wait()

    with caplog.at_level(logging.WARNING, logger="gatewayhub.hub"):
        await hub.close()

    assert "1 payment operation(s) still running" in caplog.text
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    # The journaled attempt is on disk: the reconciler of another instance settles it.
    again = await make_hub({"a": {}})
    page = await again.list()
    assert [p.status for p in page.items] == [PaymentStatus.PENDING]
    assert [a.status for a in page.items[0].attempts] == [AttemptStatus.STARTED]


async def test_a_closed_hub_can_start_again(make_hub: MakeHub) -> None:
    hub = await make_hub({"a": {}})
    await hub.close()
    await hub.start()
    assert (await hub.authorize(**EUR_10)).status is PaymentStatus.CAPTURED


@pytest.mark.postgres
async def test_postgres_connections_carry_the_configured_timeouts(postgres_url: str) -> None:
    config = parse_config(
        {
            "gateway": {
                "database_url": postgres_url,
                "statement_timeout_seconds": 7.5,
                "pool_size": 3,
                "max_overflow": 1,
            },
            "providers": {"a": {"type": "fake"}},
        }
    )
    async with Hub(config, background=False) as hub:
        setting = await hub.store.db.run(
            lambda conn: conn.execute(sa.text("SHOW statement_timeout")).scalar()
        )
        pool = hub.store.db._engine.pool  # type: ignore[attr-defined]
        assert setting == "7500ms"
        assert (pool.size(), pool._max_overflow) == (3, 1)


async def test_embedded_sandbox_webhooks_during_close_are_refused_quietly(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = parse_config(
        {
            "gateway": {"database_url": sqlite_url},
            "providers": {"s": {"type": "sandbox", "settings": {"webhook_delay_ms": 30}}},
        }
    )
    caplog.set_level(logging.INFO)
    async with Hub(config, background=False) as hub:
        await hub.authorize(**EUR_10)
    await asyncio.sleep(0.1)  # the emulator's delayed webhook fires after the close

    assert "s: webhook arrived while the hub was closing; not taken" in caplog.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
