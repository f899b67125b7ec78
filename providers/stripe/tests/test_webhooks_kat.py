"""Stripe-Signature known-answer tests, with negative and boundary cases.

The vectors are `vectors/core6_webhook_vectors.json`, a byte-identical copy of
../shared/providers/vectors/core6_webhook_vectors.json (see SOURCES.md): inputs seen in
stripe-python's tests/test_webhook.py, expected values derived with the SDK's algorithm.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gatewayhub.provider import WebhookVerificationError
from gatewayhub_stripe.webhooks import expected_signature, parse, verify

from .harness import FIXTURES, WHSEC_NEW, WHSEC_OLD, StripeHarness, sign

VECTORS = json.loads((Path(__file__).parent / "vectors/core6_webhook_vectors.json").read_bytes())
STRIPE = [v for v in VECTORS["vectors"] if v["provider"] == "stripe"]
# From the Stripe sheet (../shared/providers/stripe.md, section 9): a compact event body.
COMPACT_BODY = (
    b'{"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":'
    b'{"id":"pi_1","object":"payment_intent","amount":2000,"currency":"usd","status":"succeeded"}}}'
)
COMPACT_V1 = "c4229f74f0e434615cb5b474ec6b22db2dbafbe332ce698cc5ba09eb426640a8"


def at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def test_there_are_stripe_vectors() -> None:
    assert len(STRIPE) == 2


@pytest.mark.parametrize("vector", STRIPE, ids=lambda v: str(v["timestamp"]))
def test_known_answer(vector: dict[str, Any]) -> None:
    body = vector["payload"].encode()
    expected = vector["header"].split("v1=")[1]
    assert expected_signature(vector["secret"], vector["timestamp"], body) == expected
    headers = {"Stripe-Signature": vector["header"]}
    assert verify([vector["secret"]], headers, body, at(vector["timestamp"])) == vector["timestamp"]


def test_known_answer_compact_body() -> None:
    headers = {"Stripe-Signature": f"t=1700000000,v1={COMPACT_V1}"}
    verify(["whsec_test_secret"], headers, COMPACT_BODY, at(1700000000))


VECTOR = STRIPE[1]  # t=1700000000
BODY = VECTOR["payload"].encode()
T = VECTOR["timestamp"]
GOOD = VECTOR["header"].split("v1=")[1]


@pytest.mark.parametrize(
    ("headers", "body", "secrets", "now", "reason"),
    [
        # tampered body: one character changed
        ({"Stripe-Signature": VECTOR["header"]}, BODY.replace(b"rdr_123", b"rdr_124"),
         ["whsec_test_secret"], T, "bad_signature"),
        # wrong secret
        ({"Stripe-Signature": VECTOR["header"]}, BODY, ["whsec_not_the_secret"], T,
         "bad_signature"),
        # expired: one second past the 300 s tolerance
        ({"Stripe-Signature": VECTOR["header"]}, BODY, ["whsec_test_secret"], T + 301,
         "expired"),
        # missing header
        ({}, BODY, ["whsec_test_secret"], T, "missing_header"),
        ({"Stripe-Signature": ""}, BODY, ["whsec_test_secret"], T, "missing_header"),
        # header without a timestamp (SDK: parse error)
        ({"Stripe-Signature": f"v1={GOOD}"}, BODY, ["whsec_test_secret"], T, "malformed"),
        ({"Stripe-Signature": f"t=abc,v1={GOOD}"}, BODY, ["whsec_test_secret"], T, "malformed"),
        ({"Stripe-Signature": f"t={T},v1"}, BODY, ["whsec_test_secret"], T, "malformed"),
        # only a v0 signature (SDK: no signatures with expected scheme)
        ({"Stripe-Signature": f"t={T},v0={GOOD}"}, BODY, ["whsec_test_secret"], T,
         "bad_signature"),
        # the signature of another timestamp
        ({"Stripe-Signature": f"t={T + 1},v1={GOOD}"}, BODY, ["whsec_test_secret"], T,
         "bad_signature"),
        # no secret configured
        ({"Stripe-Signature": VECTOR["header"]}, BODY, [], T, "unsupported"),
    ],
)  # fmt: skip
def test_rejected(
    headers: dict[str, str], body: bytes, secrets: list[str], now: int, reason: str
) -> None:
    with pytest.raises(WebhookVerificationError) as raised:
        verify(secrets, headers, body, at(now))
    assert raised.value.reason == reason


@pytest.mark.parametrize(
    ("header", "secrets", "now"),
    [
        # exactly at the tolerance boundary: still accepted
        (VECTOR["header"], ["whsec_test_secret"], T + 300),
        # a bad v1 next to the good one (SDK: still valid), in either order
        (f"t={T},v1={'0' * 64},v1={GOOD}", ["whsec_test_secret"], T),
        (f"t={T},v1={GOOD},v1={'0' * 64},v0=ignored", ["whsec_test_secret"], T),
        # rotation: the signing secret is the second configured one
        (VECTOR["header"], ["whsec_new_secret_not_yet_used", "whsec_test_secret"], T),
        # like the SDK, a timestamp ahead of our clock is not refused
        (VECTOR["header"], ["whsec_test_secret"], T - 3600),
    ],
)
def test_accepted(header: str, secrets: list[str], now: int) -> None:
    verify(secrets, {"stripe-signature": header}, BODY, at(now))


def test_tolerance_zero_disables_the_age_check() -> None:
    verify(["whsec_test_secret"], {"Stripe-Signature": VECTOR["header"]}, BODY, at(T + 10**6), 0)


async def test_adapter_verifies_with_its_clock_and_secrets() -> None:
    harness = StripeHarness()
    now = int(harness.clock.now().timestamp())
    body = FIXTURES.raw("webhooks/payment_intent.succeeded.json")
    for secret in (WHSEC_NEW, WHSEC_OLD):
        harness.provider.verify_webhook(
            {"Stripe-Signature": f"t={now},v1={sign(secret, now, body)}"}, body
        )
    stale = now - 301
    with pytest.raises(WebhookVerificationError) as raised:
        harness.provider.verify_webhook(
            {"Stripe-Signature": f"t={stale},v1={sign(WHSEC_NEW, stale, body)}"}, body
        )
    assert raised.value.reason == "expired"
    await harness.client.aclose()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "malformed"),
        (b'{"id": "evt_1", "object": "v2.core.event", "type": "v1.billing.meter.error"}',
         "unsupported"),
        (b'{"id": "evt_1", "object": "event"}', "malformed"),
    ],
)  # fmt: skip
def test_unparseable_events(body: bytes, reason: str) -> None:
    with pytest.raises(WebhookVerificationError) as raised:
        parse(body)
    assert raised.value.reason == reason


async def test_a_live_event_is_refused_by_a_test_account() -> None:
    harness = StripeHarness()
    with pytest.raises(WebhookVerificationError):
        harness.provider.parse_webhook({}, FIXTURES.raw("webhooks/live_mode.json"))
    await harness.client.aclose()
