"""TrueLayer's `Tl-Signature` (request signing v2): a JWS with a detached payload, ES512.

The signed payload is built from the request, never sent as such:

    "{METHOD} {path}\\n" + "{Name}: {value}\\n" for each name in `tl_headers`, in order + body

and the header value is `b64url(jose_header) + ".." + b64url(signature)`. The JOSE header is
`{"alg": "ES512", "kid": ..., "tl_version": "2", "tl_headers": "Idempotency-Key"}` (webhooks
add `jku`). Two traps, both handled by PyJWT used this way: the ES512 signature is the raw
`r || s` (66 + 66 bytes), not DER; and the payload is *not* "unencoded" (`b64` must stay
absent: TrueLayer signs `b64url(header).b64url(payload)`), so the payload is attached for
signing and verifying and its segment dropped afterwards.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from jwt import api_jws

ALGORITHM = "ES512"
TL_VERSION = "2"


class SignatureError(ValueError):
    """A `Tl-Signature` that is malformed or does not verify. `reason` is short."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signing_payload(
    method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
) -> bytes:
    """The bytes TrueLayer signs for a request: method, path, the listed headers in order
    (names as listed), then the body."""
    lines = f"{method.upper()} {path}\n" + "".join(f"{name}: {value}\n" for name, value in headers)
    return lines.encode() + body


def sign_request(
    private_key_pem: str,
    key_id: str,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
) -> str:
    """The `Tl-Signature` value for a request, signed with the merchant's EC P-521 key."""
    jose = {
        # PyJWT adds "typ": "JWT" unless told not to; TrueLayer's header has no typ.
        "typ": None,
        "kid": key_id,
        "tl_version": TL_VERSION,
        "tl_headers": ",".join(name for name, _ in headers),
    }
    token = api_jws.encode(
        signing_payload(method, path, headers, body),
        private_key_pem,
        algorithm=ALGORITHM,
        headers=jose,
        sort_headers=False,
    )
    header, _payload, signature = token.split(".")
    return f"{header}..{signature}"


def unverified_header(signature: str) -> dict[str, Any]:
    """The JOSE header of a detached JWS, parsed strictly but not verified."""
    parts = signature.strip().split(".")
    if len(parts) != 3 or parts[1] != "" or not parts[0] or not parts[2]:
        raise SignatureError("malformed", "Tl-Signature is not a detached JWS (header..signature)")
    try:
        raw = base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4))
        header = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("malformed", f"Tl-Signature header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise SignatureError("malformed", "Tl-Signature header is not a JSON object")
    if header.get("alg") != ALGORITHM:
        raise SignatureError("unsupported", f"Tl-Signature alg {header.get('alg')!r} is not ES512")
    if str(header.get("tl_version", "")) != TL_VERSION:
        raise SignatureError("unsupported", "Tl-Signature is not tl_version 2")
    if "b64" in header:
        raise SignatureError("unsupported", "Tl-Signature must not use an unencoded payload")
    return header


def signed_header_names(header: Mapping[str, Any]) -> list[str]:
    """The header names `tl_headers` lists, in order, as listed."""
    listed = header.get("tl_headers", "")
    if not isinstance(listed, str):
        raise SignatureError("malformed", "tl_headers is not a string")
    return [name.strip() for name in listed.split(",") if name.strip()]


def _lookup(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def verify(
    signature: str,
    public_key: EllipticCurvePublicKey,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    required_headers: Sequence[str] = (),
) -> dict[str, Any]:
    """Verify a `Tl-Signature` over the request; returns its JOSE header.

    Headers are looked up case-insensitively but signed with the casing `tl_headers` lists;
    every name in `required_headers` must be among the signed ones. Like TrueLayer's own
    verifiers, the path is also tried with or without one trailing slash."""
    header = unverified_header(signature)
    names = signed_header_names(header)
    signed = {name.lower() for name in names}
    for required in required_headers:
        if required.lower() not in signed:
            raise SignatureError("malformed", f"Tl-Signature does not sign {required}")
    pairs = []
    for name in names:
        value = _lookup(headers, name)
        if value is None:
            raise SignatureError("missing_header", f"signed header {name} is missing")
        pairs.append((name, value))
    segments = signature.strip().split(".")
    alternative = path[:-1] if path.endswith("/") else path + "/"
    for candidate in (path, alternative):
        payload = _b64url(signing_payload(method, candidate, pairs, body))
        try:
            api_jws.decode_complete(
                f"{segments[0]}.{payload}.{segments[2]}", public_key, algorithms=[ALGORITHM]
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise SignatureError("malformed", f"Tl-Signature cannot be checked: {exc}") from None
        return header
    raise SignatureError("bad_signature", "Tl-Signature does not verify")
