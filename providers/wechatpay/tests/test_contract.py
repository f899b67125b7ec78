"""The WeChat Pay adapter against the shared adapter contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import respx

from gatewayhub.testing.contract import ProviderContract

from .harness import WechatPayHarness


class TestWechatPayContract(ProviderContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[WechatPayHarness]:  # type: ignore[override]
        with respx.mock(assert_all_called=False) as router:
            harness = WechatPayHarness(router)
            yield harness
            await harness.client.aclose()
