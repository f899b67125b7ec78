"""TrueLayer webhooks: `Tl-Signature` is a detached ES512 JWS over `POST {path}`, the headers
its `tl_headers` lists (`X-Tl-Webhook-Timestamp` must be one) and the raw body. Its header
names the signing key: `jku` (the JWKS URL; only allow-listed URLs are trusted, by exact
match) and `kid`. `X-TL-Webhook-Timestamp` must be within the tolerance of now.

Fetching the JWKS is I/O and happens first (`TrueLayerProvider.refresh_signing_keys`, run by
`verify_webhook_async`); verification itself only reads the key cache.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from pydantic import ValidationError

from gatewayhub.models import ProviderEvent
from gatewayhub.provider import WebhookVerificationError
from gatewayhub_truelayer import signing, transform, wire
from gatewayhub_truelayer.jwks import KeyCache

SIGNATURE_HEADERS = ("tl-signature", "x-tl-signature")  # the second is the legacy name
TIMESTAMP_HEADER = "X-Tl-Webhook-Timestamp"


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def signature(headers: Mapping[str, str]) -> str | None:
    """The `Tl-Signature` header (or its legacy `X-Tl-Signature` name)."""
    for name in SIGNATURE_HEADERS:
        value = header(headers, name)
        if value is not None:
            return value
    return None


def key_reference(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """(jku, kid) named by the webhook's signature, when it can be read at all."""
    given = signature(headers)
    if given is None:
        return None
    try:
        jose = signing.unverified_header(given)
    except signing.SignatureError:
        return None
    jku, kid = jose.get("jku"), jose.get("kid")
    if isinstance(jku, str) and isinstance(kid, str):
        return jku, kid
    return None


def _timestamp(value: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise WebhookVerificationError(
            "malformed", f"{TIMESTAMP_HEADER} is not an ISO 8601 time"
        ) from None
    if stamp.tzinfo is None:
        raise WebhookVerificationError("malformed", f"{TIMESTAMP_HEADER} has no time zone")
    return stamp


def verify(
    headers: Mapping[str, str],
    body: bytes,
    *,
    path: str,
    keys: KeyCache,
    allowed_jkus: Collection[str],
    now: datetime,
    tolerance: timedelta,
) -> None:
    """Raise unless TrueLayer signed this webhook (with a key from an allowed `jku`) and
    its timestamp is within `tolerance` of `now`."""
    given = signature(headers)
    if given is None:
        raise WebhookVerificationError("missing_header", "no Tl-Signature header")
    try:
        jose = signing.unverified_header(given)
    except signing.SignatureError as exc:
        raise WebhookVerificationError(exc.reason, str(exc)) from None
    jku, kid = jose.get("jku"), jose.get("kid")
    if not isinstance(jku, str) or not isinstance(kid, str):
        raise WebhookVerificationError("malformed", "Tl-Signature header lacks jku or kid")
    if jku not in allowed_jkus:
        raise WebhookVerificationError("bad_signature", f"jku {jku!r} is not an allowed JWKS URL")
    key = keys.key(jku, kid)
    if key is None:
        raise WebhookVerificationError("bad_signature", f"no key {kid!r} at {jku}")
    try:
        signing.verify(given, key, "POST", path, headers, body, required_headers=[TIMESTAMP_HEADER])
    except signing.SignatureError as exc:
        raise WebhookVerificationError(exc.reason, str(exc)) from None
    sent = header(headers, TIMESTAMP_HEADER)
    if sent is None:  # signed, so present; kept for the type checker and for safety
        raise WebhookVerificationError("missing_header", f"no {TIMESTAMP_HEADER} header")
    if abs(now - _timestamp(sent)) > tolerance:
        raise WebhookVerificationError("expired", f"{TIMESTAMP_HEADER} {sent} is too far from now")


def parse(body: bytes) -> list[ProviderEvent]:
    """The single event of a TrueLayer webhook."""
    try:
        item = wire.Event.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        raise WebhookVerificationError("malformed", f"not a TrueLayer webhook: {exc}") from None
    return [transform.event(item)]
