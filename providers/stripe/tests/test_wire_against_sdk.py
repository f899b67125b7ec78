"""Our wire format against the official `stripe` package (a test-only dependency).

Stripe's OpenAPI document is not carried in ../shared/specs, so the SDK's generated types
stand in for it:

- every request the adapter builds in any of these tests is decoded from its form encoding
  and checked field by field against the SDK's typed parameters (`stripe.params.*Params`
  TypedDicts; conftest.py does it on every send, `sdk_params.py` is the checker); the
  requests below cover each endpoint and option on purpose;
- every response fixture's fields are checked against the attributes the SDK's resource
  classes declare (PaymentIntent, Charge, Refund, Event, the error object);
- the Stripe-Version we pin is the one this SDK release pins.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import stripe
from stripe._api_version import _ApiVersion
from stripe._error_object import ErrorObject
from stripe.params import (
    PaymentIntentCancelParams,
    PaymentIntentCaptureParams,
    PaymentIntentCreateParams,
    PaymentIntentRetrieveParams,
    PaymentIntentSearchParams,
    RefundCreateParams,
)

from gatewayhub.models import CaptureCall, RefundCall, RetrieveCall, VoidCall
from gatewayhub.money import Money
from gatewayhub.provider import ProviderHTTP
from gatewayhub_stripe.provider import STRIPE_VERSION

from .conftest import _checked_send
from .harness import FIXTURES, PI_ID, StripeHarness
from .sdk_params import assert_fits, check, pairs_of, unflatten
from .test_transform import ATTEMPT_KEY, PAYMENT_ID, authorize_call

FIXTURE_ROOT = Path(__file__).parent / "fixtures"


def test_pinned_version_is_the_sdks() -> None:
    assert STRIPE_VERSION == _ApiVersion.CURRENT


def test_every_request_is_checked() -> None:
    assert ProviderHTTP.send is _checked_send


@pytest.fixture
async def harness() -> AsyncIterator[StripeHarness]:
    harness = StripeHarness()
    yield harness
    await harness.client.aclose()


def test_the_checker_catches_mistakes() -> None:
    wrong = [("amount", "20.00"), ("currency", "usd"), ("confirm", "yes")]
    body = unflatten([*wrong, ("metadata[x]", "1"), ("payment_method_types[]", "card")])
    problems = check(body, PaymentIntentCreateParams, {}, "create")
    assert "create.amount: '20.00' is not an integer" in problems
    assert "create.confirm: 'yes' is not a boolean" in problems
    # the API version this SDK targets has no `payment_method_types` parameter any more
    assert "create.payment_method_types: not a parameter of PaymentIntentCreateParams" in problems
    assert check({"currency": "usd"}, PaymentIntentCreateParams, {}, "c") == [
        "c: missing required amount"
    ]
    assert undeclared({"object": "payment_intent", "amount_refundable": 1}, "pi") == [
        "pi.amount_refundable"
    ]


# -- every request the adapter builds ------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"capture": False},
        {"return_url": None},
        {"metadata": {"cart": "c-17", "channel": "web"}},
        {"money": Money(1000, "JPY"), "description": None, "reference": None},
        {"money": Money(1230, "KWD")},
    ],
)
async def test_create_requests_fit_the_sdk(harness: StripeHarness, fields: dict[str, Any]) -> None:
    route = harness.answer("POST", "/v1/payment_intents", "authorize/approved.json")
    await harness.provider.authorize(authorize_call(**fields))
    body = assert_fits(pairs_of(route.calls.last.request), PaymentIntentCreateParams)
    assert body["confirm"] == "true"


@pytest.mark.parametrize("multicapture", [False, True])
async def test_capture_requests_fit_the_sdk(multicapture: bool) -> None:
    harness = StripeHarness(multicapture=multicapture)
    route = harness.answer("POST", f"/v1/payment_intents/{PI_ID}/capture", "capture/partial.json")
    await harness.provider.capture(
        CaptureCall(PAYMENT_ID, "cap-key", PI_ID, Money(1500, "USD"), final=False)
    )
    await harness.client.aclose()
    assert_fits(pairs_of(route.calls.last.request), PaymentIntentCaptureParams)


async def test_cancel_request_fits_the_sdk(harness: StripeHarness) -> None:
    route = harness.answer("POST", f"/v1/payment_intents/{PI_ID}/cancel", "void/voided.json")
    await harness.provider.void(VoidCall(PAYMENT_ID, "void-key", PI_ID, Money(2000, "USD")))
    assert_fits(pairs_of(route.calls.last.request), PaymentIntentCancelParams)


@pytest.mark.parametrize("reason", [None, "duplicate", "free text from the merchant"])
async def test_refund_requests_fit_the_sdk(harness: StripeHarness, reason: str | None) -> None:
    route = harness.answer("POST", "/v1/refunds", "refund/partial.json")
    await harness.provider.refund(
        RefundCall(PAYMENT_ID, "rfd_1", "ref-key", PI_ID, Money(500, "USD"), reason)
    )
    assert_fits(pairs_of(route.calls.last.request), RefundCreateParams)


async def test_lookup_queries_fit_the_sdk(harness: StripeHarness) -> None:
    route = harness.answer("GET", f"/v1/payment_intents/{PI_ID}", "retrieve/found.json")
    await harness.provider.retrieve(
        RetrieveCall(PAYMENT_ID, ATTEMPT_KEY, Money(2000, "USD"), PI_ID)
    )
    assert_fits(pairs_of(route.calls.last.request), PaymentIntentRetrieveParams)
    route = harness.answer("GET", "/v1/payment_intents/search", "retrieve/search_found.json")
    await harness.provider.retrieve(RetrieveCall(PAYMENT_ID, ATTEMPT_KEY, Money(2000, "USD"), None))
    assert_fits(pairs_of(route.calls.last.request), PaymentIntentSearchParams)


# -- every response fixture ----------------------------------------------------------------------


def declared(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        names.update(getattr(klass, "__annotations__", {}))
    return {n for n in names if not n.startswith("_") and n != "OBJECT_NAME"}


RESOURCES = {
    "payment_intent": stripe.PaymentIntent,
    "charge": stripe.Charge,
    "refund": stripe.Refund,
    "event": stripe.Event,
    "dispute": stripe.Dispute,
}


def undeclared(obj: dict[str, Any], where: str) -> list[str]:
    """Fields of a fixture object that the SDK's resource class does not declare."""
    kind = obj.get("object")
    cls = RESOURCES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return []
    problems = [f"{where}.{key}" for key in obj if key not in declared(cls)]
    for key, value in obj.items():
        if isinstance(value, dict):
            problems += undeclared(value, f"{where}.{key}")
    if cls is stripe.PaymentIntent:
        for key, nested in (
            ("last_payment_error", stripe.PaymentIntent.LastPaymentError),
            ("next_action", stripe.PaymentIntent.NextAction),
        ):
            if isinstance(obj.get(key), dict):
                problems += [f"{where}.{key}.{k}" for k in obj[key] if k not in declared(nested)]
    if cls is stripe.Charge and isinstance(obj.get("refunds"), dict):
        for refund in obj["refunds"]["data"]:
            problems += undeclared(refund, f"{where}.refunds")
    if cls is stripe.Event:
        problems += undeclared(obj["data"]["object"], f"{where}.data.object")
    return problems


FIXTURE_FILES = sorted(str(p.relative_to(FIXTURE_ROOT)) for p in FIXTURE_ROOT.rglob("*.json"))


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_fixture_fields_are_declared_by_the_sdk(name: str) -> None:
    data = FIXTURES.json(name)
    if "error" in data:
        error = data["error"]
        problems = [f"error.{k}" for k in error if k not in declared(ErrorObject)]
        if isinstance(error.get("payment_intent"), dict):
            problems += undeclared(error["payment_intent"], "error.payment_intent")
    elif data.get("object") == "search_result":
        problems = [p for item in data["data"] for p in undeclared(item, "data")]
    else:
        assert data.get("object") in RESOURCES, name
        problems = undeclared(data, data["object"])
    assert problems == []


def test_every_fixture_is_json() -> None:
    assert len(FIXTURE_FILES) > 40
    for name in FIXTURE_FILES:
        json.loads((FIXTURE_ROOT / name).read_bytes())
