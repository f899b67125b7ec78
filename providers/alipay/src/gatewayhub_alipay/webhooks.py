"""Alipay's asynchronous notifications (notify_url): an urlencoded form POST, RSA2-signed.

The signature covers the URL-DECODED fields, `sign` and `sign_type` removed, empty values
dropped, sorted, `k=v&...` (the same rule as requests). There is no timestamp window: a
notification is resent for about 25 hours with the same `notify_id` until it is answered
with the 7 bytes `success`, so freshness cannot be demanded; replays are harmless because
events are deduplicated by `notify_id` and applied as forward-only state changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from pydantic import ValidationError

from gatewayhub.provider import WebhookVerificationError
from gatewayhub_alipay import signing, wire

ACK = b"success"


def form_fields(body: bytes) -> dict[str, str]:
    """The notification's fields, decoded. A field that appears twice is refused: the signed
    string could not say which value was meant."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, encoding="utf-8")
    except (UnicodeDecodeError, ValueError):
        raise WebhookVerificationError("malformed", "not an urlencoded Alipay form") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise WebhookVerificationError("malformed", f"field {name!r} appears twice")
        fields[name] = value
    return fields


def verify(
    keys: Sequence[RSAPublicKey], body: bytes, app_id: str, seller_id: str | None
) -> dict[str, str]:
    """The fields of an authentic notification for this app; raises otherwise."""
    fields = form_fields(body)
    signature = fields.get("sign")
    if not signature:
        raise WebhookVerificationError("missing_header", "the notification has no sign field")
    if fields.get("sign_type", "RSA2") != "RSA2":
        raise WebhookVerificationError(
            "unsupported", f"sign_type {fields['sign_type']!r}: only RSA2 is accepted"
        )
    content = signing.notify_content(fields).encode("utf-8")
    if not signing.verify(keys, content, signature):
        raise WebhookVerificationError(
            "bad_signature", "the sign does not verify with any configured Alipay public key"
        )
    # Signed by Alipay, but possibly for another application or seller of the same key owner.
    if fields.get("app_id") != app_id:
        raise WebhookVerificationError("malformed", "the notification is for another app_id")
    if seller_id is not None and fields.get("seller_id") not in (None, seller_id):
        raise WebhookVerificationError("malformed", "the notification is for another seller_id")
    return fields


def notification(fields: dict[str, str]) -> wire.Notification:
    """The verified fields as a notification."""
    try:
        return wire.Notification.model_validate(fields)
    except ValidationError as exc:
        raise WebhookVerificationError(
            "malformed", f"not an Alipay notification: {exc.error_count()} missing fields"
        ) from None
