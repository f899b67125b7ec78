"""Standard Webhooks (standardwebhooks.com) v1 signatures: HMAC-SHA256 over
"<webhook-id>.<webhook-timestamp>.<raw body>", sent as `webhook-signature: v1,<base64>`.

Used by the sandbox provider's webhooks and by gatewayhub's own webhooks to merchants.
Verification parses strictly, accepts several secrets (rotation) and several signatures in
the header, compares in constant time, and checks the timestamp on both sides of now.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime

from gatewayhub.provider import WebhookVerificationError

DEFAULT_TOLERANCE = 300  # seconds, either side of now


def secret_bytes(secret: str) -> bytes:
    """The HMAC key of a `whsec_...` secret (the prefix and base64 padding are optional)."""
    encoded = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(
            "a Standard Webhooks secret is base64, optionally prefixed whsec_"
        ) from exc


def _timestamp(value: int | str) -> int:
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and value.isdigit())
    ):
        raise ValueError(f"webhook timestamp must be a non-negative integer, got {value!r}")
    number = int(value)
    if number < 0:
        raise ValueError(f"webhook timestamp must be non-negative, got {value!r}")
    return number


def signature(secret: str, message_id: str, timestamp: int | str, body: bytes) -> str:
    """The base64 v1 signature of one message."""
    signed = f"{message_id}.{_timestamp(timestamp)}.".encode() + body
    return base64.b64encode(
        hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    ).decode()


def sign_headers(
    secret: str, message_id: str, timestamp: int, body: bytes, also: Sequence[str] = ()
) -> dict[str, str]:
    """The three headers a sender adds; `also`: more secrets to sign with (a rotated-out one
    still valid), each a space-separated signature of its own that receivers may match."""
    signatures = " ".join(
        f"v1,{signature(s, message_id, timestamp, body)}" for s in (secret, *also)
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(_timestamp(timestamp)),
        "webhook-signature": signatures,
    }


def verify(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    tolerance: int = DEFAULT_TOLERANCE,
) -> None:
    """Raise `WebhookVerificationError` unless one signature matches one secret and the
    timestamp is within `tolerance` seconds of `now`."""
    lowered = {k.lower(): v for k, v in headers.items()}
    message_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    header = lowered.get("webhook-signature")
    if not message_id or not stamp or not header:
        raise WebhookVerificationError(
            "missing_header", "webhook-id, -timestamp and -signature are required"
        )
    if not stamp.isdigit():
        raise WebhookVerificationError("malformed", "webhook-timestamp is not an integer")
    candidates = []
    for part in header.split():
        version, _, value = part.partition(",")
        if version == "v1" and value:
            candidates.append(value.encode())
    if not candidates:
        raise WebhookVerificationError("malformed", "no v1 signature in webhook-signature")
    matched = False
    for secret in secrets:
        expected = signature(secret, message_id, stamp, body).encode()
        for candidate in candidates:
            # Evaluate every comparison: the time taken must not depend on which one matches.
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise WebhookVerificationError(
            "bad_signature", "no signature matches any configured secret"
        )
    age = now.timestamp() - int(stamp)
    if abs(age) > tolerance:
        raise WebhookVerificationError(
            "expired", f"timestamp is {age:.0f}s away from now (tolerance {tolerance}s)"
        )
