"""Adyen notification HMAC known-answer tests, with negative and boundary cases.

The vectors are `vectors/core6_webhook_vectors.json`, a byte-identical copy of
../shared/providers/vectors/core6_webhook_vectors.json (see SOURCES.md): keys, items and
signatures published in Adyen's adyen-python-api-library tests (UtilTest.py and
test/mocks/util/*_notification.json), including references with ':' and '\\'.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from gatewayhub.models import EventKind
from gatewayhub.provider import WebhookVerificationError
from gatewayhub_adyen.webhooks import item_signature, signing_string, verify

from .harness import HMAC_NEW, HMAC_OLD, HMAC_OTHER, AdyenHarness, signed_body

VECTORS = json.loads((Path(__file__).parent / "vectors/core6_webhook_vectors.json").read_bytes())
ITEMS = [v for v in VECTORS["vectors"] if v.get("kind") == "notification_item_hmac"]


def body_of(*items: dict[str, Any], live: str = "false") -> bytes:
    return json.dumps(
        {"live": live, "notificationItems": [{"NotificationRequestItem": i} for i in items]}
    ).encode()


def with_signature(vector: dict[str, Any]) -> dict[str, Any]:
    item = copy.deepcopy(vector["item"])
    item["additionalData"] = {"hmacSignature": vector["expected"]}
    return item


def test_there_are_adyen_vectors() -> None:
    assert len(ITEMS) == 5


@pytest.mark.parametrize("vector", ITEMS, ids=lambda v: v["item"]["pspReference"])
def test_known_answer(vector: dict[str, Any]) -> None:
    if "signing_string" in vector:
        assert signing_string(vector["item"]) == vector["signing_string"]
    assert item_signature(vector["hmac_key_hex"], vector["item"]) == vector["expected"]
    verify([vector["hmac_key_hex"]], body_of(with_signature(vector)))


def test_known_answer_references_are_signed_verbatim() -> None:
    # ':' and '\' inside merchantReference are not escaped (the mixed_notification vector)
    mixed = next(v for v in ITEMS if v["item"]["pspReference"] == "ZVWN7D3WSMK2WN82")
    assert signing_string(mixed["item"]) == (
        "ZVWN7D3WSMK2WN82::AntoniStroinski:\\:/\\/slashes are fun:1000:EUR:AUTHORISATION:true"
    )


VECTOR = ITEMS[0]
KEY = VECTOR["hmac_key_hex"]
GOOD = with_signature(VECTOR)


def changed(**fields: Any) -> dict[str, Any]:
    item = copy.deepcopy(GOOD)
    item.update(fields)
    return item


@pytest.mark.parametrize(
    ("body", "keys", "reason"),
    [
        # tampered: amount, reference, outcome
        (body_of(changed(amount={"currency": "EUR", "value": 1131})), [KEY], "bad_signature"),
        (body_of(changed(merchantReference="TestPayment-1407325143705")), [KEY], "bad_signature"),
        (body_of(changed(success="false")), [KEY], "bad_signature"),
        # wrong key
        (body_of(GOOD), [HMAC_OTHER], "bad_signature"),
        # missing signature
        (body_of(changed(additionalData={})), [KEY], "missing_header"),
        (body_of(changed(additionalData={"hmacSignature": ""})), [KEY], "missing_header"),
        # a batch with one bad item is refused whole, whichever position it has
        (body_of(GOOD, changed(pspReference="7914073381342285")), [KEY], "bad_signature"),
        (body_of(changed(pspReference="7914073381342285"), GOOD), [KEY], "bad_signature"),
        (body_of(GOOD, changed(additionalData={})), [KEY], "missing_header"),
        # shapes that are not Adyen notifications
        (b"not json", [KEY], "malformed"),
        (b'{"live": "false", "notificationItems": []}', [KEY], "malformed"),
        (b'{"live": "false", "notificationItems": [{"Item": {}}]}', [KEY], "malformed"),
        (body_of(changed(amount={"currency": "EUR", "value": True})), [KEY], "malformed"),
        # no key configured
        (body_of(GOOD), [], "unsupported"),
    ],
)  # fmt: skip
def test_rejected(body: bytes, keys: list[str], reason: str) -> None:
    with pytest.raises(WebhookVerificationError) as raised:
        verify(keys, body)
    assert raised.value.reason == reason


def test_rotation_accepts_either_key() -> None:
    verify([HMAC_OTHER, KEY], body_of(GOOD))
    verify([KEY, HMAC_OTHER], body_of(GOOD))


def test_a_batch_signed_under_both_rotation_keys() -> None:
    other = ITEMS[1]  # signed with the second published key
    verify([KEY, other["hmac_key_hex"]], body_of(GOOD, with_signature(other)))


def test_keys_are_hex_in_either_case() -> None:
    verify([KEY.lower()], body_of(GOOD))


def test_live_flag_must_match_the_environment() -> None:
    verify([KEY], body_of(GOOD, live="false"), live=False)
    with pytest.raises(WebhookVerificationError) as raised:
        verify([KEY], body_of(GOOD, live="true"), live=False)
    assert raised.value.reason == "unsupported"


def test_no_timestamp_in_the_scheme_old_events_still_verify() -> None:
    # Adyen retries for up to 30 days; dedupe on pspReference/eventCode/success guards replays.
    verify([KEY], body_of(changed(eventDate="2014-08-06T13:39:03+02:00")))


async def test_adapter_verifies_parses_and_acknowledges() -> None:
    harness = AdyenHarness()
    for key in (HMAC_NEW, HMAC_OLD):
        _, body = signed_body(["AUTHORISATION", "CAPTURE", "REFUND"], key)
        harness.provider.verify_webhook({}, body)
        events = harness.provider.parse_webhook({}, body)
        assert [e.kind for e in events] == [
            EventKind.AUTHORIZED,
            EventKind.CAPTURED,
            EventKind.REFUND_FAILED,
        ]
        ack = harness.provider.webhook_ack(events)
        assert (ack.status_code, ack.body) == (200, b"[accepted]")
    await harness.client.aclose()
