"""Known-answer tests of `Tl-Signature` request signing with TrueLayer's published vector T1
(truelayer-signing test-resources), and its traps: raw r||s, no unencoded payload.

ECDSA is randomized, so the signer is tested by round trip: its output must verify, with
`cryptography` directly, over the exact signing input T1's rules define."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from jwt import api_jws

from gatewayhub_truelayer import signing

from .harness import KID, PRIVATE_PEM, PUBLIC_PEM, VECTORS, b64url, new_key

T1 = (VECTORS / "truelayer_tl-signature.txt").read_text().strip()
T1_PATH = "/merchant_accounts/a61acaef-ee05-4077-92f3-25543a11bd8d/sweeping"
T1_KEY = "idemp-2076717c-9005-4811-a321-9e0787fa0382"
T1_BODY = b'{"currency":"GBP","max_amount_in_minor":5000000,"name":"Foo???"}'
# The payload T1 signs, written out by hand from request-signing-v2.md.
T1_PAYLOAD = (
    b"POST /merchant_accounts/a61acaef-ee05-4077-92f3-25543a11bd8d/sweeping\n"
    b"Idempotency-Key: idemp-2076717c-9005-4811-a321-9e0787fa0382\n"
    b'{"currency":"GBP","max_amount_in_minor":5000000,"name":"Foo???"}'
)


def _public_key() -> ec.EllipticCurvePublicKey:
    key = serialization.load_pem_public_key(PUBLIC_PEM)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


PUBLIC_KEY = _public_key()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_independently(tl_signature: str, payload: bytes) -> None:
    """ES512 verification with `cryptography` alone: raw r||s -> DER, over
    b64url(header) + "." + b64url(payload)."""
    header, middle, raw = tl_signature.split(".")
    assert middle == ""
    signature = unb64(raw)
    assert len(signature) == 132
    der = encode_dss_signature(
        int.from_bytes(signature[:66], "big"), int.from_bytes(signature[66:], "big")
    )
    signing_input = f"{header}.{b64url(payload)}".encode()
    PUBLIC_KEY.verify(der, signing_input, ec.ECDSA(hashes.SHA512()))


def test_t1_payload_is_built_as_specified() -> None:
    payload = signing.signing_payload("post", T1_PATH, [("Idempotency-Key", T1_KEY)], T1_BODY)
    assert payload == T1_PAYLOAD


def test_t1_verifies_independently() -> None:
    verify_independently(T1, T1_PAYLOAD)


def test_t1_verifies_with_the_adapter() -> None:
    header = signing.verify(T1, PUBLIC_KEY, "POST", T1_PATH, {"Idempotency-Key": T1_KEY}, T1_BODY)
    assert header == {
        "alg": "ES512",
        "kid": KID,
        "tl_version": "2",
        "tl_headers": "Idempotency-Key",
    }


def test_signer_header_is_byte_identical_to_t1() -> None:
    ours = signing.sign_request(
        PRIVATE_PEM, KID, "POST", T1_PATH, [("Idempotency-Key", T1_KEY)], T1_BODY
    )
    assert ours.split(".")[0] == T1.split(".")[0]
    assert json.loads(unb64(ours.split(".")[0])) == {
        "alg": "ES512",
        "kid": KID,
        "tl_version": "2",
        "tl_headers": "Idempotency-Key",
    }


def test_signer_output_verifies_over_the_t1_input() -> None:
    ours = signing.sign_request(
        PRIVATE_PEM, KID, "POST", T1_PATH, [("Idempotency-Key", T1_KEY)], T1_BODY
    )
    verify_independently(ours, T1_PAYLOAD)
    # randomized: two signatures differ, both verify
    again = signing.sign_request(
        PRIVATE_PEM, KID, "POST", T1_PATH, [("Idempotency-Key", T1_KEY)], T1_BODY
    )
    assert again != ours
    verify_independently(again, T1_PAYLOAD)


def test_signer_accepts_a_pkcs8_key() -> None:
    key = serialization.load_pem_private_key(PRIVATE_PEM.encode(), None)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    assert "BEGIN PRIVATE KEY" in pkcs8
    ours = signing.sign_request(pkcs8, KID, "POST", T1_PATH, [("Idempotency-Key", T1_KEY)], T1_BODY)
    verify_independently(ours, T1_PAYLOAD)


def test_signature_is_raw_r_s_not_der() -> None:
    ours = signing.sign_request(
        PRIVATE_PEM, KID, "POST", "/v3/payments", [("Idempotency-Key", "k")], b"{}"
    )
    raw = unb64(ours.split(".")[2])
    # 66 + 66 bytes; a DER SEQUENCE for P-521 would be 137 to 139 bytes
    assert len(raw) == 132
    verify_independently(ours, b"POST /v3/payments\nIdempotency-Key: k\n{}")


def test_the_unencoded_payload_trap() -> None:
    """PyJWT's is_payload_detached adds "b64": false and signs the raw payload: TrueLayer
    (and this adapter) refuse it."""
    token = api_jws.encode(
        T1_PAYLOAD,
        PRIVATE_PEM,
        algorithm="ES512",
        headers={"kid": KID, "tl_version": "2", "tl_headers": "Idempotency-Key"},
        is_payload_detached=True,
    )
    assert json.loads(unb64(token.split(".")[0]))["b64"] is False
    with pytest.raises(signing.SignatureError) as raised:
        signing.verify(token, PUBLIC_KEY, "POST", T1_PATH, {"Idempotency-Key": T1_KEY}, T1_BODY)
    assert raised.value.reason == "unsupported"
    with pytest.raises(InvalidSignature):
        verify_independently_b64(token)


def verify_independently_b64(token: str) -> None:
    header, _, raw = token.split(".")
    signature = unb64(raw)
    der = encode_dss_signature(
        int.from_bytes(signature[:66], "big"), int.from_bytes(signature[66:], "big")
    )
    PUBLIC_KEY.verify(der, f"{header}.{b64url(T1_PAYLOAD)}".encode(), ec.ECDSA(hashes.SHA512()))


# -- negative cases -------------------------------------------------------------------------


def _verify(signature: str, **changes: object) -> None:
    args: dict[str, object] = {
        "method": "POST",
        "path": T1_PATH,
        "headers": {"Idempotency-Key": T1_KEY},
        "body": T1_BODY,
    }
    args.update(changes)
    signing.verify(
        signature,
        PUBLIC_KEY,
        str(args["method"]),
        str(args["path"]),
        args["headers"],  # type: ignore[arg-type]
        args["body"],  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"body": T1_BODY.replace(b"5000000", b"5000001")}, "bad_signature"),
        (
            {"path": "/merchant_accounts/a61acaef-ee05-4077-92f3-25543a11bd8d/sweep"},
            "bad_signature",
        ),
        ({"method": "PUT"}, "bad_signature"),
        ({"headers": {"Idempotency-Key": "idemp-other"}}, "bad_signature"),
        ({"headers": {}}, "missing_header"),
    ],
)
def test_t1_negative(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(signing.SignatureError) as raised:
        _verify(T1, **changes)
    assert raised.value.reason == reason


def test_t1_header_lookup_is_case_insensitive_and_path_slash_tolerant() -> None:
    _verify(T1, headers={"idempotency-key": T1_KEY})
    _verify(T1, path=T1_PATH + "/")


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        ("an-invalid..signature", "malformed"),
        ("", "malformed"),
        (T1.replace("..", ".eyJ4IjoxfQ."), "malformed"),  # an attached payload
        (b64url(b'{"alg":"ES256","tl_version":"2"}') + "..AAAA", "unsupported"),
        (b64url(b'{"alg":"ES512","tl_version":"1"}') + "..AAAA", "unsupported"),
    ],
)
def test_malformed_signatures(signature: str, reason: str) -> None:
    with pytest.raises(signing.SignatureError) as raised:
        _verify(signature)
    assert raised.value.reason == reason


def test_wrong_key_does_not_verify() -> None:
    other = new_key()
    with pytest.raises(signing.SignatureError) as raised:
        signing.verify(
            T1, other.public_key(), "POST", T1_PATH, {"Idempotency-Key": T1_KEY}, T1_BODY
        )
    assert raised.value.reason == "bad_signature"


def test_der_encoded_signature_is_refused() -> None:
    """The other trap: a DER signature (what `cryptography` returns) is not JOSE's r||s."""
    key = serialization.load_pem_private_key(PRIVATE_PEM.encode(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    header = T1.split(".")[0]
    der = key.sign(f"{header}.{b64url(T1_PAYLOAD)}".encode(), ec.ECDSA(hashes.SHA512()))
    assert len(der) != 132  # a DER SEQUENCE, as `cryptography` returns it
    assert decode_dss_signature(der)[0] > 0
    with pytest.raises(signing.SignatureError) as raised:
        _verify(f"{header}..{b64url(der)}")
    assert raised.value.reason == "bad_signature"


def test_required_header_must_be_signed() -> None:
    with pytest.raises(signing.SignatureError) as raised:
        signing.verify(
            T1,
            PUBLIC_KEY,
            "POST",
            T1_PATH,
            {"Idempotency-Key": T1_KEY, "X-Tl-Webhook-Timestamp": "2021-11-29T11:42:55Z"},
            T1_BODY,
            required_headers=["X-Tl-Webhook-Timestamp"],
        )
    assert raised.value.reason == "malformed"
