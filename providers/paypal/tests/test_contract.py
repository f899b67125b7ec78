"""The PayPal adapter against the shared adapter contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gatewayhub.testing.contract import ProviderContract

from .harness import PayPalHarness


class TestPayPalContract(ProviderContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[PayPalHarness]:  # type: ignore[override]
        harness = PayPalHarness()
        yield harness
        await harness.client.aclose()
