"""Routing between real adapters: one Hub with a Stripe and an Adyen account (both mocked
with respx), and the same payment sent to different providers as fees, currency and
availability change.

Expected fees are worked out by hand from the default schedules: Adyen 0.90% + EUR 0.11,
Stripe 2.9% + USD 0.30 (EUR 0.28 at the configured 0.92 rate). Stripe's answers echo the
amount and currency of the request (built from its `approved.json` fixture), because the
core checks the echo; Adyen's `approved.json` carries no amount, as in Adyen's own example.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from gatewayhub.config import parse_config
from gatewayhub.hub import Hub
from gatewayhub.models import AttemptStatus, PaymentStatus
from gatewayhub.testing import FixedClock, Fixtures

from .harness import API, API_KEY, FIXTURES, HMAC_NEW, MERCHANT

# The Stripe adapter's fixtures, in the sibling distribution of this repository.
STRIPE = Fixtures(Path(__file__).parents[2] / "stripe" / "tests" / "fixtures")
STRIPE_API = "https://api.stripe.com"
PAYMENT = {"amount": 10000, "currency": "EUR", "payment_method": "M5N7TQ4TG5PFWR50"}


def config(database_url: str, adyen_fees: dict[str, Any] | None = None) -> Any:
    return parse_config(
        {
            "gateway": {"database_url": database_url},
            "routing": {"strategies": ["least_cost", "priority"]},
            "health": {"consecutive_failures": 1},
            "fx": {"USD/EUR": "0.92"},
            "providers": {
                "stripe_us": {
                    "type": "stripe",
                    "priority": 1,
                    "country": "US",
                    "settings": {
                        "secret_key": "sk_test_FAKEgatewayhubRouting0000",
                        "currencies": ["USD", "EUR"],
                    },
                },
                "adyen_eu": {
                    "type": "adyen",
                    "priority": 2,
                    "country": "NL",
                    "fees": adyen_fees or {},
                    "settings": {
                        "api_key": API_KEY,
                        "merchant_account": MERCHANT,
                        "hmac_keys": [HMAC_NEW],
                        "return_url": "https://shop.example/checkout/return",
                        "currencies": ["EUR", "GBP"],
                    },
                },
            },
        }
    )


def stripe_echo(request: httpx.Request) -> httpx.Response:
    """Stripe's succeeded PaymentIntent for the amount and currency that were sent."""
    form = dict(parse_qsl(request.content.decode()))
    intent = STRIPE.json("authorize/approved.json")
    intent.update(amount=int(form["amount"]), amount_received=int(form["amount"]))
    intent["currency"] = form["currency"]
    return httpx.Response(200, json=intent)


@pytest.fixture
def providers() -> Any:
    with respx.mock(assert_all_called=False) as mock:
        stripe = mock.post(f"{STRIPE_API}/v1/payment_intents").mock(side_effect=stripe_echo)
        adyen = mock.post(f"{API}/payments").mock(
            return_value=FIXTURES.response("authorize/approved.json")
        )
        yield stripe, adyen


async def test_the_cheaper_provider_takes_the_payment(
    database_url: str, clock: FixedClock, providers: Any
) -> None:
    stripe, adyen = providers
    async with Hub(config(database_url), clock=clock, background=False) as hub:
        decision = hub.explain_route(**PAYMENT)
        assert decision.accounts == ["adyen_eu", "stripe_us"]
        # EUR 100.00: Adyen 0.90 + 0.11 = 1.01; Stripe 2.90 + 0.28 = 3.18
        assert [c.fee for c in decision.candidates] == [101, 318]
        payment = await hub.authorize(**PAYMENT)
        assert (payment.status, payment.provider) == (PaymentStatus.CAPTURED, "adyen_eu")
        assert adyen.call_count == 1
        assert stripe.call_count == 0
        assert await hub.store.unbalanced_transactions() == []


async def test_other_fees_send_the_same_payment_elsewhere(
    database_url: str, clock: FixedClock, providers: Any
) -> None:
    stripe, adyen = providers
    # a contract at 3.5% + EUR 0.11 instead of the published schedule
    async with Hub(config(database_url, {"percent": "3.5"}), clock=clock, background=False) as hub:
        decision = hub.explain_route(**PAYMENT)
        assert decision.accounts == ["stripe_us", "adyen_eu"]
        assert [c.fee for c in decision.candidates] == [318, 361]
        payment = await hub.authorize(**PAYMENT)
        assert payment.provider == "stripe_us"
        assert dict(parse_qsl(stripe.calls.last.request.content.decode()))["currency"] == "eur"
        assert adyen.call_count == 0


async def test_a_currency_only_one_provider_takes(
    database_url: str, clock: FixedClock, providers: Any
) -> None:
    _, adyen = providers
    async with Hub(config(database_url), clock=clock, background=False) as hub:
        decision = hub.explain_route(**{**PAYMENT, "currency": "USD"})
        assert decision.accounts == ["stripe_us"]
        assert decision.exclusion_text() == {"adyen_eu": "does not accept USD"}
        payment = await hub.authorize(**{**PAYMENT, "currency": "USD"})
        assert (payment.status, payment.provider) == (PaymentStatus.CAPTURED, "stripe_us")
        assert adyen.call_count == 0


async def test_an_unreachable_provider_fails_over_then_is_skipped(
    database_url: str, clock: FixedClock, providers: Any
) -> None:
    _, adyen = providers
    adyen.side_effect = httpx.ConnectError  # Adyen cannot be reached: nothing was sent
    async with Hub(config(database_url), clock=clock, background=False) as hub:
        payment = await hub.authorize(**PAYMENT)
        assert (payment.status, payment.provider) == (PaymentStatus.CAPTURED, "stripe_us")
        assert [(a.provider, a.status) for a in payment.attempts] == [
            ("adyen_eu", AttemptStatus.NOT_SENT),
            ("stripe_us", AttemptStatus.SUCCEEDED),
        ]
        tries = adyen.call_count
        assert tries >= 1
        # the breaker is open now: the next payment goes straight to Stripe
        decision = hub.explain_route(**PAYMENT)
        assert decision.accounts == ["stripe_us"]
        assert "adyen_eu" in decision.exclusion_text()
        second = await hub.authorize(**PAYMENT)
        assert second.provider == "stripe_us"
        assert adyen.call_count == tries
        assert await hub.store.unbalanced_transactions() == []
