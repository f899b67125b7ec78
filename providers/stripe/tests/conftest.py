"""Every request the Stripe adapter sends in these tests is checked against the official
SDK's typed parameters first (see sdk_params.py)."""

from __future__ import annotations

import httpx
import pytest

from gatewayhub.provider import ProviderHTTP

from .sdk_params import assert_fits, pairs_of, params_for

_original_send = ProviderHTTP.send


async def _checked_send(self: ProviderHTTP, request: httpx.Request) -> httpx.Response:
    if request.url.host == "api.stripe.com":
        assert_fits(pairs_of(request), params_for(request.method, request.url.path))
    return await _original_send(self, request)


@pytest.fixture(autouse=True)
def _requests_fit_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ProviderHTTP, "send", _checked_send)
