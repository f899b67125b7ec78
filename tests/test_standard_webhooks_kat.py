"""Standard Webhooks signatures against the published vectors (tests/vectors, copied verbatim
from ../shared/providers/vectors/standard_webhooks_vectors.json)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gatewayhub.provider import WebhookVerificationError
from gatewayhub.webhooks import standard

VECTORS = {
    v["id"]: v
    for v in json.loads(
        (Path(__file__).parent / "vectors" / "standard_webhooks_vectors.json").read_text()
    )["vectors"]
}
SIGN = VECTORS["stdwh-v1-sign-1"]
AT = datetime.fromtimestamp(SIGN["webhook_timestamp"], UTC)


def headers(signature: str) -> dict[str, str]:
    return {
        "webhook-id": SIGN["webhook_id"],
        "webhook-timestamp": str(SIGN["webhook_timestamp"]),
        "webhook-signature": signature,
    }


def test_signature_matches_the_vector() -> None:
    made = standard.sign_headers(
        SIGN["secret"], SIGN["webhook_id"], SIGN["webhook_timestamp"], SIGN["body"].encode()
    )
    assert made["webhook-signature"] == SIGN["expected_signature_header"]


def test_vector_verifies_and_the_altered_one_does_not() -> None:
    body = SIGN["body"].encode()
    standard.verify([SIGN["secret"]], headers(SIGN["expected_signature_header"]), body, AT)
    with pytest.raises(WebhookVerificationError) as raised:
        standard.verify(
            [SIGN["secret"]], headers(VECTORS["stdwh-v1-invalid-1"]["signature_header"]), body, AT
        )
    assert raised.value.reason == "bad_signature"


def test_secret_forms_with_and_without_padding_or_prefix() -> None:
    padding = VECTORS["stdwh-secret-padding"]
    for key in (
        "secrets_needing_no_padding",
        "secrets_needing_one_pad",
        "secrets_needing_two_pads",
    ):
        for secret in padding[key]:
            assert standard.secret_bytes(secret) == standard.secret_bytes("whsec_" + secret)


@pytest.mark.parametrize("stamp", VECTORS["stdwh-bad-timestamps"]["timestamps"])
def test_bad_timestamps_cannot_be_signed(stamp: str) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        standard.signature(SIGN["secret"], "msg_1", stamp, b"{}")


def test_tampered_body_wrong_secret_and_missing_header() -> None:
    good = headers(SIGN["expected_signature_header"])
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        standard.verify([SIGN["secret"]], good, SIGN["body"].encode() + b" ", AT)
    with pytest.raises(WebhookVerificationError):
        standard.verify(["whsec_" + "QUJD" * 8], good, SIGN["body"].encode(), AT)
    for name in good:
        partial = {k: v for k, v in good.items() if k != name}
        with pytest.raises(WebhookVerificationError) as raised:
            standard.verify([SIGN["secret"]], partial, SIGN["body"].encode(), AT)
        assert raised.value.reason == "missing_header"


def test_tolerance_on_both_sides() -> None:
    good = headers(SIGN["expected_signature_header"])
    body = SIGN["body"].encode()
    stamp = SIGN["webhook_timestamp"]
    standard.verify([SIGN["secret"]], good, body, datetime.fromtimestamp(stamp + 300, UTC))
    standard.verify([SIGN["secret"]], good, body, datetime.fromtimestamp(stamp - 300, UTC))
    for at in (stamp + 301, stamp - 301):
        with pytest.raises(WebhookVerificationError) as raised:
            standard.verify([SIGN["secret"]], good, body, datetime.fromtimestamp(at, UTC))
        assert raised.value.reason == "expired"


def test_rotation_and_several_signatures() -> None:
    body = SIGN["body"].encode()
    several = headers(f"v1,AAAA v1a,xyz {SIGN['expected_signature_header']}")
    standard.verify(["whsec_" + "QUJD" * 8, SIGN["secret"]], several, body, AT)
