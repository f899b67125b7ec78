"""OAuth2 client credentials: what is posted, caching on the injected clock, refresh before
expiry, one refresh at a time, and failures that prove the payment was never sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from gatewayhub.errors import DeclineCode, NotSent, OutcomeUnknown
from gatewayhub.models import RetrieveCall
from gatewayhub.money import Money

from .harness import API, AUTH, CLIENT_ID, CLIENT_SECRET, FIXTURES, TOKEN, TrueLayerHarness

PAYMENT = "c7f3f6c5-ae17-4d43-829c-***"
LOOKUP = RetrieveCall("pay_x", "key", Money(101, "GBP"), PAYMENT)


@pytest.fixture
async def harness() -> AsyncIterator[TrueLayerHarness]:
    harness = TrueLayerHarness()
    harness.router.get(f"{API}/v3/payments/{PAYMENT}").mock(
        return_value=FIXTURES.response("retrieve/authorized.json")
    )
    yield harness
    await harness.client.aclose()


def token_route(harness: TrueLayerHarness, fixture: str = "auth/token.json") -> respx.Route:
    return harness.router.post(f"{AUTH}/connect/token").mock(
        return_value=FIXTURES.response(fixture)
    )


async def test_client_credentials_are_posted_form_encoded(harness: TrueLayerHarness) -> None:
    route = token_route(harness)
    await harness.provider.retrieve(LOOKUP)
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "scope": ["payments"],
    }
    api_request = harness.router.calls.last.request
    assert api_request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_token_is_cached_until_shortly_before_expiry(harness: TrueLayerHarness) -> None:
    route = token_route(harness)
    await harness.provider.retrieve(LOOKUP)
    harness.clock.advance(3600 - 60 - 1)  # expires_in 3600, refreshed 60 s early
    await harness.provider.retrieve(LOOKUP)
    assert route.call_count == 1
    harness.clock.advance(1)
    await harness.provider.retrieve(LOOKUP)
    assert route.call_count == 2


async def test_a_token_that_expires_at_once_is_refreshed_on_the_next_call(
    harness: TrueLayerHarness,
) -> None:
    route = harness.router.post(f"{AUTH}/connect/token").mock(
        side_effect=[
            FIXTURES.response("auth/token_immediate_expiration.json"),
            FIXTURES.response("auth/token.json"),
        ]
    )
    await harness.provider.retrieve(LOOKUP)
    assert harness.router.calls.last.request.headers["Authorization"] == "Bearer eyJ***immediate"
    harness.clock.advance(1)
    await harness.provider.retrieve(LOOKUP)
    assert route.call_count == 2
    assert harness.router.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_one_refresh_at_a_time(harness: TrueLayerHarness) -> None:
    release = asyncio.Event()

    async def slow_token(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return FIXTURES.response("auth/token.json")

    route = harness.router.post(f"{AUTH}/connect/token").mock(side_effect=slow_token)
    lookups = [asyncio.create_task(harness.provider.retrieve(LOOKUP)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*lookups)
    assert len(results) == 5
    assert route.call_count == 1


async def test_a_refused_token_is_forgotten(harness: TrueLayerHarness) -> None:
    route = token_route(harness)
    harness.router.get(f"{API}/v3/payments/{PAYMENT}").mock(
        side_effect=[
            FIXTURES.response("errors/invalid_token.json", 401),
            FIXTURES.response("retrieve/authorized.json"),
        ]
    )
    with pytest.raises(NotSent) as raised:
        await harness.provider.retrieve(LOOKUP)
    assert raised.value.decline_code is DeclineCode.PROVIDER_AUTH_FAILED
    await harness.provider.retrieve(LOOKUP)
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (FIXTURES.response("auth/invalid_client.json", 400), DeclineCode.PROVIDER_AUTH_FAILED),
        (httpx.Response(503), DeclineCode.PROVIDER_UNAVAILABLE),
        (httpx.Response(200, content=b'{"access_token": ""}'), DeclineCode.PROVIDER_UNAVAILABLE),
        (httpx.ReadTimeout("slow"), DeclineCode.PROVIDER_UNAVAILABLE),
        (httpx.ConnectError("down"), DeclineCode.PROVIDER_UNAVAILABLE),
    ],
)
async def test_token_failures_mean_the_payment_was_not_sent(
    harness: TrueLayerHarness, answer: object, code: DeclineCode
) -> None:
    route = harness.router.post(f"{AUTH}/connect/token")
    if isinstance(answer, httpx.Response):
        route.mock(return_value=answer)
    else:
        route.mock(side_effect=answer)
    payments = harness.router.post(f"{API}/v3/payments")
    with pytest.raises(NotSent) as raised:
        await harness.provider.retrieve(LOOKUP)
    assert not isinstance(raised.value, OutcomeUnknown)
    assert raised.value.decline_code is code
    assert not payments.called
    assert CLIENT_SECRET not in str(raised.value)
