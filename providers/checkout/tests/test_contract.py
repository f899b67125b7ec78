"""The Checkout.com adapter against the shared adapter contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gatewayhub.testing.contract import ProviderContract

from .harness import CheckoutHarness


class TestCheckoutContract(ProviderContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[CheckoutHarness]:  # type: ignore[override]
        harness = CheckoutHarness()
        yield harness
        await harness.client.aclose()
