"""The Alipay adapter against the shared adapter contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import respx

from gatewayhub.testing.contract import ProviderContract

from .harness import AlipayHarness


class TestAlipayContract(ProviderContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[AlipayHarness]:  # type: ignore[override]
        with respx.mock(assert_all_called=False) as router:
            harness = AlipayHarness(router)
            yield harness
            await harness.client.aclose()
