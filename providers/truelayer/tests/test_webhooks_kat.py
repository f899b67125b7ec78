"""Webhook `Tl-Signature` with TrueLayer's published vector T2 and JWKS (truelayer-signing
test-resources), the jku allow-list, the key cache (one refresh on an unknown kid), the
timestamp window, and the events each documented webhook becomes."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization

from gatewayhub.errors import DeclineCode
from gatewayhub.models import EventKind
from gatewayhub.provider import WebhookVerificationError
from gatewayhub_truelayer import jwks

from .harness import (
    FIXTURES,
    KID,
    LIVE_JKU,
    PUBLIC_PEM,
    SANDBOX_JKU,
    VECTORS,
    WEBHOOK_PATH,
    TrueLayerHarness,
    jwk,
    new_key,
    pem,
    webhook_headers,
)

T2 = (VECTORS / "truelayer_webhook-signature.txt").read_text().strip()
JWKS = (VECTORS / "truelayer_jwks.json").read_bytes()
# T2's inputs, from test-resources/README.md (copied into the sheet, section 8)
T2_BODY = b'{"event_type":"example","event_id":"18b2842b-a57b-4887-a0a6-d3c7c36f1020"}'
T2_HEADERS = {
    "Tl-Signature": T2,
    "X-Tl-Webhook-Timestamp": "2021-11-29T11:42:55Z",
    "Content-Type": "application/json",
}
T2_SENT = datetime(2021, 11, 29, 11, 42, 55, tzinfo=UTC)


@pytest.fixture
async def live() -> AsyncIterator[TrueLayerHarness]:
    """A live-environment account receiving webhooks at T2's path, a minute after T2."""
    harness = TrueLayerHarness(environment="live", webhook_path="/tl-webhook")
    harness.clock.advance((T2_SENT + timedelta(minutes=1) - harness.clock.now()).total_seconds())
    yield harness
    await harness.client.aclose()


def serve_jwks(harness: TrueLayerHarness, url: str, body: bytes = JWKS) -> respx.Route:
    return harness.router.get(url).mock(return_value=httpx.Response(200, content=body))


# -- the vectors ----------------------------------------------------------------------------


async def test_t2_verifies_with_the_published_jwks(live: TrueLayerHarness) -> None:
    route = serve_jwks(live, LIVE_JKU)
    await live.provider.refresh_signing_keys(T2_HEADERS, T2_BODY)
    live.provider.verify_webhook(T2_HEADERS, T2_BODY)
    assert route.call_count == 1


def test_published_jwks_holds_the_test_key_with_a_short_coordinate() -> None:
    keys = jwks.parse(JWKS)
    assert list(keys) == [KID]  # the RS512 key is not a webhook key
    expected = serialization.load_pem_public_key(PUBLIC_PEM)
    assert keys[KID].public_numbers() == expected.public_numbers()  # type: ignore[union-attr]
    # the published x is 65 bytes, one short of P-521's 66: parsed by value, not by length
    document = json.loads(JWKS)
    x = next(k["x"] for k in document["keys"] if k["kty"] == "EC")
    assert len(x) == 87


def test_t2_header_names_the_live_jwks() -> None:
    header = json.loads(base64.urlsafe_b64decode(T2.split(".")[0] + "=="))
    assert header == {
        "alg": "ES512",
        "kid": KID,
        "tl_version": "2",
        "tl_headers": "X-Tl-Webhook-Timestamp,Content-Type",
        "jku": LIVE_JKU,
    }


# -- negative cases with T2 -----------------------------------------------------------------


async def test_t2_tampered_body(live: TrueLayerHarness) -> None:
    serve_jwks(live, LIVE_JKU)
    body = T2_BODY.replace(b"example", b"exampl3")
    await live.provider.refresh_signing_keys(T2_HEADERS, body)
    with pytest.raises(WebhookVerificationError) as raised:
        live.provider.verify_webhook(T2_HEADERS, body)
    assert raised.value.reason == "bad_signature"


