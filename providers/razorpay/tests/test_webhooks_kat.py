"""Known-answer tests with Razorpay's published vectors (R1-R4, see SOURCES.md), negative and
boundary cases of webhook verification, and the events each documented payload becomes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from gatewayhub.errors import DeclineCode
from gatewayhub.models import EventKind
from gatewayhub.money import Money
from gatewayhub.provider import WebhookVerificationError
from gatewayhub_razorpay import signatures

from .harness import FIXTURES, SECRET_NEW, SECRET_OLD, RazorpayHarness, sign

VECTORS = Path(__file__).parent / "vectors"
R4_BODY = (VECTORS / "razorpay_fake_payment_authorized_webhook.json").read_bytes()
R4_SIGNATURE = "d60e67fd884556c045e9be7dad57903e33efc7172c17c6e3ef77db42d2b366e9"
R4_CREATED = datetime.fromtimestamp(1400826760, UTC)  # the vector body's `created_at`


def vectors() -> list[dict[str, Any]]:
    return list(json.loads((VECTORS / "razorpay_callback_signatures.json").read_text())["vectors"])


def vector(vector_id: str) -> dict[str, Any]:
    return next(v for v in vectors() if v["id"] == vector_id)


@pytest.fixture
async def r4() -> AsyncIterator[RazorpayHarness]:
    """An account whose webhook secret is R4's, with the clock a minute after the event."""
    harness = RazorpayHarness(webhook_secrets=[SecretStr("key_secret")])
    harness.clock.advance((R4_CREATED + timedelta(minutes=1) - harness.clock.now()).total_seconds())
    yield harness
    await harness.client.aclose()


# -- the vectors ----------------------------------------------------------------------------


def test_r4_vector_file_is_byte_identical() -> None:
    assert len(R4_BODY) == 971
    assert hashlib.sha256(R4_BODY).hexdigest() == vector("R4")["body_sha256"]


def test_r1_payment_signature() -> None:
    v = vector("R1")
    fields = v["fields"]
    assert signatures.verify_payment_signature(
        v["secret"], fields["razorpay_order_id"], fields["razorpay_payment_id"], v["signature"]
    )
    assert signatures.hmac_hex(v["secret"], v["message"].encode()) == v["signature"]


def test_r2_subscription_signature() -> None:
    v = vector("R2")
    fields = v["fields"]
    assert signatures.verify_subscription_signature(
        v["secret"],
        fields["razorpay_payment_id"],
        fields["razorpay_subscription_id"],
        v["signature"],
    )


def test_r3_payment_link_signature() -> None:
    v = vector("R3")
    f = v["fields"]
    assert signatures.verify_payment_link_signature(
        v["secret"],
        f["payment_link_id"],
        f["payment_link_reference_id"],
        f["payment_link_status"],
        f["razorpay_payment_id"],
        v["signature"],
    )


def test_r4_webhook_signature(r4: RazorpayHarness) -> None:
    assert signatures.webhook_signature_matches("key_secret", R4_BODY, R4_SIGNATURE)
    r4.provider.verify_webhook({"X-Razorpay-Signature": R4_SIGNATURE}, R4_BODY)


def test_r1_through_the_adapter_with_its_key_secret() -> None:
    harness = RazorpayHarness(key_secret=SecretStr("key_secret"))
    v = vector("R1")
    assert harness.provider.verify_payment_signature(
        "fake_order_id", "fake_payment_id", v["signature"]
    )
    assert not harness.provider.verify_payment_signature(
        "fake_payment_id", "fake_order_id", v["signature"]
    )


# -- negative cases of the callback signatures ----------------------------------------------


@pytest.mark.parametrize(
    ("secret", "order_id", "payment_id", "signature"),
    [
        ("key_secret", "fake_payment_id", "fake_order_id", None),  # fields swapped
        ("key_secret", "fake_order_id", "fake_payment_id ", None),  # trailing space
        ("other_secret", "fake_order_id", "fake_payment_id", None),  # wrong secret
        ("key_secret", "fake_order_id", "fake_payment_id", "B2335E3B"),  # truncated, upper
        ("key_secret", "fake_order_id", "fake_payment_id", ""),
        ("key_secret", "fake_order_id", "fake_payment_id", "é" * 64),  # non-ASCII input
    ],
)
def test_payment_signature_rejections(
    secret: str, order_id: str, payment_id: str, signature: str | None
) -> None:
    given = signature if signature is not None else vector("R1")["signature"]
    assert not signatures.verify_payment_signature(secret, order_id, payment_id, given)


