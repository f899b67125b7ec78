"""One pass of the webhook inbox applies a whole batch, several events of one payment included
(they run side by side; the payment's version check orders them)."""

from __future__ import annotations

import random

from gatewayhub.config import parse_config
from gatewayhub.hub import Hub
from gatewayhub.models import PaymentStatus
from gatewayhub.testing import FixedClock


async def test_a_batch_with_several_events_per_payment_is_applied_in_one_pass(
    database_url: str, clock: FixedClock
) -> None:
    config = parse_config(
        {
            "gateway": {"database_url": database_url},
            "providers": {"sandbox": {"type": "sandbox", "settings": {"currencies": ["EUR"]}}},
        }
    )
    async with Hub(config, clock=clock, rng=random.Random(5), background=False) as hub:
        emulator = hub.accounts["sandbox"].adapter.http.client._transport.emulator
        ids = []
        for amount in (1000, 2000, 3000, 4000):
            payment = await hub.authorize(
                amount=amount, currency="EUR", payment_method="tok_visa", capture="manual"
            )
            await hub.capture(payment.id)
            await hub.refund(payment.id, amount // 2)
            ids.append(payment.id)
        await emulator.drain()
        # authorized, captured, refund.succeeded for each payment: 12 events, one batch.
        assert await hub.store.inbox_pending() == 12
        assert await hub.process_webhooks() == 12
        assert await hub.store.inbox_pending() == 0
        for payment_id in ids:
            payment = await hub.get(payment_id)
            assert payment.status is PaymentStatus.PARTIALLY_REFUNDED
            assert payment.refunded == payment.amount // 2
        assert await hub.store.unbalanced_transactions() == []
