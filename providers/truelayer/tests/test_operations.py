"""Every TrueLayer operation against respx: what is sent (path, bearer token, Idempotency-Key,
a Tl-Signature that verifies over the exact bytes sent) and how each answer and each
transport failure is read."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from gatewayhub.errors import Decision, DeclineCode, NotSent, OutcomeUnknown
from gatewayhub.models import (
    AuthorizeCall,
    PaymentMethod,
    ProviderStatus,
    RefundCall,
    RefundStatus,
    RetrieveCall,
)
from gatewayhub.money import Money
from gatewayhub.provider import UnsupportedOperation

from .harness import (
    API,
    AUTH,
    FIXTURES,
    KID,
    MERCHANT_GBP,
    PAYER,
    PUBLIC_PEM,
    TOKEN,
    TrueLayerHarness,
    b64url,
)

KEY = "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01"
PAYMENT = "c7f3f6c5-ae17-4d43-829c-***"


@pytest.fixture
async def harness() -> AsyncIterator[TrueLayerHarness]:
    harness = TrueLayerHarness()
    harness.router.post(f"{AUTH}/connect/token").mock(
        return_value=FIXTURES.response("auth/token.json")
    )
    yield harness
    await harness.client.aclose()


def authorize_call(
    metadata: dict[str, str] = PAYER, return_url: str | None = "https://shop.example/return"
) -> AuthorizeCall:
    return AuthorizeCall(
        payment_id="pay_01JDGATEWAYHUBEXAMPLE0000",
        key=KEY,
        money=Money(101, "GBP"),
        capture=True,
        method=PaymentMethod(type="open_banking", token="tl_hosted_payment_page"),
        token="tl_hosted_payment_page",
        return_url=return_url,
        metadata=metadata,
    )


def assert_signed(request: httpx.Request, path: str) -> None:
    """The Tl-Signature of `request` verifies, with `cryptography` alone, over the method,
    the path, the Idempotency-Key header and the exact body bytes sent."""
    header, middle, raw = request.headers["Tl-Signature"].split(".")
    assert middle == ""
    jose = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    assert jose == {
        "alg": "ES512",
        "kid": KID,
        "tl_version": "2",
        "tl_headers": "Idempotency-Key",
    }
    payload = (
        f"POST {path}\nIdempotency-Key: {request.headers['Idempotency-Key']}\n".encode()
        + request.content
    )
    signature = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    public = serialization.load_pem_public_key(PUBLIC_PEM)
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(
        encode_dss_signature(
            int.from_bytes(signature[:66], "big"), int.from_bytes(signature[66:], "big")
        ),
        f"{header}.{b64url(payload)}".encode(),
        ec.ECDSA(hashes.SHA512()),
    )


# -- authorize ------------------------------------------------------------------------------


async def test_payment_creation_is_signed_and_asks_for_the_hosted_page(
    harness: TrueLayerHarness,
) -> None:
    route = harness.router.post(f"{API}/v3/payments").mock(
        return_value=FIXTURES.response("authorize/merchant_account.json", 201)
    )
    result = await harness.provider.authorize(authorize_call())
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Idempotency-Key"] == KEY
    assert request.headers["Content-Type"] == "application/json"
    assert_signed(request, "/v3/payments")
    assert json.loads(request.content) == {
        "amount_in_minor": 101,
        "currency": "GBP",
        "payment_method": {
            "type": "bank_transfer",
            "provider_selection": {"type": "user_selected"},
            "beneficiary": {"type": "merchant_account", "merchant_account_id": MERCHANT_GBP},
        },
        "user": {"name": "Jane Doe", "email": "jane.doe@example.com"},
        "metadata": {
            "gatewayhub_payment_id": "pay_01JDGATEWAYHUBEXAMPLE0000",
            "gatewayhub_key": KEY,
        },
    }
    assert result.status is ProviderStatus.REQUIRES_ACTION
    assert result.provider_reference == "9266727c-c67b-4862-899c-9286e129a6e8"
    assert result.next_action is not None
    assert result.next_action.type == "redirect"
    assert result.next_action.url == (
        "https://payment.truelayer-sandbox.com/payments"
        "#payment_id=9266727c-c67b-4862-899c-9286e129a6e8"
        "&resource_token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.***"
        "&return_uri=https://shop.example/return"
    )
    assert dict(result.next_action.data) == {
        "payment_id": "9266727c-c67b-4862-899c-9286e129a6e8",
        "resource_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.***",
    }


async def test_retries_send_the_same_key_and_bytes(harness: TrueLayerHarness) -> None:
    route = harness.router.post(f"{API}/v3/payments").mock(
        side_effect=[
            httpx.ReadTimeout("lost"),
            FIXTURES.response("authorize/merchant_account.json", 201),
        ]
    )
    call = authorize_call()
    with pytest.raises(OutcomeUnknown):
        await harness.provider.authorize(call)
    await harness.provider.authorize(call)
    first, second = (c.request for c in route.calls)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == KEY
    assert first.content == second.content
    assert_signed(second, "/v3/payments")


async def test_without_a_return_uri_the_next_step_is_the_resource_token(
    harness: TrueLayerHarness,
) -> None:
    harness.router.post(f"{API}/v3/payments").mock(
        return_value=FIXTURES.response("authorize/authorization_required.json", 201)
    )
    result = await harness.provider.authorize(authorize_call(return_url=None))
    assert result.next_action is not None
    assert result.next_action.url is None
    assert result.next_action.data["resource_token"] == "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.***"


async def test_payer_details_are_required_and_checked_before_sending(
    harness: TrueLayerHarness,
) -> None:
    route = harness.router.post(f"{API}/v3/payments")
    result = await harness.provider.authorize(authorize_call({"customer_name": "Jane Doe"}))
    assert not route.called
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert (result.decline.code, result.decline.decision) == (
        DeclineCode.INVALID_REQUEST,
        Decision.FAILOVER,
    )


@pytest.mark.parametrize(
    ("fixture", "status", "code"),
    [
        ("authorize/failed.json", ProviderStatus.DECLINED, DeclineCode.DO_NOT_HONOR),
        ("authorize/authorized.json", ProviderStatus.PENDING, None),
        ("authorize/unknown_status.json", ProviderStatus.PENDING, None),
    ],
)
async def test_creation_answers(
    harness: TrueLayerHarness, fixture: str, status: ProviderStatus, code: DeclineCode | None
) -> None:
    harness.router.post(f"{API}/v3/payments").mock(return_value=FIXTURES.response(fixture, 201))
    result = await harness.provider.authorize(authorize_call())
    assert result.status is status
    assert (result.decline.code if result.decline else None) is code


@pytest.mark.parametrize(
    ("fixture", "status", "code", "decision"),
    [
        ("errors/invalid_parameters.json", 400, DeclineCode.INVALID_REQUEST, Decision.FAILOVER),
        ("errors/idempotency_key_reuse.json", 422, DeclineCode.INVALID_REQUEST, Decision.FINAL),
    ],
)
async def test_refusals_are_declines(
    harness: TrueLayerHarness, fixture: str, status: int, code: DeclineCode, decision: Decision
) -> None:
    harness.router.post(f"{API}/v3/payments").mock(return_value=FIXTURES.response(fixture, status))
    result = await harness.provider.authorize(authorize_call())
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert (result.decline.code, result.decline.decision) == (code, decision)


@pytest.mark.parametrize(
    ("answer", "expected", "code"),
    [
        (httpx.ConnectError("refused"), NotSent, None),
        (httpx.ConnectTimeout("slow"), NotSent, None),
        (httpx.ReadTimeout("slow"), OutcomeUnknown, DeclineCode.OUTCOME_UNKNOWN),
        (httpx.WriteTimeout("slow"), OutcomeUnknown, DeclineCode.OUTCOME_UNKNOWN),
        (
            FIXTURES.response("errors/invalid_signature.json", 401),
            NotSent,
            DeclineCode.PROVIDER_AUTH_FAILED,
        ),
        (httpx.Response(403), NotSent, DeclineCode.PROVIDER_AUTH_FAILED),
        (httpx.Response(409), OutcomeUnknown, DeclineCode.PROVIDER_UNAVAILABLE),
        (httpx.Response(429), NotSent, DeclineCode.RATE_LIMITED),
        (httpx.Response(502), OutcomeUnknown, DeclineCode.PROVIDER_UNAVAILABLE),
    ],
)
async def test_authorize_failures(
    harness: TrueLayerHarness,
    answer: object,
    expected: type[Exception],
    code: DeclineCode | None,
) -> None:
    route = harness.router.post(f"{API}/v3/payments")
    if isinstance(answer, httpx.Response):
        route.mock(return_value=answer)
    else:
        route.mock(side_effect=answer)
    with pytest.raises(expected) as raised:
        await harness.provider.authorize(authorize_call())
    if expected is NotSent:
        assert not isinstance(raised.value, OutcomeUnknown)
    if code is not None:
        assert raised.value.decline_code is code  # type: ignore[attr-defined]


async def test_currency_without_merchant_account_is_not_sent() -> None:
    other = TrueLayerHarness(merchant_accounts={"EUR": "e83c4c20-0000"})
    call = authorize_call()
    with pytest.raises(NotSent) as raised:
        await other.provider.authorize(call)
    assert raised.value.decline_code is DeclineCode.CURRENCY_NOT_SUPPORTED
    await other.client.aclose()


# -- refund ---------------------------------------------------------------------------------


def refund_call(amount: int = 50) -> RefundCall:
    return RefundCall(
        "pay_01JDGATEWAYHUBEXAMPLE0000",
        "rfd_01JDGATEWAYHUBEXAMPLE0000",
        "0b4f5c8e-3d2a-5f1e-9c7b-1a2b3c4d5e6f",
        PAYMENT,
        Money(amount, "GBP"),
    )


async def test_refund_is_signed_and_accepted(harness: TrueLayerHarness) -> None:
    route = harness.router.post(f"{API}/v3/payments/{PAYMENT}/refunds").mock(
        return_value=FIXTURES.response("refund/created.json", 202)
    )
    result = await harness.provider.refund(refund_call())
    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == "0b4f5c8e-3d2a-5f1e-9c7b-1a2b3c4d5e6f"
    assert_signed(request, f"/v3/payments/{PAYMENT}/refunds")
    assert json.loads(request.content) == {
        "amount_in_minor": 50,
        "reference": "Refund",
        "metadata": {
            "gatewayhub_payment_id": "pay_01JDGATEWAYHUBEXAMPLE0000",
            "gatewayhub_refund_id": "rfd_01JDGATEWAYHUBEXAMPLE0000",
            "gatewayhub_key": "0b4f5c8e-3d2a-5f1e-9c7b-1a2b3c4d5e6f",
        },
    }
    assert result.status is RefundStatus.PENDING
    assert result.provider_reference == "38c76ba95-322f-46a9-b754-***"


async def test_refund_refused(harness: TrueLayerHarness) -> None:
    harness.router.post(f"{API}/v3/payments/{PAYMENT}/refunds").mock(
        return_value=FIXTURES.response("errors/not_found.json", 404)
    )
    result = await harness.provider.refund(refund_call())
    assert result.status is RefundStatus.FAILED
    assert result.decline is not None
    assert result.decline.provider_code == "Not Found"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (httpx.ConnectError("down"), NotSent),
        (httpx.ReadTimeout("slow"), OutcomeUnknown),
        (httpx.Response(409), OutcomeUnknown),
        (httpx.Response(500), OutcomeUnknown),
    ],
)
async def test_refund_failures(
    harness: TrueLayerHarness, answer: object, expected: type[Exception]
) -> None:
    route = harness.router.post(f"{API}/v3/payments/{PAYMENT}/refunds")
    if isinstance(answer, httpx.Response):
        route.mock(return_value=answer)
    else:
        route.mock(side_effect=answer)
    with pytest.raises(expected):
        await harness.provider.refund(refund_call())


# -- retrieve -------------------------------------------------------------------------------


def lookup(reference: str | None = PAYMENT) -> RetrieveCall:
    return RetrieveCall("pay_x", KEY, Money(101, "GBP"), reference)


async def test_settled_payment_is_captured_with_its_refunds(harness: TrueLayerHarness) -> None:
    harness.router.get(f"{API}/v3/payments/{PAYMENT}").mock(
        return_value=FIXTURES.response("retrieve/settled.json")
    )
    refunds = harness.router.get(f"{API}/v3/payments/{PAYMENT}/refunds").mock(
        return_value=FIXTURES.response("retrieve/refunds.json")
    )
    result = await harness.provider.retrieve(lookup())
    assert refunds.called
    assert refunds.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Tl-Signature" not in refunds.calls.last.request.headers  # GETs are not signed
    assert result.status is ProviderStatus.CAPTURED
    assert (result.money, result.captured, result.refunded) == (
        Money(101, "GBP"),
        Money(101, "GBP"),
        Money(0, "GBP"),  # the listed refund is still pending
    )


async def test_a_payment_waiting_for_the_payer_needs_no_refund_list(
    harness: TrueLayerHarness,
) -> None:
    harness.router.get(f"{API}/v3/payments/{PAYMENT}").mock(
        return_value=FIXTURES.response("retrieve/authorization_required.json")
    )
    refunds = harness.router.get(f"{API}/v3/payments/{PAYMENT}/refunds")
    result = await harness.provider.retrieve(lookup())
    assert not refunds.called
    assert result.status is ProviderStatus.REQUIRES_ACTION


async def test_unknown_payment_is_not_found(harness: TrueLayerHarness) -> None:
    harness.router.get(f"{API}/v3/payments/{PAYMENT}").mock(
        return_value=FIXTURES.response("errors/not_found.json", 404)
    )
    assert (await harness.provider.retrieve(lookup())).status is ProviderStatus.NOT_FOUND


async def test_no_lookup_by_key(harness: TrueLayerHarness) -> None:
    with pytest.raises(UnsupportedOperation):
        await harness.provider.retrieve(lookup(None))


@pytest.mark.parametrize(
    ("error", "expected"),
    [(httpx.ConnectError, NotSent), (httpx.ReadTimeout, OutcomeUnknown)],
)
async def test_retrieve_transport_failures(
    harness: TrueLayerHarness, error: type[Exception], expected: type[Exception]
) -> None:
    harness.router.get(f"{API}/v3/payments/{PAYMENT}").mock(side_effect=error)
    with pytest.raises(expected):
        await harness.provider.retrieve(lookup())
