"""The Checkout.com adapter's plumbing: URLs, headers, refusals made before sending, and
the HTTP answers of capture, void, refund and retrieve."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr, ValidationError

from gatewayhub.errors import Decision, DeclineCode, NotSent
from gatewayhub.models import (
    CaptureCall,
    ProviderStatus,
    RefundCall,
    RefundStatus,
    RetrieveCall,
    VoidCall,
)
from gatewayhub.money import Money
from gatewayhub.provider import UnsupportedOperation

from .harness import PAYMENT_ID, SECRET_KEY, CheckoutHarness, authorize_call, settings


@pytest.fixture
async def harness() -> AsyncIterator[CheckoutHarness]:
    harness = CheckoutHarness()
    yield harness
    await harness.client.aclose()


@pytest.mark.parametrize(
    ("overrides", "url"),
    [
        ({}, "https://api.sandbox.checkout.com/payments"),
        ({"environment": "live"}, "https://api.checkout.com/payments"),
        ({"subdomain": "1a2b3c4d"}, "https://1a2b3c4d.api.sandbox.checkout.com/payments"),
        (
            {"environment": "live", "subdomain": "pl-9z8y7x"},
            "https://pl-9z8y7x.api.checkout.com/payments",
        ),
    ],
)
def test_base_urls(overrides: dict[str, str], url: str) -> None:
    provider = CheckoutHarness(**overrides).provider
    assert provider._url("/payments") == url


def test_subdomain_is_validated() -> None:
    with pytest.raises(ValidationError):
        settings(subdomain="evil.example.com/")


def test_secret_key_is_secret() -> None:
    account = settings()
    assert isinstance(account.secret_key, SecretStr)
    assert SECRET_KEY not in repr(account)


async def test_headers(harness: CheckoutHarness) -> None:
    harness.arrange("authorize", "approved")
    call = authorize_call()
    await harness.provider.authorize(call)
    [request] = harness.requests()
    assert request.headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert request.headers["cko-idempotency-key"] == call.key
    assert request.headers["content-type"] == "application/json"


async def test_three_decimal_amount_refused_without_sending(harness: CheckoutHarness) -> None:
    harness.arrange("authorize", "approved")
    result = await harness.provider.authorize(authorize_call(Money(1234, "KWD")))
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert result.decline.code is DeclineCode.CURRENCY_NOT_SUPPORTED
    assert result.decline.decision is Decision.FAILOVER  # another provider may take it
    assert harness.requests() == []


async def test_foreign_token_refused_without_sending(harness: CheckoutHarness) -> None:
    harness.arrange("authorize", "approved")
    result = await harness.provider.authorize(authorize_call(token="pm_card_visa"))
    assert result.decline is not None
    assert result.decline.code is DeclineCode.INVALID_REQUEST
    assert harness.requests() == []


async def test_description_is_cut_to_the_spec_limit(harness: CheckoutHarness) -> None:
    from dataclasses import replace  # noqa: PLC0415

    harness.arrange("authorize", "approved")
    await harness.provider.authorize(replace(authorize_call(), description="x" * 255))
    assert json.loads(harness.requests()[0].content)["description"] == "x" * 100


async def test_capture_accepted_is_pending(harness: CheckoutHarness) -> None:
    harness.arrange("capture", "captured")
    call = CaptureCall("pay_x", "k-1", PAYMENT_ID, Money(2000, "USD"), final=False)
    result = await harness.provider.capture(call)
    assert result.status is ProviderStatus.PENDING
    assert result.provider_reference == "act_2wd2xbt2pmkefihnnycz3b3bai"
    body = json.loads(harness.requests()[0].content)
    assert body["amount"] == 2000
    assert body["capture_type"] == "NonFinal"
    assert harness.requests()[0].headers["cko-idempotency-key"] == "k-1"


@pytest.mark.parametrize(
    ("status", "code"), [(403, "action_not_allowed"), (404, "payment_not_found")]
)
async def test_capture_refused(harness: CheckoutHarness, status: int, code: str) -> None:
    harness.router.clear()
    harness.answer("POST", f"/payments/{PAYMENT_ID}/captures", status)
    call = CaptureCall("pay_x", "k-1", PAYMENT_ID, Money(2000, "USD"))
    result = await harness.provider.capture(call)
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert result.decline.provider_code == code


async def test_void_accepted_is_pending(harness: CheckoutHarness) -> None:
    harness.arrange("void", "voided")
    result = await harness.provider.void(VoidCall("pay_x", "k-v", PAYMENT_ID, Money(6540, "USD")))
    assert result.status is ProviderStatus.PENDING
    assert result.provider_reference == "act_ly3gl6ddttnejlynpyx3rbudnm"


async def test_refund_accepted_is_pending(harness: CheckoutHarness) -> None:
    harness.arrange("refund", "refunded")
    call = RefundCall("pay_x", "rfd_1", "k-r", PAYMENT_ID, Money(1540, "USD"), "damaged")
    result = await harness.provider.refund(call)
    assert result.status is RefundStatus.PENDING
    assert result.provider_reference == "act_5xjd2zsx5ljeljvcoq3irdjyhi"
    assert json.loads(harness.requests()[0].content)["amount"] == 1540


async def test_refund_refused_fails(harness: CheckoutHarness) -> None:
    harness.router.clear()
    harness.answer("POST", f"/payments/{PAYMENT_ID}/refunds", 422, "refund/refused_amount.json")
    call = RefundCall("pay_x", "rfd_1", "k-r", PAYMENT_ID, Money(99999, "USD"))
    result = await harness.provider.refund(call)
    assert result.status is RefundStatus.FAILED
    assert result.decline is not None
    assert result.decline.provider_code == "refund_amount_exceeds_balance"


async def test_retrieve_reads_balances(harness: CheckoutHarness) -> None:
    harness.router.clear()
    harness.answer("GET", f"/payments/{PAYMENT_ID}", 200, "retrieve/partially_refunded.json")
    result = await harness.provider.retrieve(
        RetrieveCall("pay_x", "k", Money(6540, "USD"), PAYMENT_ID)
    )
    assert result.status is ProviderStatus.CAPTURED
    assert (result.captured, result.refunded) == (Money(6540, "USD"), Money(1540, "USD"))
    assert "cko-idempotency-key" not in harness.requests()[0].headers


async def test_retrieve_not_found(harness: CheckoutHarness) -> None:
    harness.router.clear()
    harness.answer("GET", f"/payments/{PAYMENT_ID}", 404)
    result = await harness.provider.retrieve(
        RetrieveCall("pay_x", "k", Money(6540, "USD"), PAYMENT_ID)
    )
    assert result.status is ProviderStatus.NOT_FOUND


async def test_retrieve_without_id_is_unsupported(harness: CheckoutHarness) -> None:
    with pytest.raises(UnsupportedOperation):
        await harness.provider.retrieve(RetrieveCall("pay_x", "k", Money(6540, "USD"), None))


async def test_rate_limited_retrieve_is_not_sent(harness: CheckoutHarness) -> None:
    harness.router.clear()
    harness.answer("GET", f"/payments/{PAYMENT_ID}", 429, "authorize/rate_limited.json")
    with pytest.raises(NotSent):
        await harness.provider.retrieve(RetrieveCall("pay_x", "k", Money(6540, "USD"), PAYMENT_ID))


def test_default_fees_are_dated_and_labelled() -> None:
    from gatewayhub_checkout.provider import CheckoutProvider  # noqa: PLC0415

    fees = CheckoutProvider.default_fees
    assert fees.as_of is not None
    assert fees.source.startswith("ASSUMPTION")
