"""The TrueLayer adapter against the shared adapter contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gatewayhub.models import AuthorizeCall
from gatewayhub.money import Money
from gatewayhub.testing.contract import ContractHarness, ProviderContract

from .harness import PAYER, TrueLayerHarness


class TestTrueLayerContract(ProviderContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[TrueLayerHarness]:  # type: ignore[override]
        harness = TrueLayerHarness()
        yield harness
        await harness.client.aclose()

    def call(
        self,
        harness: ContractHarness,
        scenario: str,
        *,
        money: Money | None = None,
        capture: bool = True,
        key: str | None = None,
    ) -> AuthorizeCall:
        """The suite's call plus the payer's name and email, which TrueLayer requires."""
        call = super().call(harness, scenario, money=money, capture=capture, key=key)
        return AuthorizeCall(
            payment_id=call.payment_id,
            key=call.key,
            money=call.money,
            capture=call.capture,
            method=call.method,
            token=call.token,
            reference=call.reference,
            description=call.description,
            return_url=call.return_url,
            metadata=PAYER,
        )
