"""The Adyen adapter against the shared adapter contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gatewayhub.testing.contract import ProviderContract

from .harness import AdyenHarness


class TestAdyenContract(ProviderContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[AdyenHarness]:  # type: ignore[override]
        harness = AdyenHarness()
        yield harness
        await harness.client.aclose()
