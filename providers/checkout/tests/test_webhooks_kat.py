"""Cko-Signature: the shared known-answer vector, then negative and boundary cases."""

from __future__ import annotations

import pytest

from gatewayhub.models import EventKind
from gatewayhub.provider import WebhookVerificationError
from gatewayhub_checkout import webhooks

from .harness import CHECKOUT_VECTOR, FIXTURES, OLD_SIGNATURE_KEY, sign

KEY = CHECKOUT_VECTOR["signature_key"]
BODY = CHECKOUT_VECTOR["body"].encode()
EXPECTED = CHECKOUT_VECTOR["expected_cko_signature"]


def test_vector_is_the_documented_one() -> None:
    # Pinned from ../shared/providers/vectors/core6_webhook_vectors.json (copied byte-exact).
    assert KEY == "cko_test_signature_key"
    assert EXPECTED == "0481b137d1aa862843917feccc1c290dcba67cd1f35b0055326afc355e7f1a3c"


def test_signature_known_answer() -> None:
    assert webhooks.signature(KEY, BODY) == EXPECTED


def test_vector_verifies() -> None:
    webhooks.verify([KEY], {"Cko-Signature": EXPECTED}, BODY)


def test_vector_parses() -> None:
    [event] = webhooks.parse(BODY)
    assert (event.event_id, event.kind, event.provider_reference) == (
        "evt_test",
        EventKind.CAPTURED,
        "pay_test",
    )


def test_upper_case_hex_and_header_case_are_accepted() -> None:
    webhooks.verify([KEY], {"cko-signature": EXPECTED.upper()}, BODY)


def test_rotated_secret_accepted() -> None:
    webhooks.verify([OLD_SIGNATURE_KEY, KEY], {"Cko-Signature": EXPECTED}, BODY)


@pytest.mark.parametrize(
    ("secrets", "headers", "body", "reason"),
    [
        ([KEY], {"Cko-Signature": EXPECTED}, BODY.replace(b"1000", b"1001"), "bad_signature"),
        ([KEY], {"Cko-Signature": EXPECTED}, BODY + b"\n", "bad_signature"),  # one byte more
        ([KEY], {"Cko-Signature": EXPECTED}, BODY.replace(b":", b": ", 1), "bad_signature"),
        (["cko_test_signature_kex"], {"Cko-Signature": EXPECTED}, BODY, "bad_signature"),
        ([OLD_SIGNATURE_KEY], {"Cko-Signature": EXPECTED}, BODY, "bad_signature"),
        ([KEY], {}, BODY, "missing_header"),
        ([KEY], {"Cko-Signature": EXPECTED[:-1]}, BODY, "malformed"),
        ([KEY], {"Cko-Signature": "sha256=" + EXPECTED}, BODY, "malformed"),
        ([KEY], {"Cko-Signature": ""}, BODY, "malformed"),
    ],
)
def test_rejected(secrets: list[str], headers: dict[str, str], body: bytes, reason: str) -> None:
    with pytest.raises(WebhookVerificationError) as raised:
        webhooks.verify(secrets, headers, body)
    assert raised.value.reason == reason


def test_authorization_header_checked_when_configured() -> None:
    headers = {"Cko-Signature": EXPECTED, "Authorization": "Basic d2ViaG9vazpmYWtl"}
    webhooks.verify([KEY], headers, BODY, authorization="Basic d2ViaG9vazpmYWtl")
    with pytest.raises(WebhookVerificationError) as wrong:
        webhooks.verify([KEY], headers, BODY, authorization="Basic b3RoZXI6ZmFrZQ==")
    assert wrong.value.reason == "bad_signature"
    with pytest.raises(WebhookVerificationError) as missing:
        webhooks.verify([KEY], {"Cko-Signature": EXPECTED}, BODY, authorization="x")
    assert missing.value.reason == "missing_header"


def test_fixture_bodies_sign_as_stored() -> None:
    body = FIXTURES.raw("webhooks/payment_approved.json")
    webhooks.verify([KEY], {"Cko-Signature": sign(KEY, body)}, body)


def test_signed_garbage_is_malformed() -> None:
    body = b'{"id": "evt_x"'
    webhooks.verify([KEY], {"Cko-Signature": sign(KEY, body)}, body)
    with pytest.raises(WebhookVerificationError) as raised:
        webhooks.parse(body)
    assert raised.value.reason == "malformed"
