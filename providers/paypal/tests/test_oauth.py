"""OAuth2 client credentials: one token per account, cached, refreshed before it expires
(on the injected clock), one refresh at a time, replaced once when PayPal refuses it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from gatewayhub.errors import DeclineCode, NotSent
from gatewayhub.models import RetrieveCall
from gatewayhub.money import Money
from gatewayhub.testing import FixedClock
from gatewayhub_paypal import wire
from gatewayhub_paypal.oauth import AccessTokens

from .harness import ACCESS_TOKEN, BASE, CLIENT_SECRET, FIXTURES, ORDER_AUTH, PayPalHarness

EXPIRES_IN = 32400  # oauth/token.json: nine hours


@pytest.fixture
async def harness() -> AsyncIterator[PayPalHarness]:
    harness = PayPalHarness()
    harness.answer(
        "GET", f"/v2/checkout/orders/{ORDER_AUTH}", 200, "retrieve/order_authorized.json"
    )
    yield harness
    await harness.client.aclose()


async def look_up(harness: PayPalHarness) -> None:
    call = RetrieveCall("pay_x", "k", Money(10000, "USD"), ORDER_AUTH)
    await harness.provider.retrieve(call)


async def test_token_is_fetched_once_and_reused(harness: PayPalHarness) -> None:
    for _ in range(3):
        await look_up(harness)
    assert harness.token_route.call_count == 1


async def test_token_is_refreshed_before_it_expires(harness: PayPalHarness) -> None:
    await look_up(harness)
    # Default margin: five minutes before `expires_in` runs out.
    harness.clock.advance(EXPIRES_IN - 300 - 1)
    await look_up(harness)
    assert harness.token_route.call_count == 1
    harness.clock.advance(1)
    await look_up(harness)
    assert harness.token_route.call_count == 2


async def test_concurrent_callers_share_one_refresh(harness: PayPalHarness) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow_token(request: httpx.Request) -> httpx.Response:
        started.set()
        await release.wait()
        return httpx.Response(
            200,
            json={"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": EXPIRES_IN},
        )

    harness.token_route.mock(side_effect=slow_token)
    lookups = [asyncio.create_task(look_up(harness)) for _ in range(5)]
    await started.wait()
    for _ in range(10):  # let every other task reach the lock and wait on it
        await asyncio.sleep(0)
    release.set()
    await asyncio.gather(*lookups)
    assert harness.token_route.call_count == 1
    assert len([c for c in harness.router.calls if c.request.method == "GET"]) == 5


async def test_refused_token_is_replaced_once(harness: PayPalHarness) -> None:
    await look_up(harness)
    # The cached token is refused (revoked, expired early): one new token, one resend.
    harness.router.routes[-1].mock(
        side_effect=[
            httpx.Response(401, json={"error": "invalid_token"}),
            FIXTURES.response("retrieve/order_authorized.json"),
        ]
    )
    await look_up(harness)
    assert harness.token_route.call_count == 2
    gets = [c.request for c in harness.router.calls if c.request.method == "GET"]
    assert len(gets) == 3  # the first lookup, the refused try, the resend


async def test_refused_twice_is_not_sent(harness: PayPalHarness) -> None:
    harness.router.routes[-1].mock(
        return_value=httpx.Response(401, json={"error": "invalid_token"})
    )
    with pytest.raises(NotSent) as raised:
        await look_up(harness)
    assert raised.value.decline_code is DeclineCode.PROVIDER_AUTH_FAILED
    assert harness.token_route.call_count == 2


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (httpx.Response(401, json={"error": "invalid_client"}), DeclineCode.PROVIDER_AUTH_FAILED),
        (httpx.Response(429, json={"name": "RATE_LIMIT_REACHED"}), DeclineCode.RATE_LIMITED),
        (
            httpx.Response(503, json={"name": "SERVICE_UNAVAILABLE"}),
            DeclineCode.PROVIDER_UNAVAILABLE,
        ),
        (httpx.Response(200, content=b'{"access_token": '), DeclineCode.PROVIDER_UNAVAILABLE),
    ],
)
async def test_token_failures_are_not_sent(
    harness: PayPalHarness, answer: httpx.Response, code: DeclineCode
) -> None:
    # No money moves at the token endpoint, whatever it answers.
    harness.token_route.mock(return_value=answer)
    with pytest.raises(NotSent) as raised:
        await look_up(harness)
    assert raised.value.decline_code is code


async def test_token_read_timeout_is_not_sent(harness: PayPalHarness) -> None:
    harness.token_route.mock(side_effect=httpx.ReadTimeout)
    with pytest.raises(NotSent):
        await look_up(harness)


async def test_token_and_secret_stay_out_of_logs(
    harness: PayPalHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await look_up(harness)
    assert ACCESS_TOKEN not in caplog.text
    assert CLIENT_SECRET not in caplog.text
    assert f"{BASE}/v1/oauth2/token" in caplog.text  # the exchange itself is logged


async def test_short_lived_token_is_used_for_half_its_life() -> None:
    clock = FixedClock()
    fetched: list[int] = []

    async def fetch() -> wire.AccessToken:
        fetched.append(1)
        return wire.AccessToken(
            access_token=f"t{len(fetched)}", token_type="Bearer", expires_in=120
        )

    tokens = AccessTokens(fetch, clock)  # margin 300 s > lifetime
    assert await tokens.bearer() == "t1"
    clock.advance(59)
    assert await tokens.bearer() == "t1"
    clock.advance(1)
    assert await tokens.bearer() == "t2"


async def test_discard_keeps_a_newer_token() -> None:
    clock = FixedClock()
    count = iter(range(1, 10))

    async def fetch() -> wire.AccessToken:
        return wire.AccessToken(
            access_token=f"t{next(count)}", token_type="Bearer", expires_in=3600
        )

    tokens = AccessTokens(fetch, clock)
    first = await tokens.bearer()
    tokens.discard(first)
    second = await tokens.bearer()
    tokens.discard(first)  # a late refusal of the old token
    assert await tokens.bearer() == second == "t2"
