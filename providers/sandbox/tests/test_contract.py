"""The sandbox adapter against the shared adapter contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gatewayhub.testing.contract import ProviderContract

from .harness import SandboxHarness


class TestSandboxContract(ProviderContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[SandboxHarness]:  # type: ignore[override]
        harness = SandboxHarness()
        yield harness
        await harness.client.aclose()
