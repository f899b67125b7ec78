"""The Stripe adapter against the shared adapter contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gatewayhub.testing.contract import ProviderContract

from .harness import StripeHarness


class TestStripeContract(ProviderContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[StripeHarness]:  # type: ignore[override]
        harness = StripeHarness()
        yield harness
        await harness.client.aclose()
