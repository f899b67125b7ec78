"""Known answers: every Alipay vector of ../shared/providers/vectors (copied to `vectors/`),
then the negative cases. Expected strings and signatures are the vectors' own, or made with
`cryptography` directly in the harness, never by the code under test.

A1  alipay-sdk-nodejs-all notification: verifies only with sign AND sign_type removed
A2  alipay-sdk-nodejs-all checkResponseSign: the raw `*_response` bytes are what is signed
A3  request signature with the fzlee/alipay test key over a fixed alipay.trade.query
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
import respx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from gatewayhub.models import EventKind, RetrieveCall
from gatewayhub.money import Money
from gatewayhub.provider import WebhookVerificationError
from gatewayhub.testing import FixedClock
from gatewayhub_alipay import signing
from gatewayhub_alipay.provider import LIVE_GATEWAY, AlipayProvider

from .harness import (
    ALIPAY_KEY,
    APP_ID,
    FIXTURES,
    NODESDK_VECTOR,
    REFERENCE,
    STRANGER_KEY,
    build,
    form,
    rsa2,
    signed_notification,
    vector,
)

A1_FORM: dict[str, str] = NODESDK_VECTOR["notify_form"]
A1_CONTENT: str = NODESDK_VECTOR["expected_sign_content"]
A2: dict[str, str] = NODESDK_VECTOR["response_sign_vector"]
A3_CONTENT = (
    'app_id=2021000000000000&biz_content={"out_trade_no":"ORDER-0001"}&charset=utf-8'
    "&format=JSON&method=alipay.trade.query&sign_type=RSA2&timestamp=2024-01-01 12:00:00"
    "&version=1.0"
)
A3_SIGN = (
    "B0IeMRPVNDUBkB5Nwnq5UPPPW8l7zPBdDmX+iIH5O/S1s1yGhzRgk8X/OJulgymiWPEr+qI/OHs5z9BxWINjQhyh"
    "uXy5rrNn5p4MKQ9tqj7VkYeyp062UudOz5TVE7FIlQVmJqS5Xkk324MOfFXFQQpxqxxzLWVPVoEZ1lMnA1h5h79F"
    "lIM34C+H9ygj/IYVC5fjOfrrCZ0fpgewh7b3Nofw1x4F0RPg2xptJpb/QXhx3rFHFKCqv+kV7h2E6C1xphcoEERa"
    "Fz6E66Uc25OYc61UlWuEQ6SzjWArgNrlGJg4jSpzQuPOqCgxR6U0tcO0JPPNcnp5YMSeI8dM0wOX0w=="
)


def public_key(pem: bytes) -> RSAPublicKey:
    key = serialization.load_pem_public_key(pem)
    assert isinstance(key, RSAPublicKey)
    return key


def a1_key() -> RSAPublicKey:
    key = serialization.load_der_public_key(
        base64.b64decode(NODESDK_VECTOR["alipay_public_key_b64_spki"])
    )
    assert isinstance(key, RSAPublicKey)
    return key


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
async def provider(router: respx.MockRouter) -> AsyncIterator[AlipayProvider]:
    adapter, client = build(FixedClock())
    yield adapter
    await client.aclose()


# -- A1: notification ----------------------------------------------------------------------------


def test_a1_sign_content_is_the_vectors_string() -> None:
    assert signing.notify_content(A1_FORM) == A1_CONTENT


def test_a1_verifies_only_with_sign_and_sign_type_removed() -> None:
    signature = base64.b64decode(A1_FORM["sign"])
    key = a1_key()
    key.verify(signature, A1_CONTENT.encode(), padding.PKCS1v15(), hashes.SHA256())
    with_sign_type = "&".join(
        f"{k}={A1_FORM[k]}" for k in sorted(A1_FORM) if k != "sign" and A1_FORM[k]
    )
    with pytest.raises(InvalidSignature):
        key.verify(signature, with_sign_type.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_a1_notification_is_accepted_and_read(provider: AlipayProvider) -> None:
    body = urlencode(A1_FORM).encode("ascii")
    provider.verify_webhook({}, body)
    [event] = provider.parse_webhook({}, body)
    assert event.kind is EventKind.CAPTURED
    assert event.event_id == "2019081500222155624068450559358070"
    assert event.provider_reference == "20190815155618536-564-57"
    assert event.attempt_key is None  # not one of our order numbers
    assert event.money == Money(10, "CNY")
    assert event.occurred_at == datetime.fromisoformat("2019-08-15T07:56:25+00:00")


def test_a1_percent_encoding_does_not_matter(provider: AlipayProvider) -> None:
    # Signed over decoded values: spaces as %20 or + and raw UTF-8 escapes verify alike.
    from urllib.parse import quote  # noqa: PLC0415 - only this test needs the other quoting

    body = urlencode(A1_FORM, quote_via=quote).encode("ascii")
    assert b"%20" in body
    provider.verify_webhook({}, body)


# -- A2: synchronous response ----------------------------------------------------------------------


def test_a2_signed_bytes_are_the_raw_response_member() -> None:
    raw = A2["raw_response"].encode("utf-8")
    member = signing.raw_member(raw, signing.response_key("alipay.open.file.upload"))
    assert member == A2["signed_substring"].encode("utf-8")
    key = public_key(vector(A2["public_key_file"]))
    assert signing.verify([key], member, json.loads(raw)["sign"])


def test_a2_tampered_or_wrong_key_does_not_verify() -> None:
    raw = A2["raw_response"].encode("utf-8")
    member = signing.raw_member(raw, "alipay_open_file_upload_response")
    assert member is not None
    sign = json.loads(raw)["sign"]
    nodesdk = public_key(vector(A2["public_key_file"]))
    fzlee = public_key(vector("alipay_fzlee_test_app_public_key.pem"))
    assert not signing.verify([nodesdk], member.replace(b"CAxA", b"CAxB"), sign)
    assert not signing.verify([fzlee], member, sign)
    assert signing.verify([fzlee, nodesdk], member, sign)  # rotation: any configured key
    assert not signing.verify([nodesdk], member, "not base64!")


async def test_escaped_slashes_are_verified_as_received(
    router: respx.MockRouter, provider: AlipayProvider
) -> None:
    # Re-serializing would turn "\/" into "/" and break the signature; the raw bytes verify.
    member = (
        '{"code":"10000","msg":"Success","out_trade_no":"6823789339978248",'
        '"total_amount":"10.00","trade_status":"WAIT_BUYER_PAY","qr":"https:\\/\\/qr.alipay.com"}'
    )
    assert json.dumps(json.loads(member), separators=(",", ":")) != member
    body = f'{{"alipay_trade_query_response":{member},"sign":"{rsa2(ALIPAY_KEY, member)}"}}'
    router.post(LIVE_GATEWAY).respond(200, content=body.encode())
    call = RetrieveCall("pay_1", "key", Money(1000, "CNY"), "6823789339978248")
    result = await provider.retrieve(call)
    assert result.raw_status == "WAIT_BUYER_PAY"


# -- A3: request signature -------------------------------------------------------------------------


def pkcs8_pem() -> str:
    return (
        serialization.load_pem_private_key(
            vector("alipay_fzlee_test_app_private_key_pkcs1.pem"), None
        )
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def bare_base64_pkcs1() -> str:
    lines = vector("alipay_fzlee_test_app_private_key_pkcs1.pem").decode().splitlines()
    return "".join(line for line in lines if not line.startswith("-----"))


@pytest.mark.parametrize(
    "key_text",
    [
        pytest.param(
            lambda: vector("alipay_fzlee_test_app_private_key_pkcs1.pem").decode(), id="pkcs1-pem"
        ),
        pytest.param(pkcs8_pem, id="pkcs8-pem"),
        pytest.param(bare_base64_pkcs1, id="bare-base64"),
    ],
)
async def test_a3_query_request_is_signed_as_the_vector(
    router: respx.MockRouter, key_text: Any
) -> None:
    route = router.post(LIVE_GATEWAY).respond(200, content=FIXTURES.raw("query/trade_success.json"))
    clock = FixedClock(datetime(2024, 1, 1, 4, 0, tzinfo=UTC))  # 12:00:00 in Beijing
    provider, client = build(clock, app_id="2021000000000000", app_private_key=key_text())
    await provider.retrieve(RetrieveCall("pay_1", "key", Money(1000, "CNY"), "ORDER-0001"))
    await client.aclose()
    request = route.calls.last.request
    params = dict(request.url.params)
    body = form(request.content)
    assert set(body) == {"biz_content"}
    sent = {**params, **body}
    assert sent["sign"] == A3_SIGN
    content = "&".join(f"{k}={sent[k]}" for k in sorted(sent) if k != "sign")
    assert content == A3_CONTENT
    app_public = public_key(vector("alipay_fzlee_test_app_public_key.pem"))
    app_public.verify(
        base64.b64decode(A3_SIGN), A3_CONTENT.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_a3_sign_content_drops_sign_and_empty_values() -> None:
    params = {
        "version": "1.0",
        "timestamp": "2024-01-01 12:00:00",
        "sign_type": "RSA2",
        "method": "alipay.trade.query",
        "format": "JSON",
        "charset": "utf-8",
        "biz_content": '{"out_trade_no":"ORDER-0001"}',
        "app_id": "2021000000000000",
        "notify_url": "",
        "sign": "ignored",
    }
    assert signing.sign_content(params) == A3_CONTENT


# -- notifications: positive -----------------------------------------------------------------------


def test_trade_success_is_a_capture_of_our_attempt(provider: AlipayProvider) -> None:
    body = FIXTURES.raw("notify/trade_success.txt")
    provider.verify_webhook({}, body)
    [event] = provider.parse_webhook({}, body)
    assert event.kind is EventKind.CAPTURED
    assert event.provider_reference == REFERENCE
    assert event.attempt_key == "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01"
    assert event.money == Money(2500, "CNY")
    assert event.captured == Money(2500, "CNY")


def test_refund_notification_names_the_refund(provider: AlipayProvider) -> None:
    body = FIXTURES.raw("notify/trade_refunded.txt")
    provider.verify_webhook({}, body)
    [event] = provider.parse_webhook({}, body)
    assert event.kind is EventKind.REFUND_SUCCEEDED
    assert event.refund_reference == "0b7d3c5e8f6a4e2d9c1b0a9f8e7d6c5b"
    assert event.attempt_key == "0b7d3c5e-8f6a-4e2d-9c1b-0a9f8e7d6c5b"
    assert event.money is None  # refund_fee is cumulative, not this refund's amount


def test_unpaid_close_is_a_cancel(provider: AlipayProvider) -> None:
    body = FIXTURES.raw("notify/trade_closed.txt")
    provider.verify_webhook({}, body)
    [event] = provider.parse_webhook({}, body)
    assert event.kind is EventKind.CANCELED


def test_unknown_trade_status_is_pending(provider: AlipayProvider) -> None:
    fields = form(FIXTURES.raw("notify/trade_success.txt"))
    body = signed_notification({**fields, "trade_status": "TRADE_UNDER_REVIEW"})
    provider.verify_webhook({}, body)
    [event] = provider.parse_webhook({}, body)
    assert event.kind is EventKind.PENDING


def test_the_acknowledgement_is_exactly_success(provider: AlipayProvider) -> None:
    body = FIXTURES.raw("notify/trade_success.txt")
    ack = provider.webhook_ack(provider.parse_webhook({}, body))
    assert (ack.status_code, ack.body, ack.media_type) == (200, b"success", "text/plain")


# -- notifications: negative -----------------------------------------------------------------------


def success_fields() -> dict[str, str]:
    return form(FIXTURES.raw("notify/trade_success.txt"))


def tamper(body: bytes) -> bytes:
    return body.replace(b"total_amount=25.00", b"total_amount=25.01")


@pytest.mark.parametrize(
    ("name", "body", "reason"),
    [
        ("tampered amount", tamper(FIXTURES.raw("notify/trade_success.txt")), "bad_signature"),
        (
            "tampered vector",
            urlencode({**A1_FORM, "subject": "语雀空间 501人规模"}).encode(),
            "bad_signature",
        ),
        ("wrong key", signed_notification(success_fields(), STRANGER_KEY), "bad_signature"),
        (
            "missing sign",
            urlencode({k: v for k, v in success_fields().items() if k != "sign"}).encode(),
            "missing_header",
        ),
        ("empty sign", urlencode({**success_fields(), "sign": ""}).encode(), "missing_header"),
        (
            "garbage sign",
            urlencode({**success_fields(), "sign": "%%%not-base64"}).encode(),
            "bad_signature",
        ),
        ("legacy RSA", urlencode({**success_fields(), "sign_type": "RSA"}).encode(), "unsupported"),
        (
            "other app",
            signed_notification({**success_fields(), "app_id": "2021000000000001"}),
            "malformed",
        ),
        (
            "other seller",
            signed_notification({**success_fields(), "seller_id": "2088000000000001"}),
            "malformed",
        ),
        (
            "field twice",
            FIXTURES.raw("notify/trade_success.txt") + b"&total_amount=0.01",
            "malformed",
        ),
        ("not a form", b'{"trade_status":"TRADE_SUCCESS"}', "malformed"),
        ("not utf-8", b"subject=\xff\xfe", "malformed"),
    ],
)
def test_rejected_notifications(
    provider: AlipayProvider, name: str, body: bytes, reason: str
) -> None:
    with pytest.raises(WebhookVerificationError) as raised:
        provider.verify_webhook({}, body)
    assert raised.value.reason == reason, name


def test_a_notification_missing_required_fields_is_malformed(provider: AlipayProvider) -> None:
    fields = {k: v for k, v in success_fields().items() if k != "notify_id"}
    body = signed_notification(fields)
    provider.verify_webhook({}, body)
    with pytest.raises(WebhookVerificationError) as raised:
        provider.parse_webhook({}, body)
    assert raised.value.reason == "malformed"


def test_app_id_of_the_harness_is_the_vectors() -> None:
    # The rotated-key contract case replays the vector as is; it must be for our app.
    assert A1_FORM["app_id"] == APP_ID


def test_sign_helper_matches_the_fixture_signature() -> None:
    # The harness helper and the stored fixture agree: the fixture is what it claims to be.
    fields = success_fields()
    assert form(signed_notification(fields))["sign"] == fields["sign"]