async def test_t2_on_another_path() -> None:
    other = TrueLayerHarness(environment="live", webhook_path="/webhooks/truelayer")
    other.clock.advance((T2_SENT - other.clock.now()).total_seconds())
    serve_jwks(other, LIVE_JKU)
    await other.provider.refresh_signing_keys(T2_HEADERS, T2_BODY)
    with pytest.raises(WebhookVerificationError) as raised:
        other.provider.verify_webhook(T2_HEADERS, T2_BODY)
    assert raised.value.reason == "bad_signature"
    await other.client.aclose()


async def test_t2_with_a_changed_signed_header(live: TrueLayerHarness) -> None:
    serve_jwks(live, LIVE_JKU)
    headers = {**T2_HEADERS, "Content-Type": "application/json; charset=utf-8"}
    await live.provider.refresh_signing_keys(headers, T2_BODY)
    with pytest.raises(WebhookVerificationError) as raised:
        live.provider.verify_webhook(headers, T2_BODY)
    assert raised.value.reason == "bad_signature"


async def test_t2_jku_not_on_the_allow_list_is_never_fetched() -> None:
    sandbox = TrueLayerHarness(environment="sandbox", webhook_path="/tl-webhook")
    sandbox.clock.advance((T2_SENT - sandbox.clock.now()).total_seconds())
    route = serve_jwks(sandbox, LIVE_JKU)
    await sandbox.provider.refresh_signing_keys(T2_HEADERS, T2_BODY)
    with pytest.raises(WebhookVerificationError) as raised:
        sandbox.provider.verify_webhook(T2_HEADERS, T2_BODY)
    assert raised.value.reason == "bad_signature"
    assert "not an allowed JWKS URL" in str(raised.value)
    assert route.call_count == 0
    await sandbox.client.aclose()


async def test_a_configured_allow_list_replaces_the_default() -> None:
    harness = TrueLayerHarness(
        environment="live", webhook_path="/tl-webhook", webhook_jwks_urls=[SANDBOX_JKU]
    )
    harness.clock.advance((T2_SENT - harness.clock.now()).total_seconds())
    route = serve_jwks(harness, LIVE_JKU)
    await harness.provider.refresh_signing_keys(T2_HEADERS, T2_BODY)
    with pytest.raises(WebhookVerificationError):
        harness.provider.verify_webhook(T2_HEADERS, T2_BODY)
    assert route.call_count == 0
    await harness.client.aclose()


@pytest.mark.parametrize(
    ("now", "accepted"),
    [
        (T2_SENT + timedelta(minutes=5), True),  # received 5 minutes later: the edge
        (T2_SENT + timedelta(minutes=5, seconds=1), False),
        (T2_SENT - timedelta(minutes=5), True),  # the sender's clock 5 minutes ahead
        (T2_SENT - timedelta(minutes=5, seconds=1), False),
    ],
)
async def test_t2_timestamp_window(now: datetime, accepted: bool) -> None:
    harness = TrueLayerHarness(environment="live", webhook_path="/tl-webhook")
    harness.clock.advance((now - harness.clock.now()).total_seconds())
    serve_jwks(harness, LIVE_JKU)
    await harness.provider.refresh_signing_keys(T2_HEADERS, T2_BODY)
    if accepted:
        harness.provider.verify_webhook(T2_HEADERS, T2_BODY)
    else:
        with pytest.raises(WebhookVerificationError) as raised:
            harness.provider.verify_webhook(T2_HEADERS, T2_BODY)
        assert raised.value.reason == "expired"
    await harness.client.aclose()


# -- the key cache --------------------------------------------------------------------------


async def test_keys_are_cached(live: TrueLayerHarness) -> None:
    route = serve_jwks(live, LIVE_JKU)
    for _ in range(3):
        await live.provider.refresh_signing_keys(T2_HEADERS, T2_BODY)
        live.provider.verify_webhook(T2_HEADERS, T2_BODY)
    assert route.call_count == 1


