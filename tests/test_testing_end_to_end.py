"""The end-to-end helpers of the test kit, on the fake provider."""

from __future__ import annotations

import pytest

from gatewayhub.models import PaymentStatus
from gatewayhub.testing import FixedClock
from gatewayhub.testing.end_to_end import assert_payment_books, one_account_hub


async def test_a_one_account_hub_pays_and_its_books_are_checked(
    sqlite_url: str, clock: FixedClock
) -> None:
    entry = {"type": "fake", "country": "DE", "settings": {"currencies": ["EUR"]}}
    async with one_account_hub(
        sqlite_url, "fake_de", entry, clock=clock, routing={"strategies": ["priority"]}
    ) as hub:
        assert list(hub.accounts) == ["fake_de"]
        payment = await hub.authorize(amount=1000, currency="EUR", payment_method="tok_visa")
        assert (payment.status, payment.provider) == (PaymentStatus.CAPTURED, "fake_de")
        await hub.refund(payment.id, 300)

        await assert_payment_books(hub, payment.id, captured=1000, refunded=300)
        with pytest.raises(AssertionError, match="sales 1000, expected 999"):
            await assert_payment_books(hub, payment.id, captured=999, refunded=300)
        with pytest.raises(AssertionError, match="refunds 300, expected 0"):
            await assert_payment_books(hub, payment.id, captured=1000)