# -- webhook verification: negative and boundary cases --------------------------------------


def test_r4_tampered_body_is_rejected(r4: RazorpayHarness) -> None:
    tampered = R4_BODY.replace(b'"amount": 1000000', b'"amount": 1000001')
    assert tampered != R4_BODY
    with pytest.raises(WebhookVerificationError) as raised:
        r4.provider.verify_webhook({"X-Razorpay-Signature": R4_SIGNATURE}, tampered)
    assert raised.value.reason == "bad_signature"


def test_r4_reserialized_body_is_rejected(r4: RazorpayHarness) -> None:
    # The signature covers the raw bytes: parsed-and-dumped JSON is a different message.
    reserialized = json.dumps(json.loads(R4_BODY)).encode()
    with pytest.raises(WebhookVerificationError):
        r4.provider.verify_webhook({"X-Razorpay-Signature": R4_SIGNATURE}, reserialized)


def test_r4_with_the_api_key_secret_of_another_account_is_rejected() -> None:
    harness = RazorpayHarness()  # webhook secrets are not "key_secret"
    harness.clock.advance((R4_CREATED - harness.clock.now()).total_seconds() + 60)
    with pytest.raises(WebhookVerificationError) as raised:
        harness.provider.verify_webhook({"X-Razorpay-Signature": R4_SIGNATURE}, R4_BODY)
    assert raised.value.reason == "bad_signature"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing_header"),
        ({"X-Razorpay-Signature": R4_SIGNATURE.upper()}, "malformed"),
        ({"X-Razorpay-Signature": R4_SIGNATURE[:-2]}, "malformed"),
        ({"X-Razorpay-Signature": "sha256=" + R4_SIGNATURE}, "malformed"),
    ],
)
def test_r4_bad_headers(r4: RazorpayHarness, headers: dict[str, str], reason: str) -> None:
    with pytest.raises(WebhookVerificationError) as raised:
        r4.provider.verify_webhook(headers, R4_BODY)
    assert raised.value.reason == reason


def test_header_name_is_case_insensitive(r4: RazorpayHarness) -> None:
    r4.provider.verify_webhook({"x-razorpay-signature": R4_SIGNATURE}, R4_BODY)


def test_rotation_accepts_old_and_new_secrets() -> None:
    harness = RazorpayHarness()
    body = FIXTURES.raw("webhooks/payment_captured.json")
    created = datetime.fromtimestamp(1567674606, UTC)
    harness.clock.advance((created - harness.clock.now()).total_seconds() + 60)
    for secret in (SECRET_NEW, SECRET_OLD):
        harness.provider.verify_webhook({"X-Razorpay-Signature": sign(secret, body)}, body)


@pytest.mark.parametrize(
    ("age", "accepted"),
    [
        (timedelta(hours=25), True),  # the window's edge: Razorpay retries for 24 hours
        (timedelta(hours=25, seconds=1), False),
        (timedelta(minutes=-5), True),  # a sender's clock a little ahead
        (timedelta(minutes=-5, seconds=-1), False),
    ],
)
def test_event_age_window(age: timedelta, accepted: bool) -> None:
    harness = RazorpayHarness(webhook_secrets=[SecretStr("key_secret")])
    harness.clock.advance((R4_CREATED + age - harness.clock.now()).total_seconds())
    headers = {"X-Razorpay-Signature": R4_SIGNATURE}
    if accepted:
        harness.provider.verify_webhook(headers, R4_BODY)
    else:
        with pytest.raises(WebhookVerificationError) as raised:
            harness.provider.verify_webhook(headers, R4_BODY)
        assert raised.value.reason == "expired"


def test_age_check_can_be_turned_off() -> None:
    harness = RazorpayHarness(
        webhook_secrets=[SecretStr("key_secret")], webhook_max_age_seconds=None
    )
    # the clock is five years after the event
    harness.provider.verify_webhook({"X-Razorpay-Signature": R4_SIGNATURE}, R4_BODY)