async def test_unknown_kid_triggers_one_refresh_then_fails(live: TrueLayerHarness) -> None:
    route = serve_jwks(live, LIVE_JKU)
    await live.provider.refresh_signing_keys(T2_HEADERS, T2_BODY)  # first fetch: T2's key
    stranger = new_key()
    body = FIXTURES.raw("webhooks/payment_executed.json")
    headers = webhook_headers(
        body,
        "2021-11-29T11:43:55Z",
        path="/tl-webhook",
        jku=LIVE_JKU,
        kid="kid-nobody-published",
        key=pem(stranger),
    )
    live.clock.advance(61)  # past the minimum interval between fetches
    await live.provider.refresh_signing_keys(headers, body)
    assert route.call_count == 2
    with pytest.raises(WebhookVerificationError) as raised:
        live.provider.verify_webhook(headers, body)
    assert raised.value.reason == "bad_signature"
    # a flood of unknown kids does not make us fetch again within the interval
    for _ in range(5):
        await live.provider.refresh_signing_keys(headers, body)
    assert route.call_count == 2


async def test_a_key_published_later_is_found_by_the_refresh(live: TrueLayerHarness) -> None:
    rotated = new_key()
    document = json.loads(JWKS)
    route = live.router.get(LIVE_JKU).mock(
        side_effect=[
            httpx.Response(200, json=document),
            httpx.Response(200, json={"keys": [*document["keys"], jwk(rotated, "kid-2")]}),
        ]
    )
    await live.provider.refresh_signing_keys(T2_HEADERS, T2_BODY)
    body = FIXTURES.raw("webhooks/payment_executed.json")
    headers = webhook_headers(
        body,
        "2021-11-29T11:44:55Z",
        path="/tl-webhook",
        jku=LIVE_JKU,
        kid="kid-2",
        key=pem(rotated),
    )
    live.clock.advance(120)
    await live.provider.refresh_signing_keys(headers, body)
    live.provider.verify_webhook(headers, body)
    assert route.call_count == 2


async def test_a_failed_fetch_is_not_retried_at_once(live: TrueLayerHarness) -> None:
    route = live.router.get(LIVE_JKU).mock(return_value=httpx.Response(503))
    await live.provider.refresh_signing_keys(T2_HEADERS, T2_BODY)
    with pytest.raises(WebhookVerificationError) as raised:
        live.provider.verify_webhook(T2_HEADERS, T2_BODY)
    assert raised.value.reason == "bad_signature"
    await live.provider.refresh_signing_keys(T2_HEADERS, T2_BODY)
    assert route.call_count == 1


# -- header rules ---------------------------------------------------------------------------


async def test_missing_signature(live: TrueLayerHarness) -> None:
    headers = {k: v for k, v in T2_HEADERS.items() if k != "Tl-Signature"}
    with pytest.raises(WebhookVerificationError) as raised:
        live.provider.verify_webhook(headers, T2_BODY)
    assert raised.value.reason == "missing_header"


async def test_legacy_header_name_and_any_casing(live: TrueLayerHarness) -> None:
    serve_jwks(live, LIVE_JKU)
    headers = {
        "x-tl-signature": T2,
        "x-tl-webhook-timestamp": "2021-11-29T11:42:55Z",
        "content-type": "application/json",
    }
    await live.provider.refresh_signing_keys(headers, T2_BODY)
    live.provider.verify_webhook(headers, T2_BODY)


async def test_missing_signed_timestamp(live: TrueLayerHarness) -> None:
    serve_jwks(live, LIVE_JKU)
    headers = {k: v for k, v in T2_HEADERS.items() if k != "X-Tl-Webhook-Timestamp"}
    await live.provider.refresh_signing_keys(headers, T2_BODY)
    with pytest.raises(WebhookVerificationError) as raised:
        live.provider.verify_webhook(headers, T2_BODY)
    assert raised.value.reason == "missing_header"


async def test_timestamp_must_be_signed(live: TrueLayerHarness) -> None:
    # a signature that leaves the timestamp out could be replayed with any timestamp
    serve_jwks(live, LIVE_JKU)
    body = FIXTURES.raw("webhooks/payment_executed.json")
    headers = webhook_headers(
        body, "2021-11-29T11:43:00Z", path="/tl-webhook", jku=LIVE_JKU, signed=("Content-Type",)
    )
    await live.provider.refresh_signing_keys(headers, body)
    with pytest.raises(WebhookVerificationError) as raised:
        live.provider.verify_webhook(headers, body)
    assert raised.value.reason == "malformed"


