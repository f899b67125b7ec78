"""Checkout.com webhooks: `Cko-Signature`, the hex HMAC-SHA256 of the raw body.

The key is the `signature.key` configured on the workflow's webhook action, used as UTF-8
text (checkout.com/docs/workflows; NAS spec `webhook-action.yaml`). The signature is computed
over the bytes exactly as received: re-serialized JSON would change them. The scheme has no
timestamp, so there is no freshness window; replays are absorbed by the inbox, which stores
each event id once. An optional static `Authorization` header, configurable on the same
action, is compared too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence

from pydantic import ValidationError

from gatewayhub.models import ProviderEvent
from gatewayhub.money import MoneyError
from gatewayhub.provider import WebhookVerificationError
from gatewayhub_checkout import transform, wire

SIGNATURE_HEADER = "cko-signature"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def signature(secret: str, body: bytes) -> str:
    """The `Cko-Signature` value of `body` under `secret` (lower-case hex)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    authorization: str | None = None,
) -> None:
    """Raise `WebhookVerificationError` unless one of `secrets` signed `body`, and the
    `Authorization` header matches when one is configured."""
    received = _header(headers, SIGNATURE_HEADER)
    if received is None:
        raise WebhookVerificationError("missing_header", "no Cko-Signature header")
    received = received.strip().lower()
    if len(received) != 64 or any(c not in "0123456789abcdef" for c in received):
        raise WebhookVerificationError("malformed", "Cko-Signature is not a hex SHA-256 HMAC")
    if authorization is not None:
        sent = _header(headers, "authorization")
        if sent is None:
            raise WebhookVerificationError("missing_header", "no Authorization header")
        if not hmac.compare_digest(sent.encode(), authorization.encode()):
            raise WebhookVerificationError("bad_signature", "Authorization header mismatch")
    # Every candidate is compared (no early exit), so timing reveals nothing about which.
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(signature(secret, body), received)
    if not matched:
        raise WebhookVerificationError("bad_signature", "Cko-Signature does not match the body")


def parse(body: bytes) -> list[ProviderEvent]:
    """The single event of a Checkout.com webhook."""
    try:
        item = wire.Event.model_validate(json.loads(body))
        return [transform.event(item)]
    except (ValueError, ValidationError, MoneyError) as exc:
        raise WebhookVerificationError("malformed", f"not a Checkout.com event: {exc}") from None
