"""WeChat Pay notifications: a signed JSON envelope around an AES-256-GCM encrypted resource.

Verification is the same as for every API answer (`signing.verify`: platform key named by
`Wechatpay-Serial`, 5-minute window, raw body). Then the resource of the events we act on
(payment success, refund success/closed) is decrypted with the APIv3 key; other event types
are recorded unread. Answering HTTP 200 or 204 tells WeChat the notification arrived (it
ignores the body); anything else makes it resend for about 24 hours.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TypeVar

from cryptography.exceptions import InvalidTag
from pydantic import BaseModel, ValidationError

from gatewayhub.models import ProviderEvent
from gatewayhub.provider import WebhookVerificationError
from gatewayhub_wechatpay import signing, transform, wire
from gatewayhub_wechatpay.keys import PlatformKeys

ALGORITHM = "AEAD_AES_256_GCM"
M = TypeVar("M", bound=BaseModel)


def lower(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names are case-insensitive; the checks read lower-case names."""
    return {name.lower(): value for name, value in headers.items()}


def verify(platform: PlatformKeys, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
    """Raise unless the notification is signed by a configured platform key and fresh."""
    signing.verify(platform, lower(headers), body, now)


def _envelope(body: bytes) -> wire.Notification:
    try:
        return wire.Notification.model_validate_json(body)
    except ValidationError as exc:
        raise WebhookVerificationError(
            "malformed", f"not a WeChat Pay notification: {exc.error_count()} errors"
        ) from None


def _plaintext(note: wire.Notification, apiv3_key: bytes, model: type[M]) -> M:
    resource = note.resource
    if resource.algorithm != ALGORITHM:
        raise WebhookVerificationError("unsupported", f"resource algorithm {resource.algorithm}")
    try:
        plain = signing.decrypt(
            apiv3_key, resource.nonce, resource.ciphertext, resource.associated_data
        )
    except (InvalidTag, ValueError):
        raise WebhookVerificationError(
            "bad_signature", "the resource does not decrypt with the configured APIv3 key"
        ) from None
    try:
        return model.model_validate(json.loads(plain))
    except (ValueError, ValidationError):
        raise WebhookVerificationError(
            "malformed", f"the decrypted {note.event_type} resource is not readable"
        ) from None


def parse(body: bytes, apiv3_key: bytes) -> list[ProviderEvent]:
    """The single event of a verified notification."""
    note = _envelope(body)
    if note.event_type in transform.PAYMENT_EVENTS:
        return [transform.payment_event(note, _plaintext(note, apiv3_key, wire.Transaction))]
    if note.event_type in transform.REFUND_EVENTS:
        return [transform.refund_event(note, _plaintext(note, apiv3_key, wire.RefundResource))]
    return [transform.unhandled_event(note)]
