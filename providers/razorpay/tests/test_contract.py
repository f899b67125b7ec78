"""The Razorpay adapter against the shared adapter contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gatewayhub.testing.contract import ProviderContract

from .harness import RazorpayHarness


class TestRazorpayContract(ProviderContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[RazorpayHarness]:  # type: ignore[override]
        harness = RazorpayHarness()
        yield harness
        await harness.client.aclose()
