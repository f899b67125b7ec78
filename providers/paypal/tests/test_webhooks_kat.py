"""PayPal's certificate scheme: the shared vector (CRC32 and signed-message construction),
the RSA step with the test-only certificate, and negative and boundary cases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509

from gatewayhub.provider import WebhookVerificationError
from gatewayhub_paypal import webhooks

from .harness import (
    CERT_URL,
    FIXTURES,
    OLD_WEBHOOK_ID,
    OTHER_KEY,
    PAYPAL_VECTOR,
    WEBHOOK_ID,
    PayPalHarness,
    sign,
)

V = PAYPAL_VECTOR
BODY = V["event_body"].encode()
VECTOR_TIME = datetime(2015, 5, 18, 15, 45, 13, tzinfo=UTC)
# The vector's message signed with the test-only key by `openssl dgst -sha256 -sign`.
KAT_SIGNATURE = FIXTURES.raw("webhooks/kat_transmission_sig.txt").decode().strip()
CERT = x509.load_pem_x509_certificate(FIXTURES.raw("certs/test_signer_cert.pem"))


def vector_headers(signature: str = KAT_SIGNATURE, **changes: str) -> dict[str, str]:
    headers = {
        "PAYPAL-TRANSMISSION-ID": V["transmission_id"],
        "PAYPAL-TRANSMISSION-TIME": V["transmission_time"],
        "PAYPAL-TRANSMISSION-SIG": signature,
        "PAYPAL-CERT-URL": V["cert_url"],
        "PAYPAL-AUTH-ALGO": V["auth_algo"],
    }
    headers.update(changes)
    return headers


# -- the vector ---------------------------------------------------------------------------------


def test_vector_is_the_documented_one() -> None:
    assert V["crc32_decimal"] == "2771810304"
    assert V["signed_message"] == (
        "dfb3be50-fd74-11e4-8bf3-77339302725b|2015-05-18T15:45:13Z|4JH86294D6297924G|2771810304"
    )
    assert len(BODY) == 1288


def test_crc32_known_answer() -> None:
    assert webhooks.crc32(BODY) == V["crc32_decimal"]


def test_signed_message_known_answer() -> None:
    message = webhooks.signed_message(
        V["transmission_id"], V["transmission_time"], V["webhook_id"], BODY
    )
    assert message == V["signed_message"].encode()


def test_rsa_step_with_the_test_certificate() -> None:
    transmission = webhooks.read_headers(vector_headers())
    webhooks.verify_signature(CERT, transmission, BODY, [V["webhook_id"]], VECTOR_TIME)


def test_paypals_own_signature_does_not_verify_with_another_certificate() -> None:
    # The vector's real signature is PayPal's: our test certificate must refuse it.
    transmission = webhooks.read_headers(vector_headers(V["transmission_sig"]))
    with pytest.raises(WebhookVerificationError) as raised:
        webhooks.verify_signature(CERT, transmission, BODY, [V["webhook_id"]], VECTOR_TIME)
    assert raised.value.reason == "bad_signature"


# -- negative cases on the vector ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "webhook_ids", "headers"),
    [
        (BODY.replace(b"20.00", b"20.01"), [V["webhook_id"]], {}),  # tampered body
        (BODY + b" ", [V["webhook_id"]], {}),  # one byte more
        (BODY, ["WH0THER0SUBSCRPT"], {}),  # another subscription's delivery
        (
            BODY,
            [V["webhook_id"]],
            {"PAYPAL-TRANSMISSION-ID": "dfb3be50-fd74-11e4-8bf3-77339302725c"},
        ),
        (BODY, [V["webhook_id"]], {"PAYPAL-TRANSMISSION-TIME": "2015-05-18T15:45:14Z"}),
    ],
)
def test_vector_negative(body: bytes, webhook_ids: list[str], headers: dict[str, str]) -> None:
    transmission = webhooks.read_headers(vector_headers(**headers))
    with pytest.raises(WebhookVerificationError) as raised:
        webhooks.verify_signature(CERT, transmission, body, webhook_ids, VECTOR_TIME)
    assert raised.value.reason == "bad_signature"


def test_rotated_webhook_ids() -> None:
    transmission = webhooks.read_headers(vector_headers())
    webhooks.verify_signature(
        CERT, transmission, BODY, ["WH0NEW0SUBSCRPT", V["webhook_id"]], VECTOR_TIME
    )


@pytest.mark.parametrize(
    "header",
    [
        "PAYPAL-TRANSMISSION-ID",
        "PAYPAL-TRANSMISSION-TIME",
        "PAYPAL-TRANSMISSION-SIG",
        "PAYPAL-CERT-URL",
        "PAYPAL-AUTH-ALGO",
    ],
)
def test_missing_header(header: str) -> None:
    headers = vector_headers()
    del headers[header]
    with pytest.raises(WebhookVerificationError) as raised:
        webhooks.read_headers(headers)
    assert raised.value.reason == "missing_header"


@pytest.mark.parametrize(
    "changes",
    [
        {"PAYPAL-TRANSMISSION-TIME": "18 May 2015 15:45:13"},
        {"PAYPAL-TRANSMISSION-TIME": "2015-05-18T15:45:13"},  # no zone
        {"PAYPAL-TRANSMISSION-SIG": "not base64!"},
    ],
)
def test_malformed_headers(changes: dict[str, str]) -> None:
    with pytest.raises(WebhookVerificationError) as raised:
        webhooks.read_headers(vector_headers(**changes))
    assert raised.value.reason == "malformed"


def test_sha1_is_refused() -> None:
    transmission = webhooks.read_headers(vector_headers(**{"PAYPAL-AUTH-ALGO": "SHA1withRSA"}))
    with pytest.raises(WebhookVerificationError) as raised:
        webhooks.verify_signature(CERT, transmission, BODY, [V["webhook_id"]], VECTOR_TIME)
    assert raised.value.reason == "unsupported"


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(0, True), (300, True), (-300, True), (301, False), (-301, False), (86400 * 365, False)],
)
def test_transmission_time_tolerance(offset: int, accepted: bool) -> None:
    transmission = webhooks.read_headers(vector_headers())
    now = VECTOR_TIME + timedelta(seconds=offset)
    if accepted:
        webhooks.check_fresh(transmission, now, timedelta(seconds=300))
    else:
        with pytest.raises(WebhookVerificationError) as raised:
            webhooks.check_fresh(transmission, now, timedelta(seconds=300))
        assert raised.value.reason == "expired"


@pytest.mark.parametrize(
    ("cert_file", "now"),
    [
        ("certs/test_signer_cert_expired.pem", datetime(2026, 11, 24, tzinfo=UTC)),
        ("certs/test_signer_cert.pem", datetime(2014, 12, 31, tzinfo=UTC)),  # not yet valid
        ("certs/test_signer_cert_not_paypal.pem", VECTOR_TIME),  # CN not *.paypal.com
    ],
)
def test_certificate_checks(cert_file: str, now: datetime) -> None:
    cert = x509.load_pem_x509_certificate(FIXTURES.raw(cert_file))
    transmission = webhooks.read_headers(vector_headers())
    with pytest.raises(WebhookVerificationError) as raised:
        webhooks.verify_signature(cert, transmission, BODY, [V["webhook_id"]], now)
    assert raised.value.reason == "bad_signature"


# -- the certificate URL ---------------------------------------------------------------------------

PINNED = webhooks.CERT_HOSTS


@pytest.mark.parametrize(
    "url",
    [
        "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77",
        "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77",
        "https://api-m.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77",
        "https://API.PAYPAL.COM:443/v1/notifications/certs/CERT-1",
    ],
)
def test_paypal_cert_urls_accepted(url: str) -> None:
    assert webhooks.pinned_cert_url(url, PINNED) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://api.paypal.com/v1/notifications/certs/CERT-1",  # not https
        "https://evil.example/v1/notifications/certs/CERT-1",
        "https://api.paypal.com.evil.example/v1/notifications/certs/CERT-1",
        "https://evilpaypal.com/v1/notifications/certs/CERT-1",
        "https://www.paypal.com/v1/notifications/certs/CERT-1",  # a PayPal host, not pinned
        "https://api.paypal.com@evil.example/v1/notifications/certs/CERT-1",
        "https://evil.example\\@api.paypal.com/v1/notifications/certs/CERT-1",
        "https://api.paypal.com:8443/v1/notifications/certs/CERT-1",
        "https://api.paypal.com/v1/oauth2/token",  # not a certificate path
        "https://api.paypal.com/v1/notifications/certs/../../oauth2/token",
        "https://api.paypal.com/v1/notifications/certs/CERT-1\n.evil.example",
        "file:///etc/ssl/certs/ca-certificates.crt",
        "",
    ],
)
def test_foreign_cert_urls_refused(url: str) -> None:
    with pytest.raises(WebhookVerificationError) as raised:
        webhooks.pinned_cert_url(url, PINNED)
    assert raised.value.reason == "bad_signature"


# -- through the adapter: the certificate is fetched once, never from a foreign host --------------


@pytest.fixture
async def harness() -> AsyncIterator[PayPalHarness]:
    harness = PayPalHarness()
    yield harness
    await harness.client.aclose()


async def test_certificate_fetched_once_and_cached(harness: PayPalHarness) -> None:
    body = FIXTURES.raw("webhooks/payment_capture_completed.json")
    for _ in range(3):
        await harness.provider.verify_webhook_async(sign(body), body)
    assert harness.cert_route.call_count == 1
    harness.provider.verify_webhook(sign(body), body)  # the sync check uses the cache


async def test_sync_check_without_certificate_refuses(harness: PayPalHarness) -> None:
    body = FIXTURES.raw("webhooks/payment_capture_completed.json")
    with pytest.raises(WebhookVerificationError) as raised:
        harness.provider.verify_webhook(sign(body), body)
    assert raised.value.reason == "unsupported"


async def test_foreign_certificate_host_never_contacted(harness: PayPalHarness) -> None:
    body = FIXTURES.raw("webhooks/payment_capture_completed.json")
    foreign = "https://evil.example/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"
    trap = harness.router.get(foreign).mock(
        return_value=httpx.Response(200, content=FIXTURES.raw("certs/test_signer_cert.pem"))
    )
    with pytest.raises(WebhookVerificationError) as raised:
        await harness.provider.verify_webhook_async(sign(body, cert_url=foreign), body)
    assert raised.value.reason == "bad_signature"
    assert trap.call_count == 0
    assert harness.router.calls == []  # nothing was requested at all


async def test_unknown_certificate_refused(harness: PayPalHarness) -> None:
    missing = "https://api.paypal.com/v1/notifications/certs/CERT-00000000-deadbeef"
    harness.router.get(missing).mock(return_value=httpx.Response(404))
    body = FIXTURES.raw("webhooks/payment_capture_completed.json")
    with pytest.raises(WebhookVerificationError) as raised:
        await harness.provider.verify_webhook_async(sign(body, cert_url=missing), body)
    assert raised.value.reason == "bad_signature"


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"key": OTHER_KEY}, "bad_signature"),
        ({"webhook_id": "WH0THER0SUBSCRPT"}, "bad_signature"),
        ({"time": "2026-11-24T11:54:59Z"}, "expired"),
    ],
)
async def test_adapter_refusals(
    harness: PayPalHarness, options: dict[str, object], reason: str
) -> None:
    body = FIXTURES.raw("webhooks/payment_capture_completed.json")
    with pytest.raises(WebhookVerificationError) as raised:
        await harness.provider.verify_webhook_async(sign(body, **options), body)  # type: ignore[arg-type]
    assert raised.value.reason == reason


async def test_adapter_accepts_rotated_subscription(harness: PayPalHarness) -> None:
    body = FIXTURES.raw("webhooks/payment_capture_completed.json")
    await harness.provider.verify_webhook_async(sign(body, webhook_id=OLD_WEBHOOK_ID), body)
    await harness.provider.verify_webhook_async(sign(body, webhook_id=WEBHOOK_ID), body)


def test_cert_url_constant_is_the_vectors() -> None:
    assert (
        CERT_URL
        == "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"
    )
