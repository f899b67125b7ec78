"""Stripe webhook signatures (`Stripe-Signature`) and events.

The scheme, as stripe-python's `WebhookSignature` implements it: the header is
`t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]`; each `v1` is the lowercase hex
HMAC-SHA256, keyed with the whole endpoint secret string (`whsec_` prefix included), of
`"<t>." + raw body`. A webhook is authentic when any `v1` matches the HMAC under any of our
secrets (rotation); other schemes are ignored. The header is parsed strictly, every
candidate is compared in constant time, and the timestamp is checked last: older than the
tolerance is refused (like the SDK, a timestamp ahead of our clock is not).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import ValidationError

from gatewayhub.models import ProviderEvent
from gatewayhub.provider import WebhookVerificationError
from gatewayhub_stripe import transform, wire

HEADER = "stripe-signature"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name."""
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def parse_header(value: str) -> tuple[int, list[str]]:
    """The timestamp and the `v1` signatures of a `Stripe-Signature` header."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in value.split(","):
        key, sep, text = item.strip().partition("=")
        if not sep:
            raise WebhookVerificationError("malformed", "Stripe-Signature item without '='")
        if key == "t":
            if not text.isdigit():
                raise WebhookVerificationError("malformed", "Stripe-Signature t is not a number")
            timestamp = int(text)
        elif key == SCHEME:
            signatures.append(text)
    if timestamp is None:
        raise WebhookVerificationError("malformed", "Stripe-Signature has no timestamp")
    if not signatures:
        raise WebhookVerificationError(
            "bad_signature", "no signatures found with expected scheme v1"
        )
    return timestamp, signatures


def expected_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `v1` value Stripe sends for `body` at `timestamp` under `secret`."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    tolerance: int = DEFAULT_TOLERANCE,
) -> int:
    """Raise `WebhookVerificationError` unless `body` is signed by one of `secrets` and not
    older than `tolerance` seconds (0 disables the age check). Returns the timestamp."""
    if not secrets:
        raise WebhookVerificationError("unsupported", "no Stripe webhook secret is configured")
    value = header_value(headers, HEADER)
    if not value:
        raise WebhookVerificationError("missing_header", "no Stripe-Signature header")
    timestamp, signatures = parse_header(value)
    matched = False
    for secret in secrets:
        expected = expected_signature(secret, timestamp, body)
        for candidate in signatures:
            # No early exit: every candidate is compared, in constant time.
            matched |= hmac.compare_digest(expected.encode(), candidate.encode())
    if not matched:
        raise WebhookVerificationError(
            "bad_signature", "no Stripe-Signature v1 matches the payload under any secret"
        )
    if tolerance > 0 and timestamp < now.timestamp() - tolerance:
        raise WebhookVerificationError(
            "expired", f"Stripe-Signature timestamp is older than {tolerance}s"
        )
    return timestamp


def parse(body: bytes, *, livemode: bool | None = None) -> list[ProviderEvent]:
    """The events of a verified webhook body. Thin events (`v2.core.event`) and events of
    the other mode (a live event at a test account) are refused."""
    try:
        data = json.loads(body)
    except ValueError:
        raise WebhookVerificationError("malformed", "the body is not JSON") from None
    if isinstance(data, dict) and data.get("object") == "v2.core.event":
        raise WebhookVerificationError("unsupported", "thin events (v2) are not handled")
    try:
        item = wire.Event.model_validate(data)
        if livemode is not None and item.livemode is not None and item.livemode != livemode:
            raise WebhookVerificationError(
                "unsupported", f"a {'live' if item.livemode else 'test'}-mode event here"
            )
        return transform.events(item)
    except (ValidationError, ValueError) as exc:
        raise WebhookVerificationError("malformed", f"not a Stripe event: {exc}") from None
