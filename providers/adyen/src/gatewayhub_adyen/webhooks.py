"""Adyen standard webhooks: HMAC signatures inside each notification item, and events.

Per docs.adyen.com/development-resources/webhooks/verify-hmac-signatures and the official
library (`Adyen/util.py`): for each `NotificationRequestItem`, the signed string is

    pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success

(missing fields as empty strings, values verbatim even when they contain ':' or '\\',
`value` as a decimal integer, `success` as sent, "true"/"false"); the signature is the
base64 HMAC-SHA256 of it under the HMAC key, a hex string decoded to bytes, and travels in
`additionalData.hmacSignature`. A webhook may batch several items: every one of them must
verify (the SDK helper looks at the first only). The scheme has no timestamp; replays are
harmless because events are deduplicated by pspReference, event code and success.
Adyen expects `[accepted]` back.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from gatewayhub.models import ProviderEvent
from gatewayhub.provider import WebhookVerificationError
from gatewayhub_adyen import transform, wire

ACK = b"[accepted]"
SIGNED_FIELDS = (
    "pspReference",
    "originalReference",
    "merchantAccountCode",
    "merchantReference",
    "value",
    "currency",
    "eventCode",
    "success",
)


def key_bytes(key: str) -> bytes:
    """The HMAC key as bytes: Adyen shows it as hex in the Customer Area."""
    try:
        return binascii.a2b_hex(key.strip())
    except (binascii.Error, ValueError) as exc:
        raise ValueError("an Adyen HMAC key is a hex string") from exc


def signing_string(item: Mapping[str, Any]) -> str:
    """The colon-joined string Adyen signs for one notification item."""
    amount = item.get("amount")
    amount = amount if isinstance(amount, Mapping) else {}
    values = {**item, "value": amount.get("value", ""), "currency": amount.get("currency", "")}
    parts = []
    for field in SIGNED_FIELDS:
        value = values.get(field)
        if value is None:
            parts.append("")
        elif isinstance(value, bool) or not isinstance(value, str | int):
            raise WebhookVerificationError("malformed", f"notification field {field} is not text")
        else:
            parts.append(str(value))
    return ":".join(parts)


def item_signature(key: str, item: Mapping[str, Any]) -> str:
    """The base64 `hmacSignature` of one item under a hex key."""
    digest = hmac.new(key_bytes(key), signing_string(item).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _items(body: bytes) -> tuple[str | None, list[Mapping[str, Any]]]:
    try:
        data = json.loads(body)
    except ValueError:
        raise WebhookVerificationError("malformed", "the body is not JSON") from None
    wrappers = data.get("notificationItems") if isinstance(data, dict) else None
    if not isinstance(wrappers, list) or not wrappers:
        raise WebhookVerificationError("malformed", "no notificationItems")
    items: list[Mapping[str, Any]] = []
    for wrapper in wrappers:
        item = wrapper.get("NotificationRequestItem") if isinstance(wrapper, dict) else None
        if not isinstance(item, dict):
            raise WebhookVerificationError("malformed", "an item without NotificationRequestItem")
        items.append(item)
    live = data.get("live")
    return (live if isinstance(live, str) else None), items


def verify(keys: Sequence[str], body: bytes, *, live: bool | None = None) -> None:
    """Raise `WebhookVerificationError` unless every item is signed under one of `keys`
    (several during a rotation). With `live`, a webhook from the other environment is
    refused too."""
    if not keys:
        raise WebhookVerificationError("unsupported", "no Adyen HMAC key is configured")
    flag, items = _items(body)
    if live is not None and flag is not None and (flag.lower() == "true") != live:
        raise WebhookVerificationError(
            "unsupported", f"a {'live' if flag.lower() == 'true' else 'test'} webhook here"
        )
    for index, item in enumerate(items):
        additional = item.get("additionalData")
        signature = additional.get("hmacSignature") if isinstance(additional, dict) else None
        if not isinstance(signature, str) or not signature:
            raise WebhookVerificationError(
                "missing_header", f"notification item {index} has no hmacSignature"
            )
        matched = False
        for key in keys:
            expected = item_signature(key, item)
            # No early exit: every key is compared, in constant time.
            matched |= hmac.compare_digest(expected.encode(), signature.encode())
        if not matched:
            raise WebhookVerificationError(
                "bad_signature", f"notification item {index}: hmacSignature does not match"
            )


def parse(body: bytes) -> list[ProviderEvent]:
    """One event per notification item of a verified webhook."""
    _, items = _items(body)
    try:
        return [transform.event(wire.NotificationItem.model_validate(item)) for item in items]
    except (ValidationError, ValueError) as exc:
        raise WebhookVerificationError("malformed", f"not an Adyen notification: {exc}") from None
