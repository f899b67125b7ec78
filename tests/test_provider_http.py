"""`ProviderHTTP.send` classifies every transport failure as `gatewayhub.provider` says."""

from __future__ import annotations

import httpx
import pytest

from gatewayhub.errors import NotSent, OutcomeUnknown
from gatewayhub.provider import ProviderHTTP, Timeouts
from gatewayhub.testing import FixedClock
from gatewayhub.testing.faults import TRANSPORT_FAILURES


@pytest.mark.parametrize(("failure", "error"), TRANSPORT_FAILURES, ids=lambda v: v.__name__)
async def test_transport_failures_are_classified(
    failure: type[httpx.TransportError], error: type[Exception]
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure("arranged", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(fail)) as client:
        http = ProviderHTTP(client, account="acct", timeouts=Timeouts(), clock=FixedClock())
        with pytest.raises(error) as raised:
            await http.send(http.build("POST", "https://psp.example/v1/payments", json={}))
    assert isinstance(raised.value.__cause__, failure)
    if error is NotSent:
        assert not isinstance(raised.value, OutcomeUnknown)