def test_signed_garbage_is_malformed(r4: RazorpayHarness) -> None:
    body = b'{"entity": "event"'
    with pytest.raises(WebhookVerificationError) as raised:
        r4.provider.verify_webhook({"X-Razorpay-Signature": sign("key_secret", body)}, body)
    assert raised.value.reason == "malformed"


# -- events ---------------------------------------------------------------------------------


def test_r4_event(r4: RazorpayHarness) -> None:
    headers = {"X-Razorpay-Signature": R4_SIGNATURE, "X-Razorpay-Event-Id": "HaVuk5ZfGqWnEk"}
    [event] = r4.provider.parse_webhook(headers, R4_BODY)
    assert event.event_id == "HaVuk5ZfGqWnEk"
    assert event.kind is EventKind.AUTHORIZED  # by the event type, not the snapshot's status
    assert event.provider_reference == "order_100000000order"
    assert event.money == Money(1000000, "INR")
    assert event.occurred_at == R4_CREATED


def test_event_id_falls_back_to_a_body_digest(r4: RazorpayHarness) -> None:
    [event] = r4.provider.parse_webhook({}, R4_BODY)
    assert event.event_id == (
        "sha256:9cc0236491299f34a154292eaed46d94b010f44b22095c034f884ca6a1862bef"
    )


@pytest.mark.parametrize(
    ("fixture", "kind", "reference", "money", "captured"),
    [
        ("payment_authorized", EventKind.AUTHORIZED, "order_DESlLckIVRkHWj", 100, None),
        ("payment_captured", EventKind.CAPTURED, "order_DESlLckIVRkHWj", 100, 100),
        ("payment_failed", EventKind.PENDING, "order_DEATVTRRctwEGb", 50000, None),
        ("order_paid", EventKind.CAPTURED, "order_DESlLckIVRkHWj", 100, 100),
    ],
)
def test_payment_events(
    fixture: str, kind: EventKind, reference: str, money: int, captured: int | None
) -> None:
    harness = RazorpayHarness()
    [event] = harness.provider.parse_webhook(
        {"X-Razorpay-Event-Id": "evt_1"}, FIXTURES.raw(f"webhooks/{fixture}.json")
    )
    assert event.kind is kind
    assert event.provider_reference == reference
    assert event.money == Money(money, "INR")
    assert event.captured == (Money(captured, "INR") if captured is not None else None)


def test_payment_failed_carries_the_reason_but_keeps_the_order_open() -> None:
    harness = RazorpayHarness()
    [event] = harness.provider.parse_webhook({}, FIXTURES.raw("webhooks/payment_failed.json"))
    assert event.kind is EventKind.PENDING
    assert event.decline is not None
    assert (event.decline.code, event.decline.provider_code) == (
        DeclineCode.GENERIC_DECLINE,
        "payment_failed",
    )
    assert event.decline.message == ("Payment failed (source: bank, step: payment_authorization)")


@pytest.mark.parametrize(
    ("fixture", "kind"),
    [("refund_processed", EventKind.REFUND_SUCCEEDED), ("refund_failed", EventKind.REFUND_FAILED)],
)
def test_refund_events(fixture: str, kind: EventKind) -> None:
    harness = RazorpayHarness()
    [event] = harness.provider.parse_webhook({}, FIXTURES.raw(f"webhooks/{fixture}.json"))
    assert event.kind is kind
    assert event.provider_reference == "order_DESlLckIVRkHWj"
    assert event.refund_reference == "rfnd_FP8DDKxqJif6ca"
    assert event.refund_id == "rfd_01JDGATEWAYHUBEXAMPLE0000"
    assert event.payment_id == "pay_01JDGATEWAYHUBEXAMPLE0000"
    assert event.attempt_key == "0b4f5c8e-3d2a-5f1e-9c7b-1a2b3c4d5e6f"
    assert event.money == Money(100, "INR")


def test_unknown_event_is_unhandled() -> None:
    harness = RazorpayHarness()
    [event] = harness.provider.parse_webhook(
        {}, FIXTURES.raw("webhooks/payment_downtime_started.json")
    )
    assert event.kind is EventKind.UNHANDLED
    assert event.raw_type == "payment.downtime.started"
