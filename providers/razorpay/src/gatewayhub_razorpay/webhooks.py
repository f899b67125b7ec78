"""Razorpay webhooks: `X-Razorpay-Signature` is the hex HMAC-SHA256 of the raw body with the
webhook secret (set per webhook in the Dashboard; not the API key secret).

The scheme has no timestamp header. Replays of a stored event are stopped by the inbox
(deduplicated on `X-Razorpay-Event-Id`); replays of old events are refused by their signed
`created_at`: Razorpay retries for 24 hours after the event, so an older event can only be
a replay.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from gatewayhub.models import ProviderEvent
from gatewayhub.provider import WebhookVerificationError
from gatewayhub_razorpay import transform, wire
from gatewayhub_razorpay.signatures import webhook_signature_matches

SIGNATURE_HEADER = "x-razorpay-signature"
EVENT_ID_HEADER = "x-razorpay-event-id"
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
# Events are signed when created; allow a little clock skew the other way.
_FUTURE_SKEW = timedelta(minutes=5)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name (frameworks hand headers in any casing)."""
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _load(body: bytes) -> wire.Event:
    try:
        return wire.Event.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        raise WebhookVerificationError("malformed", f"not a Razorpay event: {exc}") from None


def _created_at(body: bytes) -> int:
    try:
        return wire.EventTime.model_validate_json(body).created_at
    except ValidationError as exc:
        raise WebhookVerificationError("malformed", f"not a Razorpay event: {exc}") from None


def verify(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    max_age: timedelta | None,
) -> None:
    """Raise unless one of `secrets` signed `body` and the event is not older than
    `max_age` (None: no age limit)."""
    signature = header(headers, SIGNATURE_HEADER)
    if signature is None:
        raise WebhookVerificationError("missing_header", "no X-Razorpay-Signature header")
    signature = signature.strip()
    if not _HEX_SHA256.fullmatch(signature):
        raise WebhookVerificationError(
            "malformed", "X-Razorpay-Signature is not a lowercase hex SHA-256 HMAC"
        )
    # Every secret is tried (no early exit), so timing does not tell which one matched.
    matched = [webhook_signature_matches(secret, body, signature) for secret in secrets]
    if not any(matched):
        raise WebhookVerificationError("bad_signature", "X-Razorpay-Signature does not match")
    if max_age is None:
        return
    created = datetime.fromtimestamp(_created_at(body), UTC)
    if created < now - max_age or created > now + _FUTURE_SKEW:
        raise WebhookVerificationError(
            "expired", f"event created at {created.isoformat()}, outside the accepted window"
        )


def event_id(headers: Mapping[str, str], body: bytes) -> str:
    """`X-Razorpay-Event-Id`, unique per event and repeated on retries; without it, a
    digest of the signed body (a retry carries the same body)."""
    given = header(headers, EVENT_ID_HEADER)
    if given:
        return given.strip()
    return "sha256:" + hashlib.sha256(body).hexdigest()


def parse(headers: Mapping[str, str], body: bytes) -> list[ProviderEvent]:
    """The single event of a Razorpay webhook."""
    return [transform.event(_load(body), event_id(headers, body))]