async def test_unparsable_timestamp(live: TrueLayerHarness) -> None:
    serve_jwks(live, LIVE_JKU)
    body = FIXTURES.raw("webhooks/payment_executed.json")
    headers = webhook_headers(body, "yesterday", path="/tl-webhook", jku=LIVE_JKU)
    await live.provider.refresh_signing_keys(headers, body)
    with pytest.raises(WebhookVerificationError) as raised:
        live.provider.verify_webhook(headers, body)
    assert raised.value.reason == "malformed"


async def test_default_path_is_the_gateway_receiver_of_the_account() -> None:
    harness = TrueLayerHarness(webhook_path=None)
    serve_jwks(harness, SANDBOX_JKU)
    body = FIXTURES.raw("webhooks/payment_executed.json")
    stamp = harness.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = webhook_headers(body, stamp, path="/v1/webhooks/truelayer/truelayer_test")
    await harness.provider.refresh_signing_keys(headers, body)
    harness.provider.verify_webhook(headers, body)
    assert WEBHOOK_PATH == "/v1/webhooks/truelayer/truelayer_test"
    await harness.client.aclose()


# -- events ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "kind", "reference"),
    [
        ("payment_authorized", EventKind.PENDING, "ecad2b93-efe9-4f25-b82d-920248a9c1ad"),
        ("payment_executed", EventKind.PENDING, "60c0a60ed8d7-4e5b-ac79-401b1d8a8633"),
        ("payment_settled", EventKind.CAPTURED, "9266727c-c67b-4862-899c-9286e129a6e8"),
        ("payment_failed", EventKind.FAILED, "9266727c-c67b-4862-899c-9286e129a6e8"),
        ("payment_expired", EventKind.CANCELED, "9266727c-c67b-4862-899c-9286e129a6e8"),
        ("refund_executed", EventKind.REFUND_SUCCEEDED, "dfb531ca-8e25-4753-bc23-0c7eeb8d4f29"),
        ("refund_failed", EventKind.REFUND_FAILED, "9266727c-c67b-4862-899c-9286e129a6e8"),
        ("payment_creditable", EventKind.UNHANDLED, None),
    ],
)
def test_events(fixture: str, kind: EventKind, reference: str | None) -> None:
    harness = TrueLayerHarness()
    [event] = harness.provider.parse_webhook({}, FIXTURES.raw(f"webhooks/{fixture}.json"))
    assert event.kind is kind
    assert event.provider_reference == reference
    assert event.event_id == json.loads(FIXTURES.raw(f"webhooks/{fixture}.json"))["event_id"]


def test_settled_event_carries_our_ids_and_time() -> None:
    harness = TrueLayerHarness()
    [event] = harness.provider.parse_webhook({}, FIXTURES.raw("webhooks/payment_settled.json"))
    assert event.payment_id == "pay_01JDGATEWAYHUBEXAMPLE0000"
    assert event.attempt_key == "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01"
    assert event.occurred_at == datetime(2021, 12, 25, 15, 0, 2, tzinfo=UTC)


def test_failed_event_carries_the_reason() -> None:
    harness = TrueLayerHarness()
    [event] = harness.provider.parse_webhook({}, FIXTURES.raw("webhooks/payment_failed.json"))
    assert event.decline is not None
    assert (event.decline.code, event.decline.provider_code) == (
        DeclineCode.AUTHENTICATION_REQUIRED,
        "authorization_failed",
    )


def test_refund_event_ids() -> None:
    harness = TrueLayerHarness()
    [event] = harness.provider.parse_webhook({}, FIXTURES.raw("webhooks/refund_failed.json"))
    assert event.refund_reference == "38c76ba95-322f-46a9-b754-***"
    assert event.refund_id == "rfd_01JDGATEWAYHUBEXAMPLE0000"
    assert event.attempt_key == "0b4f5c8e-3d2a-5f1e-9c7b-1a2b3c4d5e6f"
    assert event.decline is not None
    assert event.decline.code is DeclineCode.INSUFFICIENT_FUNDS


def test_unreadable_body_is_malformed() -> None:
    harness = TrueLayerHarness()
    with pytest.raises(WebhookVerificationError) as raised:
        harness.provider.parse_webhook({}, T2_BODY)  # T2's body has no `type`
    assert raised.value.reason == "malformed"
